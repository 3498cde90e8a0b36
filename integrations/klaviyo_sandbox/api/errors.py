"""Klaviyo-format API errors raised anywhere in the sandbox and rendered by the views.

Klaviyo answers errors as `{"errors": [{"id", "status", "code", "title", "detail", "source"}]}`
(https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling). Codes follow Klaviyo's
where Klaviyo documents one; `route_not_found` (no such endpoint) is kept apart from `not_found`
(no such resource) so callers and tests can tell them apart.
"""

from __future__ import annotations

import uuid
from typing import Any

TITLES = {
    400: "Invalid input.",
    401: "Authentication credentials were not provided.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    405: "Method not allowed.",
    409: "Conflict.",
    413: "Request entity too large.",
    415: "Unsupported media type.",
    429: "Request was throttled.",
    503: "Service unavailable.",
}


class ApiError(Exception):
    """An error answer: raise it from any layer; the view turns it into Klaviyo's JSON."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        pointer: str | None = None,
        parameter: str | None = None,
        meta: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or TITLES.get(status, "Error.")
        self.pointer = pointer
        self.parameter = parameter
        self.meta = meta
        self.headers = headers or {}

    def document(self) -> dict[str, Any]:
        """Return the `{"errors": [...]}` body for this error."""
        entry: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "status": self.status,
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
            "source": {},
        }
        if self.pointer is not None:
            entry["source"]["pointer"] = self.pointer
        if self.parameter is not None:
            entry["source"]["parameter"] = self.parameter
        if self.meta:
            entry["meta"] = self.meta
        return {"errors": [entry]}


def invalid(detail: str, *, pointer: str | None = None, parameter: str | None = None) -> ApiError:
    """Return a 400 `invalid` error pointing at the offending body member or parameter."""
    return ApiError(400, "invalid", detail, pointer=pointer, parameter=parameter)


def not_found(kind: str, resource_id: str, *, pointer: str | None = None) -> ApiError:
    """Return the 404 for a resource id the account does not have."""
    return ApiError(
        404, "not_found", f"A {kind} with id {resource_id} does not exist.", pointer=pointer
    )


def conflict(detail: str, *, pointer: str | None = None, code: str = "conflict") -> ApiError:
    """Return a 409, e.g. a catalog item whose external id is taken."""
    return ApiError(409, code, detail, pointer=pointer)
