"""Klaviyo's rate limits and injected faults, per sandbox account, across server processes.

Klaviyo limits each account with fixed windows: a burst window (one second) and a steady window
(one minute) per endpoint tier (https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling).
Counters live in the database (an atomic UPDATE ... SET count = count + 1), or in Redis when
Redis is the Celery broker, so every web process and server thread shares them. Modes:

* `off` (default): no limits, no `RateLimit-*` headers;
* `real`: Klaviyo's limits on a real clock;
* `scaled[:N]`: Klaviyo's limits with windows N times shorter (`scaled:60` turns a minute into a
  second) — for exercising the client's back-off quickly.

An account's own `rate_limit_mode`/`time_scale` win over `KLAVIYO_SANDBOX_RATE_LIMITS`.
"""

from __future__ import annotations

import math
import os
import threading
import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from integrations.klaviyo_sandbox.api.errors import ApiError
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxRateCounter

DEFAULT_TIME_SCALE = 60.0
MAX_LATENCY_MS = 30_000


def mode_for(account: SandboxAccount) -> tuple[str, float]:
    """Return `(mode, time scale)` for an account: its own fields, else the setting."""
    configured = str(getattr(settings, "KLAVIYO_SANDBOX_RATE_LIMITS", "off") or "off")
    default_mode, _, default_scale = configured.partition(":")
    mode = account.rate_limit_mode or default_mode.strip().lower()
    if mode not in ("off", "real", "scaled"):
        mode = "off"
    scale = 1.0
    if mode == "scaled":
        scale = account.time_scale or float(default_scale or 0) or DEFAULT_TIME_SCALE
    return mode, max(scale, 0.001)


def _windows(limits: dict[str, Any], scale: float) -> list[tuple[str, int, float]]:
    key = f"{limits.get('burst')}-{limits.get('steady')}"
    windows = []
    if limits.get("burst"):
        windows.append((f"{key}:s", int(limits["burst"]), 1.0 / scale))
    if limits.get("steady"):
        windows.append((f"{key}:m", int(limits["steady"]), 60.0 / scale))
    return windows


def take(account: SandboxAccount, op: dict[str, Any]) -> dict[str, str]:
    """Count one request against the account's windows; return the `RateLimit-*` headers.

    Raise ApiError(429) with `Retry-After` (whole seconds, at least 1) when a window is full;
    a refused request is not counted.
    """
    mode, scale = mode_for(account)
    if mode == "off":
        return {}
    now = time.time()
    counted = []
    tightest: tuple[float, int, int, float] | None = None  # (remaining share, limit, left, reset)
    refused: list[float] = []
    for bucket, limit, length in _windows(op.get("rate_limit") or {}, scale):
        window = int(now // length)
        count = _counter().increment(account, bucket, window, length)
        counted.append((bucket, window))
        reset = (window + 1) * length - now
        left = max(limit - count, 0)
        if count > limit:
            refused.append(reset)
        share = left / limit
        if tightest is None or share < tightest[0]:
            tightest = (share, limit, left, reset)
    if tightest is None:
        return {}
    headers = {
        "RateLimit-Limit": str(tightest[1]),
        "RateLimit-Remaining": str(tightest[2]),
        "RateLimit-Reset": str(max(1, math.ceil(tightest[3]))),
    }
    if refused:
        for bucket, window in counted:
            _counter().decrement(account, bucket, window)
        wait = max(1, math.ceil(max(refused)))
        raise ApiError(
            429,
            "throttled",
            f"Request was throttled. Expected available in {wait} second{'s' if wait > 1 else ''}.",
            headers={**headers, "Retry-After": str(wait), "RateLimit-Remaining": "0"},
        )
    return headers


class _DatabaseCounter:
    """Fixed-window counters in SandboxRateCounter rows."""

    def increment(self, account: SandboxAccount, bucket: str, window: int, length: float) -> int:
        rows = SandboxRateCounter.objects.filter(account=account, bucket=bucket, window=window)
        with transaction.atomic():
            if not rows.update(count=F("count") + 1):
                try:
                    with transaction.atomic():
                        SandboxRateCounter.objects.create(
                            account=account, bucket=bucket, window=window, count=1
                        )
                    # A new window began: the old ones will never be read again.
                    SandboxRateCounter.objects.filter(
                        account=account, bucket=bucket, window__lt=window
                    ).delete()
                except IntegrityError:
                    rows.update(count=F("count") + 1)  # another process created it first
            return rows.values_list("count", flat=True).first() or 1

    def decrement(self, account: SandboxAccount, bucket: str, window: int) -> None:
        SandboxRateCounter.objects.filter(
            account=account, bucket=bucket, window=window, count__gt=0
        ).update(count=F("count") - 1)


class _RedisCounter:
    """Fixed-window counters as Redis keys that expire after their window."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url)

    @staticmethod
    def _key(account: SandboxAccount, bucket: str, window: int) -> str:
        # The public key, not the row id: ids repeat across databases sharing one Redis.
        return f"klaviyo-sandbox:rl:{account.public_key}:{bucket}:{window}"

    def increment(self, account: SandboxAccount, bucket: str, window: int, length: float) -> int:
        key = self._key(account, bucket, window)
        pipe = self.client.pipeline()
        pipe.incr(key)
        pipe.expire(key, max(2, math.ceil(length * 2)))
        return int(pipe.execute()[0])

    def decrement(self, account: SandboxAccount, bucket: str, window: int) -> None:
        self.client.decr(self._key(account, bucket, window))


_counters: dict[int, Any] = {}
_lock = threading.Lock()


def _counter() -> Any:
    """Return this process's counter store (Redis when it is the broker, else the database)."""
    pid = os.getpid()
    with _lock:
        if pid not in _counters:
            url = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
            redis_url = url if url.startswith(("redis://", "rediss://")) else None
            _counters.clear()
            _counters[pid] = _RedisCounter(redis_url) if redis_url else _DatabaseCounter()
        return _counters[pid]


def inject_faults(account: SandboxAccount) -> None:
    """Count the request, sleep `latency_ms`, and answer 503 on every `fault_every_n`-th one.

    `request_count` is every authenticated request the account answered (or refused with a
    fault): what tests and people count to see what reached the stand-in.
    """
    rows = SandboxAccount.objects.filter(pk=account.pk)
    if account.latency_ms:
        time.sleep(min(account.latency_ms, MAX_LATENCY_MS) / 1000)
    if not account.fault_every_n:
        rows.update(request_count=F("request_count") + 1)
        return
    with transaction.atomic():
        rows.update(request_count=F("request_count") + 1)
        count = rows.values_list("request_count", flat=True).first() or 0
    if count % account.fault_every_n == 0:
        raise ApiError(
            503,
            "service_unavailable",
            f"Injected fault: this sandbox account fails every {account.fault_every_n} requests.",
        )
