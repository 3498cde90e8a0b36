"""Shared fixtures: the people (alice, bob, charlie), logged-in clients and a real Celery worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from builder.models import Membership, User, Workspace
from builder.services.accounts import membership_add, user_signup

BASE_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
CALLBACK_PATH = "/connections/oauth/callback/"
CALLBACK = f"http://testserver{CALLBACK_PATH}"


@pytest.fixture
def alice(db) -> User:
    """The owner of "alice's workspace"."""
    return user_signup(email="alice@example.com", password=PASSWORD, name="Alice")


@pytest.fixture
def alice_workspace(alice) -> Workspace:
    return Workspace.objects.get(memberships__user=alice, memberships__role=Membership.Role.OWNER)


@pytest.fixture
def bob(alice_workspace) -> User:
    """A member (not owner) of alice's workspace, with a personal workspace of his own."""
    bob = user_signup(email="bob@example.com", password=PASSWORD, name="Bob")
    membership_add(workspace=alice_workspace, email=bob.email)
    return bob


@pytest.fixture
def charlie(db) -> User:
    """Someone from another company: owner of a workspace alice and bob are not in."""
    return user_signup(email="charlie@example.com", password=PASSWORD, name="Charlie")


@pytest.fixture
def charlie_workspace(charlie) -> Workspace:
    return Workspace.objects.get(memberships__user=charlie)


@pytest.fixture
def client_for(db) -> Callable[..., Client]:
    """Return a factory: client_for(user, workspace=None) gives a logged-in test client."""

    def make(user: User, workspace: Workspace | None = None) -> Client:
        client = Client()
        client.force_login(user)
        if workspace is not None:
            session = client.session
            session["workspace_id"] = workspace.pk
            session.save()
        return client

    return make


# --- The Klaviyo sandbox on the live server -------------------------------------------------


@pytest.fixture
def sandbox(live_server, settings) -> str:
    """Point the app's Klaviyo URLs at the sandbox on the live server; return its base URL."""
    base = f"{live_server.url}/sandbox/klaviyo"
    settings.KLAVIYO_SANDBOX_BASE_URL = base
    settings.KLAVIYO_BASE_URL = base
    return base


@pytest.fixture
def sandbox_key(sandbox) -> str:
    """Return the private key of a fresh, empty sandbox account named "Acme Store"."""
    from integrations.klaviyo_sandbox.services import sandbox_account_create

    _, key = sandbox_account_create(name="Acme Store", seed=False)
    return key


@pytest.fixture
def oauth_app(sandbox, settings) -> dict[str, str]:
    """Register Step Builder as an OAuth app with the sandbox and configure the settings."""
    from integrations.klaviyo_sandbox.oauth.server import oauth_client_create

    callbacks = [CALLBACK, f"{sandbox.removesuffix('/sandbox/klaviyo')}{CALLBACK_PATH}"]
    client, secret = oauth_client_create(name="Step Builder", redirect_uris=callbacks)
    settings.KLAVIYO_OAUTH_CLIENT_ID = client.client_id
    settings.KLAVIYO_OAUTH_CLIENT_SECRET = secret
    settings.KLAVIYO_OAUTH_AUTHORIZE_URL = f"{sandbox}/oauth/authorize"
    settings.KLAVIYO_OAUTH_TOKEN_URL = f"{sandbox}/oauth/token"
    settings.KLAVIYO_OAUTH_REVOKE_URL = f"{sandbox}/oauth/revoke"
    return {"client_id": client.client_id, "secret": secret}


def _database_url_for_tests() -> str:
    """Return a DATABASE_URL naming the test database this session created."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def celery_worker_process(transactional_db) -> Iterator[str]:
    """Start a real `celery worker` process on the test database and broker; yield its name.

    The worker is a separate OS process talking to the configured broker (the file-system
    transport by default, Redis when CELERY_BROKER_URL says so), exactly as in production.
    """
    node = f"test-{uuid.uuid4().hex[:8]}@localhost"
    env = {**os.environ, "DATABASE_URL": _database_url_for_tests()}
    log_path = settings.DATA_DIR / f"worker-{node.split('@')[0]}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "builder", "worker", "--hostname", node,
             "--pool", "prefork", "--concurrency", "1", "--without-gossip", "--without-mingle",
             "--loglevel", "INFO"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield node
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.returncode not in (0, -15):
            sys.stderr.write(log_path.read_text(errors="replace")[-4000:])
        log_path.unlink(missing_ok=True)


def wait_for(predicate: Callable[[], object], *, timeout: float = 30, interval: float = 0.2):
    """Poll `predicate` until it returns something truthy; fail the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"Gave up after {timeout} s waiting for {predicate.__doc__ or predicate}")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Hash test passwords cheaply; production keeps Django's default PBKDF2."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def query_of(url: str) -> dict[str, str]:
    """Return the query parameters of `url` as a plain dict (first value of each)."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Start every test with an empty cache (login throttling counts live there)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
