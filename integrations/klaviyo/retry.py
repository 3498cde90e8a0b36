"""Decide whether to retry a Klaviyo call and how long to wait: pure functions, no I/O.

Modelled on stripe-python's `_should_retry`, `_sleep_time_seconds` and `_add_jitter_time`:
the decision and the delay are plain functions of the outcome, and jitter is a separate function
so tests can replace it. Klaviyo asks clients to retry 429 and 5xx answers with backoff and to
honour `Retry-After`: https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

Jitter = Callable[[float], float]

#: Methods that are safe to repeat: repeating them leaves Klaviyo in the same state.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds for retrying: attempts in total, the backoff curve and the longest wait we sleep.

    A `Retry-After` longer than `max_retry_after` (a daily cap, say) is not slept through; the
    error goes back to the caller, which can defer the work instead of holding a worker.
    """

    max_attempts: int = 4
    initial_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 60.0


def is_idempotent(method: str, idempotent: bool | None = None) -> bool:
    """Tell whether a request is safe to repeat: an explicit flag wins, else POST is not."""
    if idempotent is not None:
        return idempotent
    return method.upper() in IDEMPOTENT_METHODS


def is_transient(status: int | None) -> bool:
    """Tell whether an outcome may succeed later: no answer (None), 429 or 5xx."""
    return status is None or status == 429 or status >= 500


def should_retry(
    *,
    attempt: int,
    status: int | None,
    reached: bool,
    idempotent: bool,
    retry_after: float | None = None,
    policy: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so sharing it is safe
) -> bool:
    """Decide whether the client should repeat a request after attempt number `attempt` (1-based).

    `status` is the HTTP status, or None when no answer came; `reached` is False only when the
    request provably never got to Klaviyo (connection refused, connect timeout). A request that
    is not idempotent is repeated only when Klaviyo provably did not act on it: a 429 (refused
    before processing) or a failure to connect. Other 4xx are final.
    """
    if attempt >= policy.max_attempts or not is_transient(status):
        return False
    if retry_after is not None and retry_after > policy.max_retry_after:
        return False
    if status == 429:
        return True
    if status is None and not reached:
        return True
    return idempotent


def sleep_time_seconds(
    attempt: int,
    *,
    retry_after: float | None = None,
    policy: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so sharing it is safe
    jitter: Jitter | None = None,
) -> float:
    """Return how long to wait before retry number `attempt` (1 after the first try).

    Klaviyo's `Retry-After` wins when present (it knows when its window resets); otherwise
    exponential backoff from `initial_delay`, capped at `max_delay`, passed through `jitter`.
    """
    if retry_after is not None:
        return max(0.0, retry_after)
    delay = min(policy.initial_delay * (2 ** max(0, attempt - 1)), policy.max_delay)
    return (jitter or default_jitter)(delay)


def default_jitter(delay: float) -> float:
    """Spread `delay` over [delay/2, delay] so workers that failed together retry apart."""
    return delay * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not cryptography


def no_jitter(delay: float) -> float:
    """Return `delay` unchanged (for tests and benchmarks)."""
    return delay


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Parse a `Retry-After` header (seconds, possibly fractional, or an HTTP date) into seconds.

    Return None when the header is missing or unreadable; never a negative number.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
