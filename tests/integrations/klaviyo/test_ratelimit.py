"""Rate-limit buckets: the in-process bucket's windows, header tightening, and the Redis bucket
shared by several worker processes."""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
import uuid
from typing import Any

import pytest

from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.credentials import ApiKeyCredentials
from integrations.klaviyo.ratelimit import (
    TIERS,
    LocalRateLimiter,
    RedisRateLimiter,
    Tier,
    header_wait,
    redis_url_from_settings,
    resolve_tier,
)

REDIS_URL = os.environ.get("KLAVIYO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def local(clock) -> LocalRateLimiter:
    return LocalRateLimiter(clock=clock, sleep=clock.sleep, margin=0)


def test_tiers_are_klaviyos():
    assert [(t.burst, t.steady) for t in TIERS.values()] == [
        (1, 15),
        (3, 60),
        (10, 150),
        (75, 700),
        (350, 3500),
    ]
    assert resolve_tier("m") is TIERS["M"]
    custom = Tier("spec", burst=1, steady=2, daily=225)
    assert resolve_tier(custom) is custom


def test_the_burst_window_allows_burst_requests_per_second(local, clock):
    tier = Tier("t", burst=3, steady=100)

    assert [local.acquire("acct", tier, block=False) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert local.acquire("acct", tier, block=False) == pytest.approx(1.0)
    clock.now += 0.5
    assert local.acquire("acct", tier, block=False) == pytest.approx(0.5)
    clock.now += 0.5
    assert local.acquire("acct", tier, block=False) == 0.0


def test_the_steady_window_allows_steady_requests_per_minute(local, clock):
    tier = Tier("t", burst=10, steady=15)
    for count in (10, 5):  # 10 at t=0 and 5 at t=1 use up the minute
        for _ in range(count):
            assert local.acquire("acct", tier, block=False) == 0.0
        clock.now += 1

    assert local.acquire("acct", tier, block=False) == pytest.approx(58.0)
    clock.now += 58
    assert local.acquire("acct", tier, block=False) == 0.0


def test_a_daily_cap_is_a_third_window(local, clock):
    tier = Tier("t", burst=5, steady=100, daily=2)
    local.acquire("acct", tier)
    clock.now += 3600
    local.acquire("acct", tier)

    assert local.acquire("acct", tier, block=False) == pytest.approx(86_400 - 3600)


def test_a_blocking_acquire_sleeps_and_returns_the_wait(local, clock):
    tier = Tier("t", burst=1, steady=100)

    assert local.acquire("acct", tier) == 0.0
    assert local.acquire("acct", tier) == pytest.approx(1.0)
    assert clock.sleeps == [pytest.approx(1.0)]


def test_buckets_are_separate_per_key_and_tier(local):
    tier = Tier("t", burst=1, steady=100)
    local.acquire("acct-1", tier)

    assert local.acquire("acct-2", tier, block=False) == 0.0
    assert local.acquire("acct-1", Tier("u", burst=2, steady=100), block=False) == 0.0
    assert local.acquire("acct-1", tier, block=False) > 0


def test_time_scale_and_margin_size_the_windows(clock):
    limiter = LocalRateLimiter(clock=clock, time_scale=10, margin=0.02)

    assert limiter.windows(Tier("t", 10, 150, 1000)) == [
        ("b", 10, pytest.approx(0.12)),
        ("s", 150, pytest.approx(6.02)),
        ("d", 1000, pytest.approx(8640.02)),
    ]


def test_concurrent_threads_never_take_more_than_the_burst(local):
    tier = Tier("t", burst=7, steady=100)
    results: list[float] = []

    def take() -> None:
        results.append(local.acquire("acct", tier, block=False))

    threads = [threading.Thread(target=take) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results.count(0.0) == 7


def test_ratelimit_headers_pause_the_bucket_until_the_reset(local, clock):
    tier = TIERS["M"]
    local.observe("acct", tier, {"RateLimit-Remaining": "3", "RateLimit-Reset": "40"})
    assert local.acquire("acct", tier, block=False) == 0.0

    local.observe("acct", tier, {"RateLimit-Remaining": "0", "RateLimit-Reset": "7"})
    assert local.acquire("acct", tier, block=False) == pytest.approx(7.0)
    local.pause("acct", tier, 2)  # a shorter pause never shortens a longer one
    assert local.acquire("acct", tier, block=False) == pytest.approx(7.0)
    clock.now += 7
    assert local.acquire("acct", tier, block=False) == 0.0


def test_header_wait_reads_klaviyos_headers():
    assert header_wait({"RateLimit-Remaining": "0", "RateLimit-Reset": "12"}) == 12
    assert header_wait({"RateLimit-Remaining": "0, 0;w=1", "RateLimit-Reset": "1"}) == 1
    assert header_wait({"RateLimit-Remaining": "1", "RateLimit-Reset": "12"}) is None
    assert header_wait({}) is None


def test_the_redis_url_comes_from_settings(settings):
    settings.KLAVIYO_RATELIMIT_REDIS_URL = None
    settings.CELERY_BROKER_URL = "filesystem://"
    assert redis_url_from_settings() is None

    settings.CELERY_BROKER_URL = "redis://broker:6379/0"
    assert redis_url_from_settings() == "redis://broker:6379/0"

    settings.KLAVIYO_RATELIMIT_REDIS_URL = "redis://limits:6379/3"
    assert redis_url_from_settings() == "redis://limits:6379/3"


def test_the_redis_bucket_lets_calls_through_when_redis_is_down(caplog):
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0")

    with caplog.at_level(logging.WARNING):
        assert limiter.acquire("acct", "XS", block=False) == 0.0

    assert "rate limiter unavailable" in caplog.text


# --- Redis ---------------------------------------------------------------------------------


@pytest.fixture
def redis_prefix() -> Any:
    """Give each test its own key prefix in the local Redis, and clean it up afterwards."""
    import redis

    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    prefix = f"test:klaviyo:ratelimit:{uuid.uuid4().hex}"
    yield prefix
    for key in connection.scan_iter(f"{prefix}:*"):
        connection.delete(key)


def test_redis_buckets_share_windows_and_pauses_between_limiters(redis_prefix):
    first = RedisRateLimiter(REDIS_URL, prefix=redis_prefix, margin=0)
    second = RedisRateLimiter(REDIS_URL, prefix=redis_prefix, margin=0)
    tier = Tier("t", burst=2, steady=100)

    assert first.acquire("account:AbC123", tier, block=False) == 0.0
    assert second.acquire("account:AbC123", tier, block=False) == 0.0
    assert 0.9 < first.acquire("account:AbC123", tier, block=False) <= 1.001

    second.pause("account:XyZ789", tier, 30)
    assert 29 < first.acquire("account:XyZ789", tier, block=False) <= 30.001


def test_redis_steady_windows_and_time_scale(redis_prefix):
    limiter = RedisRateLimiter(REDIS_URL, prefix=redis_prefix, time_scale=60, margin=0)
    tier = Tier("t", burst=100, steady=5)  # scaled: 5 per second

    assert [limiter.acquire("acct", tier, block=False) for _ in range(5)] == [0.0] * 5
    wait = limiter.acquire("acct", tier, block=False)
    assert 0.5 < wait <= 1.001
    start = time.monotonic()
    limiter.acquire("acct", tier)
    assert time.monotonic() - start == pytest.approx(wait, abs=0.15)


def test_redis_keys_hold_fingerprints_not_secrets(redis_prefix):
    import redis

    limiter = RedisRateLimiter(REDIS_URL, prefix=redis_prefix)
    limiter.acquire("key:pk_not_really_secret", "M")

    keys = [k.decode() for k in redis.Redis.from_url(REDIS_URL).scan_iter(f"{redis_prefix}:*")]
    assert keys
    assert not any("pk_not_really_secret" in key for key in keys)


def _worker(client: KlaviyoClient, calls: int, tier: Tier, failures: Any) -> None:
    try:
        for _ in range(calls):
            client.send("GET", "/api/lists", tier=tier)
    except Exception as exc:  # reported to the test, which fails on it
        failures.put(repr(exc))


def test_two_worker_processes_sharing_the_redis_bucket_never_exceed_the_burst(
    klaviyo_server, redis_prefix
):
    tier = Tier("small", burst=5, steady=1000)
    limiter = RedisRateLimiter(REDIS_URL, prefix=redis_prefix)
    # Built before the fork, as Celery prefork does: each child must get its own session and
    # Redis connection.
    client = KlaviyoClient(
        ApiKeyCredentials("pk_shared"), base_url=klaviyo_server.url, rate_limiter=limiter
    )
    client.send("GET", "/api/lists", tier=tier)  # the parent's session and Redis pool exist
    context = multiprocessing.get_context("fork")
    failures = context.Queue()
    workers = [context.Process(target=_worker, args=(client, 10, tier, failures)) for _ in "ab"]

    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)

    assert failures.empty()
    arrivals = sorted(r.at for r in klaviyo_server.received)
    assert len(arrivals) == 21
    # Whatever the alignment of Klaviyo's one-second windows, none holds more than the burst.
    busiest = max(sum(1 for t in arrivals if start <= t < start + 1) for start in arrivals)
    assert busiest <= 5
    assert arrivals[-1] - arrivals[0] >= 4  # 21 calls at 5/s: the bucket did make them wait
