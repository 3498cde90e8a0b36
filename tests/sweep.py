"""The machinery of the bad-input sweep (tests/test_bad_input.py): hostile values, requests
that are each rolled back, a stand-in for Klaviyo that refuses everything, the URL resolver's
routes, and the forms and links found in pages."""

from __future__ import annotations

import inspect
import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import PASSWORD

HOSTILE: dict[str, str] = {
    "empty": "",
    "100 000 characters": "x" * 100_000,
    "non-Latin-1": "🙂 zß ẞ",
    "NUL": "a\x00b",
    "nested 5 000 deep": "[" * 5000 + "]" * 5000,
}
#: A query parameter every route is tried with (Django's auth views read it), besides the ones
#: its page's forms and links and its view name.
COMMON_PARAMS = ("next",)

# -- Sending, with every request rolled back ------------------------------------------------------


@dataclass
class Sweep:
    """A client whose requests are each rolled back; collects every 5xx as a failure."""

    client: Client
    failures: list[str] = field(default_factory=list)
    sent: int = 0
    errors: list[str] = field(default_factory=list)  # what the sandbox logged for its 500s
    #: labels known to fail (not fixed yet); one that stops failing is a failure, so the list
    #: only ever shrinks
    known: set[str] = field(default_factory=set)

    def send(self, label: str, method: str, url: str, **kwargs: Any) -> Any:
        """Send one request inside a rolled-back savepoint; record a 5xx under `label`.

        The client's cookies and the cache are put back too, so no request sees another's
        effects (a logout, a deleted connection, a login throttled by earlier attempts).
        """
        cookies = dict(self.client.cookies)
        self.errors.clear()
        with transaction.atomic():
            response = self.client.generic(method, url, **kwargs)
            transaction.set_rollback(True)
        cache.clear()  # login throttling counts, so that no failed attempt hides the next one
        self.client.cookies = SimpleCookie()
        self.client.cookies.update(cookies)
        self.sent += 1
        if label in self.known:
            if response.status_code < 500:
                self.failures.append(f"{label}: fixed now, remove it from the known failures")
        elif response.status_code >= 500:
            cause = response.exc_info[1] if getattr(response, "exc_info", None) else None
            reason = f"{type(cause).__name__}: {cause}" if cause else "; ".join(self.errors)
            self.failures.append(f"{label}: HTTP {response.status_code} {reason[:300]}")
        return response

    def get(self, label: str, url: str, params: dict[str, str] | None = None) -> Any:
        query = f"?{urlencode(params)}" if params else ""
        return self.send(label, "GET", url + query)

    def post(self, label: str, url: str, data: dict[str, str]) -> Any:
        return self.send(
            label,
            "POST",
            url,
            data=urlencode(data),
            content_type="application/x-www-form-urlencoded",
        )

    def assert_no_failures(self) -> None:
        assert self.sent > 0
        assert not self.failures, f"{len(self.failures)} of {self.sent} requests failed:\n" + (
            "\n".join(self.failures[:60])
        )


class _Remember(logging.Handler):
    """Keep the exceptions the sandbox logs (it answers its own 500s) for the failure report."""

    def __init__(self, sweep: Sweep) -> None:
        super().__init__(logging.ERROR)
        self.sweep = sweep

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            self.sweep.errors.append(f"{type(error).__name__}: {error}")


@contextmanager
def sandbox_errors(sweep: Sweep) -> Iterator[None]:
    """Add what the sandbox logs for its own 500s to the sweep's failure reports."""
    logger = logging.getLogger("integrations.klaviyo_sandbox.api.views")
    handler = _Remember(sweep)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


class RefuseEverything(requests.adapters.BaseAdapter):
    """Stand in for Klaviyo: refuse every credential (OAuth endpoints as RFC 6749 says)."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.request = request
        response.url = request.url or ""
        response.headers["Content-Type"] = "application/json"
        if "/oauth/" in response.url:
            response.status_code = 400
            document: dict[str, Any] = {"error": "invalid_grant", "error_description": "Refused."}
        else:
            response.status_code = 401
            error = {"status": 401, "code": "not_authenticated", "detail": "Refused."}
            document = {"errors": [{**error, "title": "Not authenticated."}]}
        response._content = json.dumps(document).encode()
        return response

    def close(self) -> None:
        pass


# -- The routes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    args: tuple[str, ...]
    callback: Callable[..., Any]

    @property
    def area(self) -> str:
        return self.pattern.split("/", 1)[0]


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            args = tuple(entry.pattern.converters) or tuple(entry.pattern.regex.groupindex)
            yield Route(name, prefix + str(entry.pattern), args, entry.callback)


def routes() -> list[Route]:
    """Return every named route the URL resolver knows."""
    return list(_walk(get_resolver().url_patterns))


_READS = re.compile(r"request\.(GET|POST)(?:\.get(?:list)?\(\s*|\[\s*)[\"']([^\"']+)[\"']")


def names_read(route: Route) -> dict[str, set[str]]:
    """Return the GET and POST names the route's view module reads (`request.GET.get("q")`)."""
    view = inspect.unwrap(getattr(route.callback, "view_class", route.callback))
    module = inspect.getmodule(view)
    found: dict[str, set[str]] = {"GET": set(), "POST": set()}
    if module is not None and not module.__name__.startswith("django."):
        for method, name in _READS.findall(inspect.getsource(module)):
            found[method].add(name)
    return found


# -- Forms in pages -------------------------------------------------------------------------------

PLAUSIBLE = {
    "email": "sweep@example.com",
    "password": PASSWORD,
    "url": "https://example.com/",
    "number": "1",
}


@dataclass
class Form:
    """One `<form>` of a page: where it goes, how, and its fields at plausible values."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.forms: list[Form] = []
        self.linked: set[str] = set()  # query names of the page's own links (`?o=1`)
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "a" and a.get("href", "").startswith("?"):
            self.linked |= {part.split("=")[0] for part in a["href"][1:].split("&") if part}
            return
        if tag == "form":
            action = urlsplit(urljoin(self.page_url, a.get("action") or self.page_url)).path
            self.forms.append(Form(action, (a.get("method") or "get").upper()))
            return
        if not self.forms or not a.get("name") or a["name"] == "csrfmiddlewaretoken":
            return
        fields = self.forms[-1].fields
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a or name not in fields:
                    fields[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "file"):
                fields[name] = a.get("value") or PLAUSIBLE.get(kind, "Sweep")
        elif tag == "button" and name not in fields:  # the first submit button is pressed
            fields[name] = a.get("value", "")
        elif tag == "textarea":
            fields[name] = "Sweep"
        elif tag == "select":
            self.select = name
            fields.setdefault(name, "")
        elif tag == "option" and self.select and (not fields[self.select] or "selected" in a):
            fields[self.select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None


def forms_in(html: str, page_url: str) -> tuple[list[Form], set[str]]:
    """Return the forms of a page (with absolute action paths) and the query names it links."""
    parser = _Forms(page_url)
    parser.feed(html)
    return parser.forms, parser.linked


# -- Sweeping pages --------------------------------------------------------------------------------


@dataclass
class Base:
    """The valid request a route's hostile ones start from (query and form values)."""

    query: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)
    #: other queries that show other forms of the page (its tabs)
    variants: list[dict[str, str]] = field(default_factory=list)


def sweep_pages(sweep: Sweep, targets: list[tuple[Route, str]], starts: dict[str, Base]) -> None:
    """Fetch every target page, then send each hostile query parameter and form field."""
    forms: dict[str, dict[tuple[str, ...], Form]] = {}
    linked: dict[str, set[str]] = {}
    for route, url in targets:
        base = starts.get(route.name, Base())
        for query in (base.query, *base.variants):
            page = sweep.get(f"GET {route.name} {url} ?{urlencode(query)}", url, query)
            if page.status_code == 200 and "html" in page.get("Content-Type", ""):
                found, names = forms_in(page.content.decode(), url)
                linked.setdefault(url, set()).update(names)
                for form in found:
                    key = (form.method, *sorted(form.fields))
                    forms.setdefault(form.action, {}).setdefault(key, form)
    for route, url in targets:
        base = starts.get(route.name, Base())
        read = names_read(route)
        found = list(forms.get(url, {}).values())
        get_names = {*COMMON_PARAMS, *read["GET"], *base.query, *linked.get(url, ())}
        get_names |= {name for form in found if form.method == "GET" for name in form.fields}
        for name in sorted(get_names):
            for label, value in HOSTILE.items():
                where = f"GET {route.name} {url} ?{name}={label}"
                sweep.get(where, url, {**base.query, name: value})
        posts = [form.fields for form in found if form.method == "POST"] or [{}]
        for fields in posts:
            values = {**fields, **base.form}
            names = sorted({*values, *read["POST"]})
            if not names:  # an action without fields (test, reset...): once, plainly
                sweep.post(f"POST {route.name} {url}", url, {})
            for name in names:
                for label, value in HOSTILE.items():
                    where = f"POST {route.name} {url} field {name}={label}"
                    sweep.post(where, url, {**values, name: value})
