"""Rate limits (429 + Retry-After + RateLimit-* headers) and injected faults, per account."""

from __future__ import annotations

import time

from integrations.klaviyo_sandbox.models import SandboxAccount


def configure(api, **fields) -> None:
    SandboxAccount.objects.filter(public_key=api.public_key).update(**fields)


def test_rate_limits_are_off_by_default(api):
    answers = [api.get("/api/tag-groups") for _ in range(5)]  # S tier: 3/s burst
    assert all(a.status_code == 200 for a in answers)
    assert "RateLimit-Limit" not in answers[0].headers


def test_real_mode_answers_429_with_retry_after_when_the_burst_is_used_up(api):
    configure(api, rate_limit_mode="real")
    first, second = api.get("/api/accounts"), api.get("/api/accounts")  # XS tier: 1/s, 15/m
    assert first.status_code == 200
    assert first.headers["RateLimit-Limit"] == "1"
    assert first.headers["RateLimit-Remaining"] == "0"
    assert int(first.headers["RateLimit-Reset"]) >= 1
    if second.status_code == 200:  # the second crossed into the next one-second window
        second = api.get("/api/accounts")
    assert second.status_code == 429
    error = second.json()["errors"][0]
    assert error["code"] == "throttled"
    assert error["status"] == 429
    assert int(second.headers["Retry-After"]) >= 1
    assert second.headers["RateLimit-Remaining"] == "0"
    # Another tier has its own budget.
    assert api.get("/api/profiles").status_code == 200


def test_scaled_mode_shortens_the_windows_and_the_steady_window_spans_bursts(api):
    # Scaled 30x: the XS tier's 15/minute window lasts two seconds, its 1/second one 1/30 s.
    configure(api, rate_limit_mode="scaled", time_scale=30)
    statuses = []
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and 429 not in statuses:
        statuses.append(api.get("/api/accounts").status_code)
        time.sleep(0.04)  # slower than the burst window, so only the steady window can fill up
    assert 429 in statuses
    assert statuses.count(200) >= 15
    time.sleep(2.1)
    assert api.get("/api/accounts").status_code == 200


def test_every_nth_request_fails_with_a_503(api):
    configure(api, fault_every_n=3)
    statuses = [api.get("/api/lists").status_code for _ in range(6)]
    assert statuses == [200, 200, 503, 200, 200, 503]
    assert api.get("/api/lists").json()["data"] == []


def test_latency_is_added_to_answers(api):
    configure(api, latency_ms=300)
    started = time.monotonic()
    assert api.get("/api/lists").status_code == 200
    assert time.monotonic() - started >= 0.3
