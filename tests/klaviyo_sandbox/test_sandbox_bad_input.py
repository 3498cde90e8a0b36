"""Hostile input is a 400 in Klaviyo's error format, never a 500: deep nesting, huge numbers,
overflowing cursors, NUL characters (PostgreSQL refuses them) and over-long PKCE values.

These go through Django's test client (no live server), so they are quick and run on whichever
database the suite runs on; run them on PostgreSQL too.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from integrations.klaviyo_sandbox.api.query import MAX_OFFSET
from integrations.klaviyo_sandbox.services import sandbox_account_create

REVISION = "2026-07-15"
JSON_API = "application/vnd.api+json"

Send = Callable[..., Any]


@pytest.fixture
def send(db) -> Send:
    """Return `send(method, path, query=None, body=None)` calling the sandbox API with a key.

    `body` is sent as given when it is text, else as JSON. Answers are never raised: a server
    error is a 500 response, so the tests can say what they got.
    """
    _, key = sandbox_account_create(name="Hostile Input Store", seed=False)
    client = Client(
        raise_request_exception=False,
        headers={"Authorization": f"Klaviyo-API-Key {key}", "revision": REVISION},
    )

    def call(method: str, path: str, query: dict[str, str] | None = None, body: Any = None):
        url = f"/sandbox/klaviyo{path}" + (f"?{urlencode(query)}" if query else "")
        if body is None:
            return client.generic(method, url)
        data = body if isinstance(body, str) else json.dumps(body)
        # surrogatepass: a test may send a lone surrogate, as a broken client could
        return client.generic(
            method, url, data=data.encode("utf-8", "surrogatepass"), content_type=JSON_API
        )

    return call


def refused(response: Any, **source: str) -> dict[str, Any]:
    """Assert the answer is Klaviyo's 400 `invalid` naming `source`; return the error."""
    assert response.status_code == 400, response.content[:500]
    [error] = response.json()["errors"]
    assert error["code"] == "invalid"
    assert error["source"] == source
    return error


@pytest.mark.parametrize(
    "text",
    [
        "not(" * 2000 + "equals(email,'a@example.com')" + ")" * 2000,
        "any(email," + "[" * 2000 + "'a@example.com'" + "]" * 2000 + ")",
    ],
    ids=["not", "lists"],
)
def test_a_filter_nested_2000_deep_is_a_400(send, text):
    error = refused(send("GET", "/api/profiles", {"filter": text}), parameter="filter")
    assert "nested more than 32 levels" in error["detail"]


def test_a_5000_digit_number_in_a_filter_is_a_400(send):
    answer = send("GET", "/api/profiles", {"filter": f"greater-than(created,{'9' * 5000})"})
    assert "out of range" in refused(answer, parameter="filter")["detail"]


def cursor_for(offset: Any) -> str:
    """Return a page cursor in the sandbox's format for any offset (even one it never issues)."""
    raw = json.dumps({"o": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("offset", [2**31, 2**63 - 1, 10**30, -1, 1.5, "7"])
def test_a_page_cursor_past_what_a_database_integer_holds_is_a_400(send, offset):
    answer = send("GET", "/api/profiles", {"page[cursor]": cursor_for(offset)})
    assert refused(answer, parameter="page[cursor]")["detail"] == "Invalid page cursor."


@pytest.mark.parametrize("decoded", [b"[" * 5000, b"\xff\xfe", b'{"o": 1e999}'])
def test_a_page_cursor_that_decodes_to_hostile_json_is_a_400(send, decoded):
    cursor = base64.urlsafe_b64encode(decoded).decode()
    refused(send("GET", "/api/profiles", {"page[cursor]": cursor}), parameter="page[cursor]")


def test_the_largest_cursor_still_pages(send):
    answer = send("GET", "/api/profiles", {"page[cursor]": cursor_for(MAX_OFFSET)})
    assert answer.status_code == 200
    assert answer.json()["data"] == []
