"""Fixtures for the Klaviyo sandbox tests: accounts, and a client speaking real HTTP to it.

`api` is an empty sandbox account, `shop` one seeded with the demo store; both are `Api`
objects sending what Klaviyo's client sends (private key, revision, JSON:API) to the sandbox on
pytest-django's live server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

REVISION = "2026-07-15"
JSON_API = "application/vnd.api+json"


class Api:
    """One sandbox account seen through HTTP, with its keys."""

    def __init__(self, base_url: str, api_key: str, public_key: str, account: Any) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.public_key = public_key
        self.account = account

    def headers(self, **extra: str) -> dict[str, str]:
        """Return the headers Klaviyo's client sends, plus `extra`."""
        return {
            "Authorization": f"Klaviyo-API-Key {self.api_key}",
            "revision": REVISION,
            "Accept": JSON_API,
            "Content-Type": JSON_API,
            **extra,
        }

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        # A fresh connection per request: the live server writes headers and body separately
        # without TCP_NODELAY, so on a kept-alive connection Nagle's algorithm and delayed
        # ACKs would add ~40 ms to every answer.
        return requests.request(
            method,
            self.url(path),
            json=json,
            params=params,
            headers=headers if headers is not None else self.headers(),
            timeout=30,
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, json=json, **kwargs)

    def delete(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, json=json, **kwargs)

    def create(
        self, kind: str, attributes: dict[str, Any], path: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        """POST a resource to its collection; return the created resource object."""
        body = {"data": {"type": kind, "attributes": attributes, **extra}}
        response = self.post(path or f"/api/{kind}s", body)
        assert response.status_code == 201, response.text
        return response.json()["data"]

    def all(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Follow `links.next` to the end; return every resource object."""
        found: list[dict[str, Any]] = []
        response = self.get(path, params=params)
        while True:
            assert response.status_code == 200, response.text
            document = response.json()
            found += document["data"]
            if not document["links"].get("next"):
                return found
            response = self.get(document["links"]["next"])


@pytest.fixture
def sandbox_url(live_server, transactional_db) -> str:
    """Return the sandbox's API base URL on the live server."""
    return f"{live_server.url}/sandbox/klaviyo"


@pytest.fixture
def make_api(sandbox_url) -> Callable[..., Api]:
    """Return `make_api(name="Acme", seed=False)`: a new sandbox account as an `Api`."""
    from integrations.klaviyo_sandbox.services import sandbox_account_create

    def make(name: str = "Acme Outfitters", seed: bool = False) -> Api:
        account, key = sandbox_account_create(name=name, seed=seed)
        return Api(sandbox_url, key, account.public_key, account)

    return make


@pytest.fixture
def api(make_api) -> Api:
    """An empty sandbox account (only webhook topics and the default tag group)."""
    return make_api()


@pytest.fixture
def shop(make_api) -> Api:
    """A sandbox account holding the demo store."""
    return make_api("Northwind Outfitters", seed=True)


def profile_body(email: str, **attributes: Any) -> dict[str, Any]:
    """Return a create-profile body."""
    return {"data": {"type": "profile", "attributes": {"email": email, **attributes}}}


@pytest.fixture
def new_profile(api) -> Callable[..., dict[str, Any]]:
    """Return `new_profile(email, **attributes)` creating a profile in `api`'s account."""

    def make(email: str, **attributes: Any) -> dict[str, Any]:
        response = api.post("/api/profiles", profile_body(email, **attributes))
        assert response.status_code == 201, response.text
        return response.json()["data"]

    return make
