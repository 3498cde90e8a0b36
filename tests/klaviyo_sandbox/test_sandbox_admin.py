"""The admin shows sandbox accounts, resources and OAuth apps, never a secret or its hash."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.klaviyo_sandbox.models import SandboxOAuthToken, SandboxResource
from integrations.klaviyo_sandbox.oauth.server import (
    grant_create,
    oauth_client_create,
    s256,
    token_from_code,
)
from integrations.klaviyo_sandbox.services import sandbox_account_create


@pytest.mark.django_db
def test_admin_pages_never_show_keys_or_their_hashes(admin_client):
    account, key = sandbox_account_create(name="Admin view", seed=False)
    client, secret = oauth_client_create(name="App", redirect_uris=["https://app.example.com/cb"])
    code = grant_create(
        client=client,
        account=account,
        redirect_uri="https://app.example.com/cb",
        scopes=["lists:read"],
        code_challenge=s256("v" * 50),
    )
    tokens = token_from_code(
        client=client, code=code, redirect_uri="https://app.example.com/cb", code_verifier="v" * 50
    )
    webhook = SandboxResource.objects.create(
        account=account, type="webhook", resource_id="W1", internal={"secret_key": "whsec_123"}
    )
    token = SandboxOAuthToken.objects.filter(kind="access").first()
    pages = [
        reverse("admin:klaviyo_sandbox_sandboxaccount_changelist"),
        reverse("admin:klaviyo_sandbox_sandboxaccount_change", args=[account.pk]),
        reverse("admin:klaviyo_sandbox_sandboxresource_change", args=[webhook.pk]),
        reverse("admin:klaviyo_sandbox_sandboxoauthclient_change", args=[client.pk]),
        reverse("admin:klaviyo_sandbox_sandboxoauthtoken_change", args=[token.pk]),
        reverse("admin:klaviyo_sandbox_sandboxoauthgrant_changelist"),
    ]
    secrets = [key, account.api_key_hash, secret, client.client_secret_hash, code, token.token_hash]
    secrets += [tokens["access_token"], tokens["refresh_token"], "whsec_123"]
    for url in pages:
        page = admin_client.get(url)
        assert page.status_code == 200, url
        text = page.content.decode()
        assert not [s for s in secrets if s in text], url
    account_page = admin_client.get(pages[1]).content.decode()
    assert f"pk_sandbox_…{key[-4:]}" in account_page


@pytest.mark.parametrize(
    "text",
    ["[" * 5000 + "]" * 5000, '{"a": "\\u0000"}', '{"a": NaN}', "1" * 30],
    ids=["nested 5000 deep", "escaped NUL", "NaN", "30 digits"],
)
@pytest.mark.django_db
def test_resource_json_the_database_cannot_store_is_a_form_error(admin_client, text):
    admin_client.raise_request_exception = False
    account, _ = sandbox_account_create(name="Admin view", seed=False)
    form = {
        "account": account.pk,
        "type": "list",
        "resource_id": "L1",
        "relationships": '{"tags": []}',
    }
    form |= {"attributes": text, "created_0": "2026-01-01", "created_1": "10:00:00"}
    form |= {"updated_0": "2026-01-01", "updated_1": "10:00:00"}
    page = admin_client.post(reverse("admin:klaviyo_sandbox_sandboxresource_add"), form)
    assert page.status_code == 200, page.content[:300]
    assert page.context["adminform"].form.errors.keys() == {"attributes"}
    assert not SandboxResource.objects.filter(resource_id="L1").exists()


@pytest.mark.parametrize(
    "query",
    [{"q": "x" * 100_000}, {"type": "a\x00b"}, {"q": "a\x00b"}],
    ids=["long", "NUL", "q NUL"],
)
@pytest.mark.django_db
def test_a_changelist_query_no_database_answers_is_a_400(admin_client, query):
    admin_client.raise_request_exception = False
    page = admin_client.get(reverse("admin:klaviyo_sandbox_sandboxresource_changelist"), query)
    assert page.status_code == 400
