"""Slow down password guessing without letting anyone lock a named person out.

Two counts of failed logins live in the cache, each for LOGIN_THROTTLE_SECONDS from its first
failure: one per client address (any email) and one per email (any address).

- An address with LOGIN_THROTTLE_ATTEMPTS failures waits, whichever email it tries next.
- An email with LOGIN_THROTTLE_EMAIL_ATTEMPTS failures (a guesser spread over many addresses)
  is closed only to addresses that have failed lately themselves. A correct password from an
  address with no recent failures still logs in, so nobody can lock the owner out by guessing.

The address is the client's as our proxies saw it (builder.proxies), never the proxy's own.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from builder.proxies import client_address


def _keys(request: HttpRequest, email: str) -> tuple[str, str]:
    # Hashed: the address comes from a header, and cache keys must stay short and printable.
    address = hashlib.sha256(client_address(request).encode()).hexdigest()[:24]
    who = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]
    return f"login-fail:addr:{address}", f"login-fail:email:{who}"


def _count(key: str) -> int:
    return cache.get(key) or 0


def _seconds_left(key: str) -> int:
    """Return how long the count under `key` has to live (the whole window if unknown)."""
    ends = cache.get(f"{key}:ends")
    if ends is None:  # evicted: the count may still live that long
        return settings.LOGIN_THROTTLE_SECONDS
    return max(1, math.ceil(ends - time.time()))


def login_wait(request: HttpRequest, email: str) -> int:
    """Return how many seconds this login attempt must wait; 0 means it may go ahead."""
    address_key, email_key = _keys(request, email)
    address_failures = _count(address_key)
    if address_failures >= settings.LOGIN_THROTTLE_ATTEMPTS:
        return _seconds_left(address_key)
    if address_failures and _count(email_key) >= settings.LOGIN_THROTTLE_EMAIL_ATTEMPTS:
        # Open again as soon as either this address's failures or the email's are forgotten.
        return min(_seconds_left(address_key), _seconds_left(email_key))
    return 0


def login_failed(request: HttpRequest, email: str) -> None:
    """Count one failed login for the client's address and for the email."""
    window = settings.LOGIN_THROTTLE_SECONDS
    for key in _keys(request, email):
        if cache.add(key, 1, timeout=window):
            cache.set(f"{key}:ends", time.time() + window, timeout=window)
            continue
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr: this failure starts a new window
            cache.set(key, 1, timeout=window)
            cache.set(f"{key}:ends", time.time() + window, timeout=window)


def wait_in_words(seconds: int) -> str:
    """Say a wait the way people do: "15 minutes", "1 minute", "40 seconds" (rounded up)."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{math.ceil(minutes / 60)} hours"
