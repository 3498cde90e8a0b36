"""Connecting Klaviyo: API keys checked by Klaviyo, OAuth2 with PKCE, health, isolation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection as db
from django.urls import reverse
from django.utils import timezone

from builder.models import Membership
from integrations import services
from integrations.auth import oauth
from integrations.klaviyo.errors import KlaviyoOAuthError
from integrations.models import Connection, ConnectionEvent
from integrations.records import mark_failed
from integrations.selectors import missing_scopes
from integrations.services import connection_run_action
from integrations.tasks import connection_check
from tests.conftest import query_of

pytestmark = pytest.mark.django_db(transaction=True)


def add_api_key(client, key: str, name: str = ""):
    return client.post(reverse("connection_add_api_key"), {"key-name": name, "key-api_key": key})


def raw_row(pk: int) -> str:
    with db.cursor() as cursor:
        cursor.execute("SELECT * FROM integrations_connection WHERE id = %s", [pk])
        return repr(cursor.fetchone())


# --- API key -----------------------------------------------------------------------------------


def test_an_api_key_is_checked_with_klaviyo_and_stored_encrypted(client_for, alice, sandbox_key):
    response = add_api_key(client_for(alice), sandbox_key)
    connection = Connection.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("connection_detail", args=[connection.pk])
    assert connection.account_name == "Acme Store"
    assert connection.name == "Acme Store"
    assert connection.status == Connection.Status.HEALTHY
    assert connection.public_key  # read from GET /api/accounts
    assert connection.key_hint == f"pk_…{sandbox_key[-4:]}"
    assert sandbox_key not in raw_row(connection.pk)
    assert connection.events.get().kind == ConnectionEvent.Kind.CREATED


def test_the_key_is_never_shown_again(client_for, alice, sandbox_key):
    client = client_for(alice)
    add_api_key(client, sandbox_key)
    connection = Connection.objects.get()
    for url in (reverse("connection_list"), reverse("connection_detail", args=[connection.pk])):
        page = client.get(url).content.decode()
        assert sandbox_key not in page
        assert connection.key_hint in page


def test_a_wrong_key_is_refused_with_klaviyos_reason_and_nothing_saved(client_for, alice, sandbox):
    response = add_api_key(client_for(alice), "pk_sandbox_this_key_does_not_exist")
    assert response.status_code == 200
    error = response.context["forms"]["api_key"].errors["api_key"][0]
    assert error.startswith("Klaviyo did not accept this key:")
    assert "401" in error or "API key" in error
    assert not Connection.objects.exists()


def test_an_unreachable_klaviyo_is_a_form_error_too(client_for, alice, settings):
    settings.KLAVIYO_BASE_URL = "http://127.0.0.1:9"
    response = add_api_key(client_for(alice), "pk_live_0123456789abcdef")
    assert "Could not connect" in response.context["forms"]["api_key"].errors["api_key"][0]
    assert not Connection.objects.exists()


def test_replacing_a_key_heals_a_connection(client_for, alice, sandbox_key):
    client = client_for(alice)
    add_api_key(client, sandbox_key)
    connection = Connection.objects.get()
    connection.secret = {"api_key": "pk_sandbox_revoked_key_000"}
    connection.save()
    services.connection_test(connection=connection)
    assert connection.status == Connection.Status.NEEDS_RECONNECT
    page = client.get(reverse("connection_detail", args=[connection.pk])).content.decode()
    assert "needs to be reconnected" in page
    client.post(
        reverse("connection_replace_key", args=[connection.pk]), {"key-api_key": sandbox_key}
    )
    connection.refresh_from_db()
    assert connection.status == Connection.Status.HEALTHY


def test_test_now_records_the_check(client_for, alice, sandbox_key):
    client = client_for(alice)
    add_api_key(client, sandbox_key)
    connection = Connection.objects.get()
    response = client.post(
        reverse("connection_test", args=[connection.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "Healthy" in response.content.decode()
    assert connection.events.filter(kind=ConnectionEvent.Kind.TESTED, user=alice).exists()


def test_rename(client_for, alice, sandbox_key):
    client = client_for(alice)
    add_api_key(client, sandbox_key)
    connection = Connection.objects.get()
    client.post(reverse("connection_rename", args=[connection.pk]), {"rename-name": "EU store"})
    connection.refresh_from_db()
    assert connection.name == "EU store"
    assert connection.events.filter(kind=ConnectionEvent.Kind.RENAMED).exists()


def test_the_sandbox_kind_creates_its_own_account_with_demo_data(client_for, alice, sandbox):
    response = client_for(alice).post(
        reverse("connection_add_sandbox"), {"sandbox-name": "Playground"}
    )
    connection = Connection.objects.get()
    assert response.url == reverse("connection_detail", args=[connection.pk])
    assert connection.kind == Connection.Kind.SANDBOX
    assert connection.status == Connection.Status.HEALTHY
    connection = services.connection_test(connection=connection)
    assert connection.status == Connection.Status.HEALTHY, connection.status_message


def test_resetting_a_sandbox_restores_the_demo_data(client_for, alice, sandbox):
    client = client_for(alice)
    client.post(reverse("connection_add_sandbox"), {"sandbox-name": "Playground"})
    connection = Connection.objects.get()
    lists = connection_run_action(
        connection=connection, key="KLAVIYO_GET_LISTS", params={"fetch_all": True}
    )
    assert lists.successful, lists.error
    before = len(lists.data["data"])
    deleted = connection_run_action(
        connection=connection,
        key="KLAVIYO_DELETE_LIST",
        params={"list_id": lists.data["data"][0]["id"]},
    )
    assert deleted.successful, deleted.error
    assert (
        len(
            connection_run_action(
                connection=connection, key="KLAVIYO_GET_LISTS", params={"fetch_all": True}
            ).data["data"]
        )
        == before - 1
    )

    client.post(reverse("connection_sandbox_reset", args=[connection.pk]))
    assert (
        len(
            connection_run_action(
                connection=connection, key="KLAVIYO_GET_LISTS", params={"fetch_all": True}
            ).data["data"]
        )
        == before
    )
    assert connection.events.filter(kind=ConnectionEvent.Kind.RESET, user=alice).exists()
    connection.refresh_from_db()
    assert connection.last_used_at is not None


def test_a_workspace_has_a_limited_number_of_sandboxes(client_for, alice, sandbox, settings):
    settings.KLAVIYO_SANDBOX_MAX_PER_WORKSPACE = 1
    client = client_for(alice)
    client.post(reverse("connection_add_sandbox"), {"sandbox-name": "One"})
    response = client.post(reverse("connection_add_sandbox"), {"sandbox-name": "Two"})
    assert response.status_code == 200
    assert "already has 1 sandboxes" in response.content.decode()
    assert Connection.objects.count() == 1


# --- OAuth2 ------------------------------------------------------------------------------------


def start_oauth(client, preset: str = "full") -> dict[str, str]:
    response = client.post(
        reverse("connection_add_oauth"), {"oauth-name": "", "oauth-preset": preset}
    )
    assert response.status_code == 302, response.content
    return query_of(response.url)


def approve(
    client, params: dict[str, str], decision: str = "approve", key: str | None = None
) -> dict[str, str]:
    """Answer the sandbox's consent page: a new sandbox account, or the one `key` opens."""
    grant = {"account": "existing", "private_key": key} if key else {"account": "new"}
    response = client.post(
        reverse("klaviyo_sandbox:oauth_authorize"), {**params, **grant, "decision": decision}
    )
    assert response.status_code == 302, response.content
    return query_of(response.url)


def finish(client, answer: dict[str, str]):
    return client.get(reverse("connection_oauth_callback"), answer, follow=True)


def connect_with_oauth(client, preset: str = "full") -> Connection:
    finish(client, approve(client, start_oauth(client, preset)))
    return Connection.objects.get(kind=Connection.Kind.OAUTH2)


def test_oauth_sends_pkce_s256_and_a_state(client_for, alice, oauth_app):
    params = start_oauth(client_for(alice))
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 32
    assert params["client_id"] == oauth_app["client_id"]
    assert "lists:write" in params["scope"].split()


def test_oauth_full_flow_stores_encrypted_tokens_and_scopes(client_for, alice, oauth_app):
    client = client_for(alice)
    connection = connect_with_oauth(client, preset="read")
    assert connection.status == Connection.Status.HEALTHY
    assert connection.account_name
    assert connection.token_expires_at > timezone.now()
    assert all(scope.endswith(":read") for scope in connection.scopes)
    assert connection.secret["access_token"] not in raw_row(connection.pk)
    assert connection.secret["refresh_token"] not in raw_row(connection.pk)
    page = client.get(reverse("connection_detail", args=[connection.pk])).content.decode()
    assert "need scopes this connection was not granted" in page


def test_a_state_mismatch_is_rejected(client_for, alice, oauth_app):
    client = client_for(alice)
    answer = approve(client, start_oauth(client))
    page = finish(client, {**answer, "state": "forged"}).content.decode()
    assert "does not belong to a connection started in this browser" in page
    assert not Connection.objects.exists()


def test_the_pkce_verifier_is_checked(client_for, alice, oauth_app):
    client = client_for(alice)
    answer = approve(client, start_oauth(client))
    session = client.session
    session["klaviyo_oauth"]["code_verifier"] = "x" * 64  # not the one the challenge came from
    session.save()
    page = finish(client, answer).content.decode()
    assert "no longer accepts this connection&#x27;s authorization" in page
    assert not Connection.objects.exists()


def test_denying_access_connects_nothing(client_for, alice, oauth_app):
    client = client_for(alice)
    answer = approve(client, start_oauth(client), decision="deny")
    assert answer["error"] == "access_denied"
    page = finish(client, answer).content.decode()
    assert "You declined the authorization in Klaviyo" in page
    assert not Connection.objects.exists()


def test_tokens_are_refreshed_before_they_expire(client_for, alice, oauth_app):
    connection = connect_with_oauth(client_for(alice))
    old = connection.secret["access_token"]
    connection.token_expires_at = timezone.now() + timedelta(seconds=30)
    connection.save()
    connection = services.connection_test(connection=connection)
    assert connection.status == Connection.Status.HEALTHY
    assert connection.secret["access_token"] != old
    assert connection.token_expires_at > timezone.now() + timedelta(minutes=10)
    assert connection.events.filter(kind=ConnectionEvent.Kind.REFRESHED).exists()


def test_a_401_refreshes_once_and_retries(client_for, alice, oauth_app):
    connection = connect_with_oauth(client_for(alice))
    connection.secret = {**connection.secret, "access_token": "expired-or-forged"}
    connection.save()
    connection = services.connection_test(connection=connection)
    assert connection.status == Connection.Status.HEALTHY
    assert connection.secret["access_token"] != "expired-or-forged"
    assert connection.events.filter(kind=ConnectionEvent.Kind.REFRESHED).count() == 1


def test_invalid_grant_asks_for_a_reconnect(client_for, alice, oauth_app, sandbox_key):
    client = client_for(alice)
    finish(client, approve(client, start_oauth(client), key=sandbox_key))
    connection = Connection.objects.get()
    oauth.token_revoke(oauth.oauth_app(), token=connection.secret["refresh_token"])
    connection.token_expires_at = timezone.now()
    connection.save()
    connection = services.connection_test(connection=connection)
    assert connection.status == Connection.Status.NEEDS_RECONNECT
    page = client.get(reverse("connection_detail", args=[connection.pk])).content.decode()
    assert 'data-testid="reconnect-banner"' in page
    assert "Reconnect it." in page
    assert "[invalid_grant]" in connection.events.first().message  # the code stays in the log

    # Reconnecting authorizes the same account again and heals the same connection.
    response = client.post(reverse("connection_reconnect", args=[connection.pk]))
    finish(client, approve(client, query_of(response.url), key=sandbox_key))
    connection.refresh_from_db()
    assert connection.status == Connection.Status.HEALTHY
    assert Connection.objects.count() == 1
    assert connection.events.filter(kind=ConnectionEvent.Kind.RECONNECTED).exists()


def test_reconnecting_to_another_klaviyo_account_is_refused(
    client_for, alice, oauth_app, sandbox_key
):
    client = client_for(alice)
    finish(client, approve(client, start_oauth(client), key=sandbox_key))
    connection = Connection.objects.get()
    response = client.post(reverse("connection_reconnect", args=[connection.pk]))
    page = finish(client, approve(client, query_of(response.url))).content.decode()  # a new one
    assert "but this connection is for Acme Store" in page
    connection.refresh_from_db()
    assert connection.account_name == "Acme Store"
    assert not connection.events.filter(kind=ConnectionEvent.Kind.RECONNECTED).exists()


def test_a_stray_callback_does_not_cancel_the_pending_authorization(client_for, alice, oauth_app):
    client = client_for(alice)
    answer = approve(client, start_oauth(client))
    finish(client, {"code": "forged", "state": "forged"})
    finish(client, answer)
    assert Connection.objects.filter(kind=Connection.Kind.OAUTH2).count() == 1


def test_switching_workspace_mid_authorization_connects_nothing(
    client_for, bob, alice_workspace, oauth_app
):
    client = client_for(bob, workspace=alice_workspace)
    answer = approve(client, start_oauth(client))
    own = Membership.objects.get(user=bob, role=Membership.Role.OWNER).workspace
    client.post(reverse("workspace_switch", args=[own.pk]))
    page = finish(client, answer).content.decode()
    assert "You switched workspaces" in page
    assert not Connection.objects.exists()


def test_a_disconnect_is_not_undone_by_a_check_that_was_running(client_for, alice, sandbox_key):
    add_api_key(client_for(alice), sandbox_key)
    checking = Connection.objects.get()  # a health check loaded it ...
    services.connection_disconnect(connection=Connection.objects.get(), user=alice)  # ... then
    services.connection_test(connection=checking)
    stored = Connection.objects.get()
    assert stored.status == Connection.Status.REVOKED
    assert stored.secret == {}
    failing = Connection.objects.get()
    mark_failed(failing, Connection.Status.FAILING, "timeout", None)
    assert Connection.objects.get().status == Connection.Status.REVOKED


def test_running_an_action_on_a_disconnected_connection_explains_it(client_for, alice, sandbox_key):
    add_api_key(client_for(alice), sandbox_key)
    connection = services.connection_disconnect(connection=Connection.objects.get(), user=alice)
    result = connection_run_action(connection=connection, key="KLAVIYO_GET_LISTS", params={})
    assert not result.successful
    assert "was disconnected" in result.error
    assert result.attempts == []


def test_only_the_owner_or_its_creator_can_disconnect(
    client_for, alice, bob, alice_workspace, sandbox_key
):
    add_api_key(client_for(alice), sandbox_key)
    connection = Connection.objects.get()
    bobs = client_for(bob, workspace=alice_workspace)
    assert bobs.post(reverse("connection_disconnect", args=[connection.pk])).status_code == 403
    assert bobs.post(reverse("connection_sandbox_reset", args=[connection.pk])).status_code == 403
    connection.refresh_from_db()
    assert connection.status == Connection.Status.HEALTHY
    Connection.objects.filter(pk=connection.pk).update(created_by=bob)
    bobs.post(reverse("connection_disconnect", args=[connection.pk]))
    connection.refresh_from_db()
    assert connection.status == Connection.Status.REVOKED


def test_disconnect_revokes_the_refresh_token_and_forgets_secrets(client_for, alice, oauth_app):
    client = client_for(alice)
    connection = connect_with_oauth(client)
    refresh_token = connection.secret["refresh_token"]
    client.post(reverse("connection_disconnect", args=[connection.pk]))
    connection.refresh_from_db()
    assert connection.status == Connection.Status.REVOKED
    assert connection.secret == {}
    with pytest.raises(KlaviyoOAuthError) as refused:
        oauth.token_refresh(oauth.oauth_app(), refresh_token=refresh_token)
    assert refused.value.code == "invalid_grant"
    assert "revoked the refresh token" in connection.events.first().message


def test_scopes_missing_for_an_action(client_for, alice, oauth_app):
    connection = connect_with_oauth(client_for(alice), preset="read")
    assert missing_scopes(connection, ["lists:read"]) == []
    assert missing_scopes(connection, ["lists:write", "profiles:write"]) == [
        "lists:write",
        "profiles:write",
    ]


def test_the_periodic_check_refreshes_and_tests(client_for, alice, oauth_app):
    connection = connect_with_oauth(client_for(alice))
    connection.token_expires_at = timezone.now() + timedelta(minutes=1)
    connection.save()
    assert connection_check(connection.pk) == Connection.Status.HEALTHY
    connection.refresh_from_db()
    assert connection.token_expires_at > timezone.now() + timedelta(minutes=10)
    assert connection.last_checked_at > timezone.now() - timedelta(minutes=1)


# --- Isolation ---------------------------------------------------------------------------------


@pytest.fixture
def alices_connection(alice_workspace, alice) -> Connection:
    return Connection.objects.create(
        workspace=alice_workspace,
        name="Alice's store",
        kind=Connection.Kind.API_KEY,
        secret={"api_key": "pk_live_alice_0123456789"},
        key_hint="pk_…6789",
        created_by=alice,
    )


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("connection_detail", "get"),
        ("connection_rename", "post"),
        ("connection_replace_key", "post"),
        ("connection_test", "post"),
        ("connection_reconnect", "post"),
        ("connection_disconnect", "post"),
        ("connection_sandbox_reset", "post"),
    ],
)
def test_charlie_cannot_reach_alices_connection(
    client_for, charlie, alices_connection, name, method
):
    response = getattr(client_for(charlie), method)(reverse(name, args=[alices_connection.pk]))
    assert response.status_code == 404
    alices_connection.refresh_from_db()
    assert alices_connection.status == Connection.Status.HEALTHY


def test_charlie_does_not_see_alices_connections(client_for, charlie, alices_connection):
    page = client_for(charlie).get(reverse("connection_list"))
    assert list(page.context["connections"]) == []
    assert "Alice&#x27;s store" not in page.content.decode()


def test_bob_shares_alices_connections(client_for, bob, alice_workspace, alices_connection):
    page = client_for(bob, workspace=alice_workspace).get(reverse("connection_list"))
    assert list(page.context["connections"]) == [alices_connection]


def test_the_dashboard_counts_only_this_workspaces_connections(
    client_for, alice, charlie, alices_connection
):
    assert client_for(alice).get(reverse("dashboard")).context["connection_count"] == 1
    assert client_for(charlie).get(reverse("dashboard")).context["connection_count"] == 0


# --- Who may change credentials, and bad input --------------------------------------------------


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("pk_🙂_0123456789abcdef", "only letters, digits and underscores"),
        ("pk_caf\u00e9_0123456789", "only letters, digits and underscores"),
        ("pk_\x00abc0123456", "Null characters are not allowed"),
    ],
)
def test_a_key_with_strange_characters_is_a_form_error(
    client_for, alice, sandbox_key, key, message
):
    client = client_for(alice)
    response = add_api_key(client, key)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Connection.objects.exists()
    add_api_key(client, sandbox_key)
    connection = Connection.objects.get()
    replaced = client.post(
        reverse("connection_replace_key", args=[connection.pk]), {"key-api_key": key}
    )
    assert replaced.status_code == 200
    assert message in replaced.content.decode()


def test_a_member_cannot_replace_reset_or_disconnect_someone_elses_connection(
    client_for, alice, alice_workspace, bob, sandbox_key
):
    add_api_key(client_for(alice), sandbox_key)
    connection = Connection.objects.get()
    as_bob = client_for(bob, workspace=alice_workspace)
    page = as_bob.get(reverse("connection_detail", args=[connection.pk])).content.decode()
    assert "Only the workspace owner or the person who added this connection" in page
    assert "Replace the API key" not in page
    for name in ("connection_replace_key", "connection_disconnect", "connection_reconnect"):
        response = as_bob.post(reverse(name, args=[connection.pk]), {"key-api_key": sandbox_key})
        assert response.status_code == 403, name
    connection.refresh_from_db()
    assert connection.status == Connection.Status.HEALTHY
    assert connection.events.count() == 1  # only "created": nothing changed


def test_a_member_may_change_the_connection_they_added(
    client_for, alice_workspace, bob, sandbox_key
):
    as_bob = client_for(bob, workspace=alice_workspace)
    add_api_key(as_bob, sandbox_key)
    connection = Connection.objects.get()
    response = as_bob.post(reverse("connection_disconnect", args=[connection.pk]))
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.is_revoked


def test_a_key_for_another_klaviyo_account_cannot_replace_the_key(client_for, alice, sandbox):
    from integrations.klaviyo_sandbox.services import sandbox_account_create

    _, first = sandbox_account_create(name="Acme Store", seed=False)
    _, other = sandbox_account_create(name="Other Shop", seed=False)
    client = client_for(alice)
    add_api_key(client, first)
    connection = Connection.objects.get()
    response = client.post(
        reverse("connection_replace_key", args=[connection.pk]), {"key-api_key": other}
    )
    assert "belongs to Other Shop" in response.content.decode()
    assert "Add it as a new connection" in response.content.decode()
    connection.refresh_from_db()
    assert connection.secret["api_key"] == first


def test_an_oauth_state_outside_ascii_is_ignored_not_a_crash(client_for, alice, oauth_app):
    client = client_for(alice)
    start_oauth(client)
    response = client.get(reverse("connection_oauth_callback"), {"state": "zß🙂", "code": "x"})
    assert response.status_code == 302
    assert response.url == reverse("connection_add")
