"""The web server's lean route for machine traffic: webhook deliveries under `/hooks/`.

A webhook sender posts JSON: it carries no session, signs in as nobody and reads no page. The
browser middleware (static files, sessions, sign-in, messages, htmx, the current workspace and
the per-page Content-Security-Policy) did nothing for it and took about a fifth of each
delivery's time (benchmarks/bench_webhooks.py). So `builder/wsgi.py` hands these paths to a
second Django handler built from `settings.MACHINE_MIDDLEWARE`: the host, HTTPS, CSRF and
framing checks stay, every answer carries the strictest policy, and errors answer in JSON.

Only the WSGI application routes this way; Django's test client takes every path
through the full `MIDDLEWARE`, which these views work under as well.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponseBase, JsonResponse

#: Nothing in a JSON answer may load, run or frame anything.
MACHINE_POLICY = "default-src 'none'; frame-ancestors 'none'"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class MachineHandler(WSGIHandler):
    """A Django handler whose middleware chain is `settings.MACHINE_MIDDLEWARE`."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Django builds the chain from settings.MIDDLEWARE; lend it the machine list while it
        # does (once, as the server starts, before any request).
        browser = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.MACHINE_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = browser


class MachineAnswerMiddleware:
    """Answers on machine paths: errors as JSON `{"detail"}`, all with MACHINE_POLICY."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            # Django's own pages (no such URL, wrong method, bad host): a sender reads JSON.
            answer = JsonResponse(
                {"detail": f"{response.status_code} {response.reason_phrase}."},
                status=response.status_code,
            )
            for name, value in response.items():  # Allow, and the security middleware's
                if name.lower() not in ("content-type", "content-length"):
                    answer[name] = value
            response = answer
        response.setdefault("Content-Security-Policy", MACHINE_POLICY)
        return response


def routed(browser: WSGIApp, machine: WSGIApp) -> WSGIApp:
    """One WSGI application: MACHINE_PATHS to `machine`, everything else to `browser`."""
    prefixes = tuple(settings.MACHINE_PATHS)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        chosen = machine if environ.get("PATH_INFO", "").startswith(prefixes) else browser
        return chosen(environ, start_response)

    return application
