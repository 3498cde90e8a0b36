"""Where a request really comes from when reverse proxies stand in front of the app."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """Return the address of the client that sent `request`, as our own proxies recorded it.

    Each of the TRUSTED_PROXY_HOPS proxies appends the address it was reached from to
    X-Forwarded-For, so the client's address is that many entries from the right. Entries further
    left were written by the client and could say anything, so they are never used. With no
    proxies (0 hops) or no header, it is the connection's own address (REMOTE_ADDR).
    """
    remote = request.META.get("REMOTE_ADDR") or "unknown"
    hops = settings.TRUSTED_PROXY_HOPS
    if hops <= 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [entry.strip() for entry in header.split(",") if entry.strip()]
    if not forwarded:
        return remote
    # Fewer entries than hops: some proxy did not append one, so the left-most entry is still
    # one of ours (a client's own entries would make the list longer, not shorter).
    return forwarded[-hops] if len(forwarded) >= hops else forwarded[0]
