"""The web server's lean route: `/hooks/` through its own middleware chain (builder/machine.py)."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from wsgiref.util import setup_testing_defaults

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from builder.machine import MACHINE_POLICY, MachineHandler, routed
from builder.models import Run
from builder.services.workflows import workflow_create, workflow_publish, workflow_set_enabled
from builder.triggers.services import webhook_url

pytestmark = pytest.mark.django_db


HOOK = {
    "name": "Order hook",
    "trigger": {"type": "webhook", "signing": "hmac-sha256"},
    "steps": [{"key": "note", "action": "builtin.set", "input": {"values": {"a": "1"}}}],
}


@pytest.fixture
def hook(alice, alice_workspace):
    """A published, enabled webhook workflow: (workflow, URL path, signing secret)."""
    workflow, _ = workflow_create(workspace=alice_workspace, user=alice, definition=HOOK)
    workflow_publish(workflow=workflow, user=alice)
    synced = workflow_set_enabled(workflow=workflow, enabled=True)
    return workflow, "/" + webhook_url(synced.state).split("/", 3)[3], synced.new_secret


@pytest.fixture
def app():
    """The WSGI application as builder/wsgi.py composes it."""
    return routed(WSGIHandler(), MachineHandler())


def call(app, method: str, path: str, body: bytes = b"", host: str = "127.0.0.1", **headers):
    """One request through `app`: (status code, headers, body)."""
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "HTTP_HOST": host,
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }  # fmt: skip
    setup_testing_defaults(environ)
    started: list = []
    # As Django's test client does: the request must not close the test's own connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = app(environ, lambda status, answered: started.extend([status, answered]))
        content = b"".join(chunks)
        chunks.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return int(started[0].split()[0]), dict(started[1]), content


def test_a_signed_delivery_takes_the_lean_route_and_answers_with_the_strictest_policy(app, hook):
    workflow, path, secret = hook
    body = b'{"email": "ada@example.com"}'
    status, headers, content = call(
        app,
        "POST",
        path,
        body,
        X_SIGNATURE_SHA256=hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    )

    assert status == 202, content
    assert Run.objects.filter(pk=json.loads(content)["id"], workflow=workflow).exists()
    assert headers["Content-Security-Policy"] == MACHINE_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Set-Cookie" not in headers and "Vary" not in headers  # no session, no CSRF cookie


def test_a_forged_delivery_is_still_refused_on_the_lean_route(app, hook):
    _, path, _ = hook
    status, _, content = call(app, "POST", path, b"{}", X_SIGNATURE_SHA256="0" * 64)

    assert status == 401
    assert "does not match" in json.loads(content)["detail"]
    assert not Run.objects.exists()


def test_django_s_own_error_pages_answer_in_json_on_machine_paths(app, hook):
    _, path, _ = hook
    status, headers, content = call(app, "GET", path)
    assert (status, headers["Allow"], json.loads(content)) == (
        405, "POST", {"detail": "405 Method Not Allowed."})  # fmt: skip
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Frame-Options"] == "DENY"

    status, headers, content = call(app, "POST", "/hooks/")
    assert (status, json.loads(content)) == (404, {"detail": "404 Not Found."})

    status, headers, content = call(app, "POST", path, b"{}", host="evil.example")
    assert (status, json.loads(content)) == (400, {"detail": "400 Bad Request."})
    assert headers["Content-Security-Policy"] == MACHINE_POLICY


def test_pages_keep_the_full_middleware(app):
    status, headers, content = call(app, "GET", "/accounts/login/")

    assert status == 200 and b"<form" in content
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "csrftoken=" in headers["Set-Cookie"]


def test_building_the_machine_chain_leaves_the_settings_as_they_were():
    browser = list(settings.MIDDLEWARE)
    handler = MachineHandler()

    assert browser == settings.MIDDLEWARE
    assert [type(step.__self__).__name__ for step in handler._view_middleware] == [
        "CsrfViewMiddleware"
    ]
