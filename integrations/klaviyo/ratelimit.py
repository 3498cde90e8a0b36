"""Rate-limit buckets per Klaviyo account and tier, shared by every worker through Redis.

Klaviyo limits each account with two fixed windows per endpoint tier, burst (per second) and
steady (per minute), and some endpoints with a daily cap:
https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling

We keep a sliding log per window: no interval of a window's length (plus `margin`, for network
jitter between our clock and Klaviyo's) ever holds more than the window's limit, so Klaviyo's
fixed windows can never be exceeded, whatever their alignment. Over a long run the steady window
is used in full. `RateLimit-*` answer headers and 429s pause a bucket for everyone.

With Redis, one Lua script takes a token from all windows atomically on Redis's clock, so every
worker process on every machine shares one budget. Without Redis, a thread-safe in-process bucket
does the same for one process. Keys never hold secrets: bucket keys are SHA-256 fingerprinted.
"""

from __future__ import annotations

import collections
import logging
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .credentials import fingerprint
from .process_local import PerProcess

logger = logging.getLogger("integrations.klaviyo.ratelimit")

BURST_SECONDS = 1.0
STEADY_SECONDS = 60.0
DAILY_SECONDS = 86_400.0


@dataclass(frozen=True)
class Tier:
    """A rate-limit tier: requests per second (burst), per minute (steady), per day (optional)."""

    name: str
    burst: int
    steady: int
    daily: int | None = None

    @property
    def slug(self) -> str:
        """Identify the tier by its limits, so actions with equal limits share a bucket."""
        return f"{self.burst}-{self.steady}-{self.daily or 0}"


#: Klaviyo's published tiers. Actions with other limits (from the spec's `x-klaviyo-ratelimit`)
#: pass their own `Tier`.
TIERS: dict[str, Tier] = {
    "XS": Tier("XS", 1, 15),
    "S": Tier("S", 3, 60),
    "M": Tier("M", 10, 150),
    "L": Tier("L", 75, 700),
    "XL": Tier("XL", 350, 3500),
}


def nearest_tier(burst: int) -> str:
    """Return the name of the published tier closest to a burst limit (on a log scale).

    The catalog and the sandbox name an operation's limits by this; the numbers stay its own.
    """
    return min(
        TIERS, key=lambda name: (abs(math.log(TIERS[name].burst / burst)), TIERS[name].burst)
    )


def resolve_tier(tier: str | Tier) -> Tier:
    """Return the `Tier` for a tier name (`"M"`) or the tier itself; raise KeyError if unknown."""
    return tier if isinstance(tier, Tier) else TIERS[tier.upper()]


class RateLimiter(Protocol):
    """A shared budget of requests per (bucket key, tier)."""

    def acquire(self, key: str, tier: str | Tier, *, block: bool = True) -> float:
        """Take a token; see `SlidingWindowLimiter.acquire` for the contract."""
        ...

    def pause(self, key: str, tier: str | Tier, seconds: float) -> None:
        """Hand out no token for this bucket during the next `seconds`."""
        ...

    def observe(self, key: str, tier: str | Tier, headers: Mapping[str, str]) -> None:
        """Tighten the bucket from an answer's `RateLimit-*` headers."""
        ...


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _first_number(value: str | None) -> float | None:
    # The IETF draft allows "10, 10;w=1, 150;w=60"; the first number is the tightest window.
    match = _NUMBER.search(value or "")
    return float(match.group()) if match else None


def header_wait(headers: Mapping[str, str]) -> float | None:
    """Return the seconds to wait that `RateLimit-Remaining: 0` + `RateLimit-Reset` ask for.

    Return None when the headers leave budget (or are absent).
    """
    remaining = _first_number(headers.get("RateLimit-Remaining"))
    reset = _first_number(headers.get("RateLimit-Reset"))
    if remaining is None or reset is None or remaining > 0 or reset <= 0:
        return None
    return reset


class SlidingWindowLimiter:
    """Shared logic: window sizes (with time scaling), blocking, and header tightening.

    `time_scale` shrinks the windows (10 makes a minute last 6 s), for benchmarks against a
    time-scaled emulator; `margin` is added to every window to absorb network jitter.
    """

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        margin: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.time_scale = time_scale
        self.margin = margin
        self._sleep = sleep

    def windows(self, tier: Tier) -> list[tuple[str, int, float]]:
        """Return (suffix, limit, seconds) for each window the tier has."""
        scale, margin = self.time_scale, self.margin
        windows = [
            ("b", tier.burst, BURST_SECONDS / scale + margin),
            ("s", tier.steady, STEADY_SECONDS / scale + margin),
        ]
        if tier.daily:
            windows.append(("d", tier.daily, DAILY_SECONDS / scale + margin))
        return windows

    def acquire(self, key: str, tier: str | Tier, *, block: bool = True) -> float:
        """Take one token for `key` at `tier` from every window.

        With `block=True`, sleep until a token is free and return the seconds slept (0.0 when
        none). With `block=False`, never sleep: return 0.0 when a token was taken, else the
        seconds until one may be free (no token taken), so a task can be deferred instead.
        """
        resolved = resolve_tier(tier)
        waited = 0.0
        while True:
            wait = self._try_acquire(key, resolved)
            if wait <= 0:
                return waited
            if not block:
                return wait
            self._sleep(wait)
            waited += wait

    def observe(self, key: str, tier: str | Tier, headers: Mapping[str, str]) -> None:
        """Pause the bucket when Klaviyo says no budget remains until its window resets."""
        wait = header_wait(headers)
        if wait:
            self.pause(key, tier, wait)

    def pause(self, key: str, tier: str | Tier, seconds: float) -> None:
        """Hand out no token for this bucket during the next `seconds` (never shortens)."""
        raise NotImplementedError

    def _try_acquire(self, key: str, tier: Tier) -> float:
        raise NotImplementedError


class LocalRateLimiter(SlidingWindowLimiter):
    """An in-process, thread-safe bucket: right when one process makes all the calls."""

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        margin: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(time_scale=time_scale, margin=margin, sleep=sleep)
        self._clock = clock
        self._lock = threading.Lock()
        self._logs: dict[tuple[str, str, str], collections.deque[float]] = {}
        self._paused: dict[tuple[str, str], float] = {}

    def _try_acquire(self, key: str, tier: Tier) -> float:
        with self._lock:
            now = self._clock()
            wait = self._paused.get((key, tier.slug), 0.0) - now
            logs = []
            for suffix, limit, seconds in self.windows(tier):
                log = self._logs.setdefault((key, tier.slug, suffix), collections.deque())
                while log and log[0] <= now - seconds:
                    log.popleft()
                if len(log) >= limit:
                    # The token frees when the entry that keeps us at the limit leaves the window.
                    wait = max(wait, log[len(log) - limit] + seconds - now)
                logs.append(log)
            if wait > 0:
                return wait
            for log in logs:
                log.append(now)
            return 0.0

    def pause(self, key: str, tier: str | Tier, seconds: float) -> None:
        """Hand out no token for this bucket during the next `seconds` (never shortens)."""
        bucket = (key, resolve_tier(tier).slug)
        with self._lock:
            until = self._clock() + seconds
            self._paused[bucket] = max(self._paused.get(bucket, 0.0), until)


# Atomic "take a token from every window" on Redis's clock (microseconds). Numbers go back to
# Redis as "%.0f" strings: Lua's default number formatting keeps only 14 digits.
# KEYS[1] = pause key, KEYS[2..] = window logs; ARGV[1] = unique member, then limit/window pairs.
_ACQUIRE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if paused > now then wait = paused - now end
for i = 2, #KEYS do
  local limit = tonumber(ARGV[2 * i - 2])
  local window = tonumber(ARGV[2 * i - 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', string.format('%.0f', now - window))
  local count = redis.call('ZCARD', KEYS[i])
  if count >= limit then
    local entry = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
    local free_at = tonumber(entry[2]) + window
    if free_at - now > wait then wait = free_at - now end
  end
end
if wait > 0 then return wait end
local score = string.format('%.0f', now)
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], score, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], math.ceil(tonumber(ARGV[2 * i - 1]) / 1000) + 1000)
end
return 0
"""

# KEYS[1] = pause key; ARGV[1] = pause length in microseconds. Only ever extends a pause.
_PAUSE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local length = tonumber(ARGV[1])
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if now + length > paused then
  redis.call('SET', KEYS[1], string.format('%.0f', now + length),
             'PX', math.ceil(length / 1000) + 1000)
end
return 0
"""


class RedisRateLimiter(SlidingWindowLimiter):
    """A bucket in Redis shared by every worker process, taken atomically by a Lua script.

    If Redis is unreachable the limiter lets calls through (and logs a warning): Klaviyo's own
    429s, which the client honours, are the backstop, and a broken cache must not stop runs.
    """

    def __init__(
        self,
        redis: Any,
        *,
        prefix: str = "stepbuilder:klaviyo:ratelimit",
        time_scale: float = 1.0,
        margin: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(time_scale=time_scale, margin=margin, sleep=sleep)
        if isinstance(redis, str):
            import redis as redis_lib

            # Bounded timeouts: a black-holed Redis must not hang a worker (we fail open).
            redis = redis_lib.Redis.from_url(redis, socket_connect_timeout=2, socket_timeout=2)
        self.redis = redis
        self.prefix = prefix
        self._warned_at = -math.inf
        # redis-py loads each script once and then calls it by SHA (EVALSHA).
        self._acquire_script = redis.register_script(_ACQUIRE_LUA)
        self._pause_script = redis.register_script(_PAUSE_LUA)

    def _bucket(self, key: str, tier: Tier) -> str:
        # The braces are a Redis Cluster hash tag: all keys of one bucket land on one shard,
        # which a multi-key script requires.
        return f"{self.prefix}:{{{fingerprint(key)}:{tier.slug}}}"

    def _try_acquire(self, key: str, tier: Tier) -> float:
        import redis as redis_lib

        bucket = self._bucket(key, tier)
        windows = self.windows(tier)
        keys = [f"{bucket}:pause"] + [f"{bucket}:{suffix}" for suffix, _, _ in windows]
        args: list[str | int] = [secrets.token_hex(8)]
        for _, limit, seconds in windows:
            args += [limit, int(seconds * 1_000_000)]
        try:
            wait_us = self._acquire_script(keys=keys, args=args)
        except redis_lib.RedisError as exc:
            self._warn("rate limiter unavailable, letting the call through: %s", exc)
            return 0.0
        # One extra millisecond so we wake after the entry left the window, not just before.
        return int(wait_us) / 1_000_000 + 0.001 if int(wait_us) > 0 else 0.0

    def pause(self, key: str, tier: str | Tier, seconds: float) -> None:
        """Hand out no token for this bucket during the next `seconds` (never shortens)."""
        import redis as redis_lib

        if seconds <= 0:
            return
        bucket = self._bucket(key, resolve_tier(tier))
        try:
            self._pause_script(keys=[f"{bucket}:pause"], args=[int(seconds * 1_000_000)])
        except redis_lib.RedisError as exc:
            self._warn("rate limiter unavailable, pause not shared: %s", exc)

    def _warn(self, message: str, exc: Exception) -> None:
        # Once a minute at most: while Redis is down every call would say the same thing.
        if time.monotonic() - self._warned_at >= 60:
            self._warned_at = time.monotonic()
            logger.warning(message, exc)


def redis_url_from_settings() -> str | None:
    """Return `KLAVIYO_RATELIMIT_REDIS_URL`, else a `redis://` Celery broker URL, else None.

    Read Django settings lazily and tolerate their absence (the client works without Django).
    """
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
    except ImportError:
        return None
    try:
        url = getattr(settings, "KLAVIYO_RATELIMIT_REDIS_URL", None)
        broker = getattr(settings, "CELERY_BROKER_URL", None) or ""
    except ImproperlyConfigured:
        return None
    if url:
        return str(url)
    if broker.startswith(("redis://", "rediss://")):
        return broker
    return None


def time_scale_from_settings() -> float:
    """Return `KLAVIYO_RATELIMIT_TIME_SCALE` (1 without Django): how much faster the windows run.

    Only for stand-ins with faster clocks (the sandbox's `scaled` mode, a benchmark's stub);
    against Klaviyo it stays 1.
    """
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
    except ImportError:
        return 1.0
    try:
        return float(getattr(settings, "KLAVIYO_RATELIMIT_TIME_SCALE", 1.0) or 1.0)
    except ImproperlyConfigured:
        return 1.0


def _new_default_limiter() -> RateLimiter:
    url = redis_url_from_settings()
    scale = time_scale_from_settings()
    return RedisRateLimiter(url, time_scale=scale) if url else LocalRateLimiter(time_scale=scale)


_default = PerProcess(_new_default_limiter)


def default_rate_limiter() -> RateLimiter:
    """Return this process's shared limiter: Redis-backed when configured, else in-process.

    A limiter (and its lock) inherited through a fork is not reused.
    """
    return _default.get()
