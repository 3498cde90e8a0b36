"""Django settings for Step Builder, read from the environment.

Every setting that differs between the embedded default (`make run`) and production comes from an
environment variable (or a `.env` file beside manage.py); the defaults give a working single-machine
install with SQLite and a file-system Celery broker. See README.md, "Configuration".
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import csp.constants as csp
import environ
from celery.schedules import crontab
from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Everything the app writes at run time (SQLite file, broker folders, generated keys) lives here,
# in a folder only its owner can enter (an existing folder keeps the mode it was given).
DATA_DIR = Path(env.str("DATA_DIR", default="data"))
if not DATA_DIR.is_absolute():
    DATA_DIR = BASE_DIR / DATA_DIR
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)


def _create_private_file(path: Path) -> None:
    """Create `path` empty and readable by its owner only, unless it exists already."""
    # FileNotFoundError: its folder is missing, which Django reports better on connecting.
    with contextlib.suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _key_from_data_dir(name: str, make: Callable[[], str]) -> str:
    """Return the key kept in DATA_DIR/name, creating it once (safely across processes)."""
    path = DATA_DIR / name
    if not path.exists():
        tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
            file.write(make())  # readable by the owner only, from the first byte
        try:
            os.link(tmp, path)  # atomic: the first process to start wins, the others read its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


# Generated into DATA_DIR when unset: fine on one machine; a deploy check demands both in the
# environment once the database is shared, since every machine must use the same keys.
KEYS_FROM_ENVIRONMENT = bool(env.str("SECRET_KEY", default="")) and bool(
    env.str("FIELD_ENCRYPTION_KEY", default="")
)
SECRET_KEY = env.str("SECRET_KEY", default="") or _key_from_data_dir(
    "secret_key", lambda: secrets.token_urlsafe(50)
)
# Comma-separated Fernet keys; the first encrypts, all decrypt (rotation: see README).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEY", default=[]) or [
    _key_from_data_dir("field_encryption_key", lambda: Fernet.generate_key().decode())
]
# Anyone who can reach the app may create an account; turn off for a closed team install.
ALLOW_SIGNUP = env.bool("ALLOW_SIGNUP", default=True)

DEBUG = env.bool("DEBUG", default=False)

# --- Klaviyo sandbox ------------------------------------------------------------------------------
# The built-in Klaviyo stand-in is a Django app of its own, served at /sandbox/klaviyo/; switched
# off, it is not installed at all (no tables, URLs or connection kind).
KLAVIYO_SANDBOX_ENABLED = env.bool("KLAVIYO_SANDBOX_ENABLED", default=True)
# Where workers reach it: the web process, usually over plain http on an internal address.
KLAVIYO_SANDBOX_BASE_URL = env.str(
    "KLAVIYO_SANDBOX_BASE_URL",
    default=f"http://127.0.0.1:{env.int('PORT', default=8000)}/sandbox/klaviyo",
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
if KLAVIYO_SANDBOX_ENABLED:
    # Workers call the sandbox by its internal name (e.g. web.internal), not the public host.
    _sandbox_host = urlsplit(KLAVIYO_SANDBOX_BASE_URL).hostname
    if _sandbox_host and _sandbox_host not in ALLOWED_HOSTS:
        ALLOWED_HOSTS.append(_sandbox_host)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Served over HTTPS (production): secure cookies, HSTS, redirect to https.
SECURE_HTTPS = env.bool("SECURE_HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = SECURE_HTTPS
SECURE_REDIRECT_EXEMPT = [
    r"^healthz$",  # load balancers probe over plain http
    # Workers call the sandbox's API at KLAVIYO_SANDBOX_BASE_URL, inside the network, often over
    # plain http; a redirect to https would fail every sandbox action. Its consent page, which
    # a person opens in a browser with a login, stays behind https.
    r"^sandbox/klaviyo/(api|client|media)/",
    r"^sandbox/klaviyo/oauth/(token|revoke)$",
    # The sandbox delivers its Klaviyo webhooks to the app over loopback http (Klaviyo itself
    # posts to https only); each delivery is signed, and the signature is what is trusted.
    r"^hooks/klaviyo/",
]
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if SECURE_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Joining the browsers' HSTS preload list is hard to undo, so it is the operator's choice
# (SECURE_HSTS_PRELOAD=true), not a warning for every install.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many reverse proxies in front of the app append the address they were reached from to
# X-Forwarded-For: the client's address is that many entries from the right (builder.proxies).
TRUSTED_PROXY_HOPS = env.int("TRUSTED_PROXY_HOPS", default=1 if BEHIND_PROXY else 0)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "builder",
    "integrations",
    *(["integrations.klaviyo_sandbox"] if KLAVIYO_SANDBOX_ENABLED else []),
]

MIDDLEWARE = [
    # Outermost, so every response carries the policy: error pages, and static files from
    # WhiteNoise (an SVG image can hold script).
    "csp.middleware.CSPMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "builder.workspaces.CurrentWorkspaceMiddleware",
]

# Webhook deliveries: the web server serves these paths with a lean chain of its own
# (builder/machine.py). A path added here must hold only views that need no session or user.
MACHINE_PATHS = ["/hooks/"]
MACHINE_MIDDLEWARE = [
    "builder.machine.MachineAnswerMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "builder.urls"
WSGI_APPLICATION = "builder.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "builder.workspaces.workspace_context",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write at the same time: WAL lets readers through, IMMEDIATE
    # transactions take the write lock up front instead of failing half-way with "locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not memory, so worker processes started by the tests see the same database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}
    # Django would create the file on first connect with the process's umask (often world-
    # readable); an empty file is a valid empty database, and SQLite gives its -wal and -shm
    # files the same mode as the database file.
    if DATABASES["default"]["NAME"] and not DATABASES["default"]["NAME"].startswith(":memory:"):
        _create_private_file(Path(DATABASES["default"]["NAME"]))
# Connections are kept between requests (each web thread its own): opening one costs a file
# open and the PRAGMAs above on SQLite, a TCP and auth round trip on PostgreSQL.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Shared by every process in production (login throttling counts failures across web workers).
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# Failed logins allowed from one address (any email) in LOGIN_THROTTLE_SECONDS; failures for
# one email from all addresses together, after which only addresses without failures of their
# own may try it (builder/throttle.py).
LOGIN_THROTTLE_ATTEMPTS = env.int("LOGIN_THROTTLE_ATTEMPTS", default=10)
LOGIN_THROTTLE_EMAIL_ATTEMPTS = env.int("LOGIN_THROTTLE_EMAIL_ATTEMPTS", default=100)
LOGIN_THROTTLE_SECONDS = env.int("LOGIN_THROTTLE_SECONDS", default=900)

# Invitations and sign-up links go out by email: printed to the console in the embedded
# default, e.g. smtp+tls://user:password@smtp.example.com:587 in production.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Step Builder <noreply@localhost>")
# Seconds an invitation link stays valid (7 days).
INVITATION_TTL = env.int("INVITATION_TTL", default=7 * 24 * 3600)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "builder.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# WhiteNoise serves static files in every configuration (no separate web server needed);
# straight from static/ until `collectstatic` has filled STATIC_ROOT.
WHITENOISE_USE_FINDERS = True

# --- Celery -------------------------------------------------------------------------------------
# Default: kombu's file-system transport, which needs no server (one machine only).
# Production: redis://host:6379/0 (or amqp://...) shared by every worker on every machine.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's file-system transport, writing each message whole before it shows (builder/broker.py)
    CELERY_BROKER_TRANSPORT = "builder.broker:Transport"
    _broker = DATA_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker / "queue"),
        "data_folder_out": str(_broker / "queue"),
        "processed_folder": str(_broker / "processed"),
        "control_folder": str(_broker / "control"),
        "store_processed": False,
        # The transport polls its folder; a tenth of a second keeps a run's pickup quick.
        "polling_interval": env.float("CELERY_BROKER_POLLING_INTERVAL", default=0.1),
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A task not acknowledged within this time is handed to another worker (acks_late).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="stepbuilder")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None  # results live in our own tables (Run, StepRun)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery closes every database connection around every task unless told to reuse them; a run
# task then pays a new PostgreSQL connection (and its cold caches) each time. Reused, they
# follow CONN_MAX_AGE and CONN_HEALTH_CHECKS like the web server's (builder/celery.py).
CELERY_DB_REUSE_MAX = 10**9
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(DATA_DIR / "celerybeat-schedule")
)
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "builder.tasks.worker_heartbeat", "schedule": 30.0},
    "connections-health": {
        "task": "integrations.tasks.connections_check_all",
        "schedule": env.float("CONNECTION_CHECK_INTERVAL", default=900.0),
    },
    "triggers-due": {
        "task": "builder.tasks.triggers_due",
        "schedule": env.float("TRIGGER_TICK_SECONDS", default=10.0),
    },
    "runs-sweep": {
        "task": "builder.tasks.runs_sweep",
        "schedule": env.float("RUN_SWEEP_INTERVAL", default=15.0),
    },
    # Delete runs past their workspace's retention, daily at a quiet hour.
    "runs-prune": {
        "task": "builder.tasks.runs_prune",
        "schedule": crontab(hour=env.int("RUN_PRUNE_HOUR", default=3), minute=17),
    },
}
# How recent a worker heartbeat must be for /healthz to call the worker "ok".
WORKER_HEARTBEAT_MAX_AGE = env.int("WORKER_HEARTBEAT_MAX_AGE", default=90)

# --- Runs ---------------------------------------------------------------------------------------
# A running run's worker refreshes its heartbeat every RUN_HEARTBEAT_SECONDS; the sweeper takes a
# run whose heartbeat is older than RUN_STALE_SECONDS as orphaned (its worker died) and requeues
# it. A run is stopped after RUN_TIMEOUT_SECONDS; rate-limit waits and job polls are bounded.
RUN_HEARTBEAT_SECONDS = env.float("RUN_HEARTBEAT_SECONDS", default=5.0)
RUN_STALE_SECONDS = env.float("RUN_STALE_SECONDS", default=45.0)
RUN_TIMEOUT_SECONDS = env.int("RUN_TIMEOUT_SECONDS", default=24 * 3600)
# Inbound webhooks: the largest body accepted (413 beyond) and requests per workflow per minute
# (429 beyond; counted in CACHES, so give production a shared cache such as Redis).
WEBHOOK_MAX_BYTES = env.int("WEBHOOK_MAX_BYTES", default=1024 * 1024)
WEBHOOK_MAX_PER_MINUTE = env.int("WEBHOOK_MAX_PER_MINUTE", default=6000)
# A Klaviyo webhook delivery whose Klaviyo-Timestamp is further than this from now is refused.
KLAVIYO_WEBHOOK_MAX_AGE = env.int("KLAVIYO_WEBHOOK_MAX_AGE", default=300)
# Schedules and polls are taken by the beat's `triggers-due` task every TRIGGER_TICK_SECONDS; a
# poll starts at most TRIGGER_POLL_MAX_ITEMS runs (the rest wait for the next poll).
TRIGGER_TICK_SECONDS = env.float("TRIGGER_TICK_SECONDS", default=10.0)
TRIGGER_POLL_MAX_ITEMS = env.int("TRIGGER_POLL_MAX_ITEMS", default=1000)
# Items asked per page (0: the largest page each Klaviyo endpoint allows).
TRIGGER_POLL_PAGE_SIZE = env.int("TRIGGER_POLL_PAGE_SIZE", default=0)
# A workflow's owner gets at most one failure email per FAILURE_NOTICE_MINUTES.
FAILURE_NOTICE_MINUTES = env.int("FAILURE_NOTICE_MINUTES", default=15)
# Where the app is reached from a browser: links in emails sent by workers, outside a request.
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}")
# A step without its own `timeout_seconds` fails once it has taken this long, retries, rate-limit
# waits and Klaviyo job polls included (a delay step waits as long as it was told to).
RUN_STEP_TIMEOUT_SECONDS = env.int("RUN_STEP_TIMEOUT_SECONDS", default=2 * 3600)
RUN_MAX_RATE_LIMIT_WAITS = env.int("RUN_MAX_RATE_LIMIT_WAITS", default=200)
RUN_MAX_JOB_POLLS = env.int("RUN_MAX_JOB_POLLS", default=500)

# --- Klaviyo ------------------------------------------------------------------------------------
KLAVIYO_BASE_URL = env.str("KLAVIYO_BASE_URL", default="https://a.klaviyo.com")
# Redis for the rate-limit buckets shared by every worker; defaults to a redis:// broker URL.
KLAVIYO_RATELIMIT_REDIS_URL = env.str("KLAVIYO_RATELIMIT_REDIS_URL", default="")
# How many times faster the client's rate-limit windows run: 1 against Klaviyo; a stand-in with
# a faster clock (the sandbox's `scaled:N` mode, a benchmark's stub) sets N.
KLAVIYO_RATELIMIT_TIME_SCALE = env.float("KLAVIYO_RATELIMIT_TIME_SCALE", default=1.0)
# The sandbox's limits per workspace, its rate limits for accounts without their own: "off",
# "real" or "scaled[:N]" (windows N times shorter); OAuth access-token lifetime; how long its
# jobs and sends take. Whether it is on and where workers reach it: see "Klaviyo sandbox" above.
KLAVIYO_SANDBOX_MAX_PER_WORKSPACE = env.int("KLAVIYO_SANDBOX_MAX_PER_WORKSPACE", default=5)
KLAVIYO_SANDBOX_RATE_LIMITS = env.str("KLAVIYO_SANDBOX_RATE_LIMITS", default="off")
# The sandbox delivers its webhooks to this app (SITE_URL) and to these origins only.
KLAVIYO_SANDBOX_WEBHOOK_TARGETS = env.list("KLAVIYO_SANDBOX_WEBHOOK_TARGETS", default=[])
KLAVIYO_SANDBOX_ACCESS_TOKEN_TTL = env.int("KLAVIYO_SANDBOX_ACCESS_TOKEN_TTL", default=3600)
KLAVIYO_SANDBOX_JOB_SECONDS = env.float("KLAVIYO_SANDBOX_JOB_SECONDS", default=1.0)
# OAuth app registered with Klaviyo (https://developers.klaviyo.com/en/docs/set_up_oauth).
KLAVIYO_OAUTH_CLIENT_ID = env.str("KLAVIYO_OAUTH_CLIENT_ID", default="")
KLAVIYO_OAUTH_CLIENT_SECRET = env.str("KLAVIYO_OAUTH_CLIENT_SECRET", default="")
KLAVIYO_OAUTH_REDIRECT_URI = env.str("KLAVIYO_OAUTH_REDIRECT_URI", default="")
KLAVIYO_OAUTH_AUTHORIZE_URL = env.str(
    "KLAVIYO_OAUTH_AUTHORIZE_URL", default="https://www.klaviyo.com/oauth/authorize"
)
KLAVIYO_OAUTH_TOKEN_URL = env.str(
    "KLAVIYO_OAUTH_TOKEN_URL", default="https://a.klaviyo.com/oauth/token"
)
KLAVIYO_OAUTH_REVOKE_URL = env.str(
    "KLAVIYO_OAUTH_REVOKE_URL", default="https://a.klaviyo.com/oauth/revoke"
)


# --- Content-Security-Policy (django-csp) -------------------------------------------------------
# Our own origin only: htmx and our scripts are static files served by the app, and no template
# has inline script or event handlers (tests/builder/test_csp.py reads them all).
def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# Inline styles left in templates that other work owns, allowed one by one by their SHA-256
# ('unsafe-hashes' lets a hash match a style="" attribute). The test above fails when one of them
# changes or goes; move new styles into static/css/app.css instead of adding hashes here.
CSP_INLINE_STYLE_HASHES = [
    "'sha256-cAHE4lLXTCaI2fEOB+Z/2pTQhR41KD+RQWcS1+XKLck='",  # klaviyo_sandbox/authorize.html
    "'sha256-Q7cYBqS4btE7AQ0pMLvm3V3mpbxgSDbc8vpB333XefU='",  # klaviyo_sandbox/authorize.html
    "'sha256-9ctr8I01uKmPp2BXkt/9bAI5bJZ4DiKHmRoLI3WLX8U='",  # klaviyo_sandbox/authorize.html
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF, csp.UNSAFE_HASHES, *CSP_INLINE_STYLE_HASHES],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "frame-ancestors": [csp.NONE],
        # Browsers apply form-action to the redirect after a POST too, and "Continue to Klaviyo"
        # posts to us and is redirected to Klaviyo's consent page.
        "form-action": [csp.SELF, _origin(KLAVIYO_OAUTH_AUTHORIZE_URL)],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
