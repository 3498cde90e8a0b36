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
def without_showcase(monkeypatch) -> None:
    """Sandbox accounts made in this test hold the demo store but not the showcase (copies of
    what every catalog example names): 0.5 s to make instead of 3.5 s."""
    monkeypatch.setattr("integrations.klaviyo_sandbox.seed.demo.seed_showcase", lambda account: 0)


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


class Worker:
    """A real `celery worker` process on the test database and broker."""

    def __init__(self, node: str, process: subprocess.Popen, log_path: Path) -> None:
        self.node = node
        self.process = process
        self.log_path = log_path

    def kill(self) -> None:
        """Kill it outright (SIGKILL): no warm shutdown, nothing acknowledged or cleaned up."""
        self.process.kill()
        self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.returncode not in (0, -15, -9):
            sys.stderr.write(self.log_path.read_text(errors="replace")[-4000:])
        self.log_path.unlink(missing_ok=True)


#: Settings a worker process takes from the test process, so both see the same world.
WORKER_SETTINGS = (
    "KLAVIYO_BASE_URL",
    "KLAVIYO_SANDBOX_BASE_URL",
    "RUN_HEARTBEAT_SECONDS",
    "RUN_STALE_SECONDS",
    "KLAVIYO_SANDBOX_RATE_LIMITS",
    "KLAVIYO_RATELIMIT_TIME_SCALE",
    "TRIGGER_POLL_MAX_ITEMS",
    "TRIGGER_POLL_PAGE_SIZE",
    "SITE_URL",
)


@pytest.fixture
def start_worker(transactional_db) -> Iterator[Callable[..., Worker]]:
    """Return `start_worker(concurrency=1, pool="prefork", beat=False)`: start a real worker.

    The process talks to the configured broker (the file-system transport by default, Redis
    when CELERY_BROKER_URL says so) and the test database, exactly as in production, with the
    test's current Klaviyo and run settings. With `beat`, it runs the beat in a thread (as
    `make run` does), ticking triggers every second. Every worker started is stopped afterwards.
    """
    workers: list[Worker] = []

    def start(concurrency: int = 1, pool: str = "prefork", beat: bool = False) -> Worker:
        node = f"test-{uuid.uuid4().hex[:8]}@localhost"
        env = {**os.environ, "DATABASE_URL": _database_url_for_tests()}
        env.update({name: str(getattr(settings, name)) for name in WORKER_SETTINGS})
        if beat:
            env["TRIGGER_TICK_SECONDS"] = "1"
            env["CELERY_BEAT_SCHEDULE_FILENAME"] = str(settings.DATA_DIR / f"beat-{node[5:13]}")
        log_path = settings.DATA_DIR / f"worker-{node.split('@')[0]}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "builder", "worker", "--hostname", node,
                 "--pool", pool, "--concurrency", str(concurrency), "--without-gossip",
                 "--without-mingle", "--loglevel", "INFO", *(["--beat-thread"] if beat else [])],
                cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        worker = Worker(node, process, log_path)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def celery_worker_process(start_worker) -> str:
    """Start one real `celery worker` process; return its node name."""
    return start_worker().node


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
    """Start every test with an empty cache (login throttling counts live there), and no
    webhook URL's armed state remembered from an earlier test."""
    from django.core.cache import cache

    from builder.triggers.base import forget_armed

    cache.clear()
    forget_armed()
    yield
    cache.clear()
