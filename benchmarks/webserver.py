"""A fresh install served as `make run` serves it, for the benchmarks that talk HTTP to it.

`site_setup(data, port, **env)` points Django at a throwaway DATA_DIR on the embedded default
(SQLite, the file-system broker), with the app reached at 127.0.0.1:<port> (its sandbox too),
and migrates; `serve(port)` starts one web process (gunicorn, one worker, eight threads).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def site_setup(data: str, port: int, **env: str) -> None:
    """Configure and migrate a fresh install in `data`, reached on `port`."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="builder.settings",
        DATA_DIR=data,
        SECURE_HTTPS="false",
        DEBUG="false",
        LOG_LEVEL="WARNING",
        PORT=str(port),
        SITE_URL=f"http://127.0.0.1:{port}",
        KLAVIYO_SANDBOX_BASE_URL=f"http://127.0.0.1:{port}/sandbox/klaviyo",
        **env,
    )
    for name in ("DATABASE_URL", "CACHE_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def serve(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn, as the Procfile starts it
        [str(Path(sys.executable).parent / "gunicorn"), "builder.wsgi", "--bind",
         f"127.0.0.1:{port}", "--workers", "1", "--threads", "8", "--log-level", "warning"],
        cwd=ROOT, env=os.environ.copy(),
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the web server did not start")
