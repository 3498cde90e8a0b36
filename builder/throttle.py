"""Slow down password guessing: count failed logins per email and per address in the cache."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from builder.proxies import client_address


def _keys(request: HttpRequest, email: str) -> list[str]:
    who = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]
    # Hashed: the address comes from a header, and cache keys must stay short and printable.
    address = hashlib.sha256(client_address(request).encode()).hexdigest()[:24]
    return [f"login-fail:email:{who}", f"login-fail:addr:{address}"]


def login_blocked(request: HttpRequest, email: str) -> bool:
    """Tell whether this email or address has failed too often lately."""
    limit = settings.LOGIN_THROTTLE_ATTEMPTS
    return any((cache.get(key) or 0) >= limit for key in _keys(request, email))


def login_failed(request: HttpRequest, email: str) -> None:
    """Count one failed login for the email and the address."""
    for key in _keys(request, email):
        if not cache.add(key, 1, timeout=settings.LOGIN_THROTTLE_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=settings.LOGIN_THROTTLE_SECONDS)


def login_succeeded(request: HttpRequest, email: str) -> None:
    """Forget the email's failures (the address keeps its count)."""
    cache.delete(_keys(request, email)[0])
