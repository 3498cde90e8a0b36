"""The sandbox as the rest of Step Builder sees it: one adapter, production settings, off switch,
and limits that hold wherever a sandbox account is made."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
import requests
from django.urls import reverse

from integrations import services
from integrations.klaviyo.actions import run_action
from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.credentials import ApiKeyCredentials
from integrations.klaviyo_sandbox.models import SandboxAccount
from integrations.klaviyo_sandbox.services import sandbox_account_create
from integrations.models import Connection
from integrations.services import connection_run_action
from tests.conftest import BASE_DIR, _database_url_for_tests, query_of

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _production_env(**extra: str) -> dict[str, str]:
    """The environment README's production section gives, on this machine's test database."""
    return {
        **os.environ,
        "DATABASE_URL": _database_url_for_tests(),
        "DEBUG": "false",
        "SECURE_HTTPS": "true",
        "BEHIND_PROXY": "true",
        "ALLOWED_HOSTS": "builder.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://builder.example.com",
        "SECRET_KEY": "production-like-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        **extra,
    }


@pytest.fixture
def production_web():
    """Serve the app with gunicorn under production settings; yield the sandbox's base URL."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}/sandbox/klaviyo"
    env = _production_env(KLAVIYO_SANDBOX_BASE_URL=base, PORT=str(port))
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "builder.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "4"],
        cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:  # any answer will do: the server is up
                requests.get(f"{base}/api/accounts", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start: " + server.stderr.read().decode()[-2000:])
        yield base
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_sandbox_actions_work_under_the_production_settings(production_web):
    """Workers reach the sandbox over plain http at KLAVIYO_SANDBOX_BASE_URL: no https redirect,
    and its host is allowed although ALLOWED_HOSTS names only the public one."""
    _, key = sandbox_account_create(name="Production check", seed=False)
    client = KlaviyoClient(ApiKeyCredentials(key), base_url=production_web)

    created = run_action(client, "KLAVIYO_CREATE_LIST", {"name": "VIP"})
    listed = run_action(client, "KLAVIYO_GET_LISTS", {})

    assert created.successful, created.error
    assert listed.successful, listed.error
    assert [item["attributes"]["name"] for item in listed.data["data"]] == ["VIP"]
    # The app's own pages still insist on https.
    page = requests.get(
        production_web.replace("/sandbox/klaviyo", "/connections/"),
        headers={"Host": "builder.example.com"},
        allow_redirects=False,
        timeout=5,
    )
    assert page.status_code == 301
    assert page.headers["Location"].startswith("https://builder.example.com/")


def test_switched_off_there_is_no_sandbox_app_route_or_connection_kind():
    script = (
        "import django; django.setup()\n"
        "from django.apps import apps\n"
        "from django.urls import Resolver404, resolve\n"
        "from integrations.sandbox import sandbox\n"
        "from integrations.views.connections import _kinds\n"
        "print(apps.is_installed('integrations.klaviyo_sandbox'), sandbox(), _kinds())\n"
        "try:\n    resolve('/sandbox/klaviyo/api/lists')\n"
        "except Resolver404:\n    print('no route')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "builder.settings",
             "KLAVIYO_SANDBOX_ENABLED": "false"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["False None ('api_key', 'oauth2')", "no route"]


def test_a_sandbox_connection_with_the_sandbox_switched_off_says_so(
    alice, alice_workspace, sandbox
):
    connection = services.connection_create_sandbox(
        workspace=alice_workspace, user=alice, name="Playground"
    )
    assert connection.unusable_reason() is None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("integrations.models.apps.is_installed", lambda name: False)
        reason = connection.unusable_reason()
        result = connection_run_action(connection=connection, key="KLAVIYO_GET_LISTS", params={})
    assert "sandbox, which is switched off" in reason
    assert not result.successful and result.error == reason and not result.attempts


def test_usability_has_one_answer(alice, alice_workspace, sandbox):
    connection = services.connection_create_sandbox(
        workspace=alice_workspace, user=alice, name="Playground"
    )
    connection.status = Connection.Status.NEEDS_RECONNECT
    connection.status_message = "Key revoked in Klaviyo"
    assert connection.unusable_reason() == (
        "The connection “Playground” needs to be reconnected (Key revoked in Klaviyo)."
    )
    assert not connection.is_usable
    connection.status = Connection.Status.REVOKED
    assert "was disconnected" in connection.unusable_reason()


def test_disconnecting_a_sandbox_deletes_its_account_and_the_key_stops_working(
    client_for, alice, alice_workspace, sandbox
):
    connection = services.connection_create_sandbox(
        workspace=alice_workspace, user=alice, name="Playground"
    )
    key = connection.secret["api_key"]
    client = KlaviyoClient(ApiKeyCredentials(key), base_url=sandbox)
    assert run_action(client, "KLAVIYO_GET_LISTS", {}).successful

    client_for(alice).post(reverse("connection_disconnect", args=[connection.pk]))

    assert not SandboxAccount.objects.filter(pk=connection.sandbox_account_id).exists()
    refused = run_action(client, "KLAVIYO_GET_LISTS", {})
    assert refused.failure.status == 401


def test_a_persons_sandboxes_count_wherever_they_were_made(
    client_for, alice, alice_workspace, oauth_app, settings
):
    """Through the connections page or the sandbox's OAuth consent page: one limit."""
    settings.KLAVIYO_SANDBOX_MAX_PER_WORKSPACE = 2
    client = client_for(alice)
    client.post(reverse("connection_add_sandbox"), {"sandbox-name": "One"})
    start = client.post(reverse("connection_add_oauth"), {"oauth-name": "", "oauth-preset": "read"})
    consent = {**query_of(start.url), "account": "new", "decision": "approve"}
    approved = client.post(reverse("klaviyo_sandbox:oauth_authorize"), consent)
    assert approved.status_code == 302  # the second account, made on the consent page
    refused = client.post(reverse("klaviyo_sandbox:oauth_authorize"), consent)
    assert refused.status_code == 400
    assert "You already have 2 sandbox accounts" in refused.content.decode()
    page = client.post(reverse("connection_add_sandbox"), {"sandbox-name": "Three"})
    assert "You already have 2 sandbox accounts" in page.content.decode()
    assert SandboxAccount.objects.filter(created_by=alice).count() == 2
