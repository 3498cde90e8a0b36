"""Typed Klaviyo errors that know whether they are worth retrying and explain themselves.

Klaviyo answers errors as JSON:API documents,
`{"errors": [{"id", "status", "code", "title", "detail", "source": {"pointer"}}]}`; see
https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling. `error_from_response`
turns such an answer into one of the classes below. Every error's `message` (also `str(error)`)
is a sentence a marketer can act on; the raw entries stay in `errors` for developers.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

REQUEST_ID_HEADER = "X-Klaviyo-Req-Id"


class KlaviyoError(Exception):
    """A failed Klaviyo call; `retryable` says whether repeating it later could succeed.

    `attempts` holds the client's `Attempt` records when the error comes from the client.
    """

    default_retryable = False

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        source_pointer: str | None = None,
        source_parameter: str | None = None,
        request_id: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        errors: list[dict[str, Any]] | None = None,
        attempts: list[Any] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.source_pointer = source_pointer
        self.source_parameter = source_parameter
        self.request_id = request_id
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after
        self.errors = errors or []
        self.attempts = attempts or []
        self._message = message
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """Return a sentence that says what went wrong and what to do about it."""
        return self._message or self._describe()

    @property
    def permanent(self) -> bool:
        """Return True when retrying the same request cannot help."""
        return not self.retryable

    @property
    def reached(self) -> bool:
        """Tell whether the request may have reached Klaviyo (and so may have been applied).

        An answer means it did, except a 429, which Klaviyo sends instead of acting; no answer
        at all (our own rate limit, a refused link) means it did not. Connection errors know
        better and say so themselves.
        """
        return self.status is not None and self.status != 429

    @property
    def field(self) -> str | None:
        """Return the request field Klaviyo blamed (`emails[2]`), or None."""
        return field_path(self.source_pointer) or self.source_parameter

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments defeat Exception's default pickling; Celery and
        # multiprocessing need to pickle errors, so rebuild from the instance dict.
        return (_rebuild, (type(self), self.__dict__.copy()))

    def _describe(self) -> str:
        status = f" ({self.status})" if self.status else ""
        return f"Klaviyo could not complete the request{status}{_colon(self.detail)}"


def _rebuild(cls: type[KlaviyoError], state: dict[str, Any]) -> KlaviyoError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error.message)
    return error


class KlaviyoAuthError(KlaviyoError):
    """Klaviyo refused the credentials (401) or their scopes (403); fix the connection."""

    def __init__(
        self, message: str | None = None, *, is_oauth: bool = False, **fields: Any
    ) -> None:
        self.is_oauth = is_oauth
        super().__init__(message, **fields)

    def _describe(self) -> str:
        what = "access token" if self.is_oauth else "API key"
        if self.status == 403:
            fix = "reconnect the app with the scopes" if self.is_oauth else "give the key the scope"
            return f"Klaviyo denied the request (403): {fix} this action needs{_paren(self.detail)}"
        if self.is_oauth:
            return f"Klaviyo refused the {what} (401): reconnect the Klaviyo account"
        return f"Klaviyo refused the {what} (401): check that the key is correct and not revoked"


class KlaviyoNotFoundError(KlaviyoError):
    """Klaviyo has nothing at this address (404); usually a wrong or deleted id."""

    def _describe(self) -> str:
        return f"Klaviyo could not find it (404): check the id{_paren(self.detail)}"


class KlaviyoRateLimitError(KlaviyoError):
    """Klaviyo (or our own bucket) said to slow down (429); `retry_after` is in seconds."""

    default_retryable = True

    def _describe(self) -> str:
        if self.retry_after is None:
            return "Klaviyo's rate limit was reached; retry shortly"
        return f"Klaviyo's rate limit was reached; retry in {format_seconds(self.retry_after)}"


class KlaviyoInvalidRequestError(KlaviyoError):
    """Klaviyo rejected the input (400, 409, 422 and other 4xx); the request must change.

    `duplicate_profile_id` carries `meta.duplicate_profile_id` from a 409, so a workflow can
    update the existing profile instead.
    """

    def __init__(self, message: str | None = None, **fields: Any) -> None:
        errors = fields.get("errors") or []
        meta = errors[0].get("meta") if errors else None
        duplicate = meta.get("duplicate_profile_id") if isinstance(meta, dict) else None
        self.duplicate_profile_id: str | None = None if duplicate is None else str(duplicate)
        super().__init__(message, **fields)

    def _describe(self) -> str:
        problems = [describe_entry(entry) for entry in self.errors] or [
            self.detail or self.title or "the input is not valid"
        ]
        text = "; ".join(problems[:3])
        if len(problems) > 3:
            text += f" (and {len(problems) - 3} more problems)"
        if self.duplicate_profile_id:
            text += f" (existing profile {self.duplicate_profile_id})"
        return f"Klaviyo rejected the request: {text}"


class KlaviyoConflictError(KlaviyoInvalidRequestError):
    """Klaviyo reports a conflict (409), e.g. a profile with these identifiers exists."""


class KlaviyoServerError(KlaviyoError):
    """Klaviyo failed on its side (5xx); the same request may succeed later."""

    default_retryable = True

    def _describe(self) -> str:
        return f"Klaviyo had a problem on its side ({self.status}); try again in a few minutes"


class KlaviyoConnectionError(KlaviyoError):
    """No answer from Klaviyo: the connection failed or was cut.

    `reached` tells whether the request may have been received (a dropped connection after
    sending) or provably was not (refused, DNS failure, connect timeout).
    """

    default_retryable = True

    def __init__(self, message: str | None = None, *, reached: bool = False, **fields: Any) -> None:
        self._reached = reached
        super().__init__(message, **fields)

    @property
    def reached(self) -> bool:
        """Tell whether the request may have been received before the connection failed."""
        return self._reached

    def _describe(self) -> str:
        return f"Could not reach Klaviyo{_colon(self.detail)}; check the network and try again"


class KlaviyoTimeoutError(KlaviyoConnectionError):
    """Klaviyo did not answer in time; a read timeout may have reached Klaviyo."""

    def _describe(self) -> str:
        return f"Klaviyo did not answer in time{_colon(self.detail)}; try again"


#: What an RFC 6749 error code means for the person looking at the connection.
OAUTH_PLAIN_ERRORS = {
    "invalid_grant": (
        "Klaviyo no longer accepts this connection's authorization (it expired or was revoked). "
        "Reconnect it."
    ),
    "invalid_client": (
        "Klaviyo does not recognise this Step Builder's OAuth app. Ask whoever runs Step Builder "
        "to check KLAVIYO_OAUTH_CLIENT_ID and KLAVIYO_OAUTH_CLIENT_SECRET."
    ),
    "unauthorized_client": (
        "Klaviyo does not allow this Step Builder's OAuth app to do that. Ask whoever runs "
        "Step Builder to check the app's settings in Klaviyo."
    ),
    "access_denied": "You declined the authorization in Klaviyo, so nothing was connected.",
}


class KlaviyoOAuthError(KlaviyoError):
    """An OAuth exchange (authorize, token, refresh, revoke) failed; `code` is RFC 6749's.

    `str(error)` is a sentence for the person at the screen; `detail` keeps the provider's own
    words for the connection's event log. It is a `KlaviyoError`, so views and the engine catch
    one family for everything that can go wrong between us and Klaviyo.
    """

    def __init__(self, message: str, *, code: str = "", detail: str = "", **fields: Any) -> None:
        super().__init__(
            OAUTH_PLAIN_ERRORS.get(code, message), code=code, detail=detail or message, **fields
        )

    @property
    def log_message(self) -> str:
        """Return the sentence plus the provider's code and detail, for the event log."""
        code = f" [{self.code}]" if self.code else ""
        return f"{self}{code} {self.detail}".strip()

    @property
    def needs_reconnect(self) -> bool:
        """True when the grant itself is gone and only a new authorization helps."""
        return self.code in ("invalid_grant", "invalid_client", "unauthorized_client")


def error_from_response(
    status: int,
    payload: Any,
    headers: Mapping[str, str] | None = None,
    *,
    is_oauth: bool = False,
    retry_after: float | None = None,
) -> KlaviyoError:
    """Build the typed error for a non-2xx answer; never raise while parsing.

    `payload` is the decoded JSON body (anything, including None for a non-JSON body).
    """
    entries = _entries(payload)
    first = entries[0] if entries else {}
    source = first.get("source") if isinstance(first.get("source"), dict) else {}
    request_id = (headers or {}).get(REQUEST_ID_HEADER) or _str(first.get("id"))
    fields: dict[str, Any] = {
        "status": status,
        "code": _str(first.get("code")),
        "title": _str(first.get("title")),
        "detail": _str(first.get("detail")),
        "source_pointer": _str(source.get("pointer")),
        "source_parameter": _str(source.get("parameter")),
        "request_id": request_id,
        "errors": entries,
        "retry_after": retry_after,
    }
    if status in (401, 403):
        return KlaviyoAuthError(is_oauth=is_oauth, **fields)
    if status == 404:
        return KlaviyoNotFoundError(**fields)
    if status == 429:
        return KlaviyoRateLimitError(**fields)
    if status == 409:
        return KlaviyoConflictError(**fields)
    if 400 <= status < 500:
        return KlaviyoInvalidRequestError(**fields)
    if status >= 500:
        return KlaviyoServerError(**fields)
    return KlaviyoError(**fields)


def error_from_exception(
    exc: requests.RequestException, *, host: str, timeout: tuple[float, float]
) -> KlaviyoError:
    """Build the typed error for a request that got no answer, saying whether it may have
    reached Klaviyo (`reached`): a POST is only safe to repeat when it provably did not."""
    connect, read = timeout
    if isinstance(exc, requests.ConnectTimeout):
        return KlaviyoTimeoutError(
            f"Could not connect to Klaviyo at {host} within {connect:g} s; try again later",
            reached=False,
        )
    if isinstance(exc, requests.Timeout):
        return KlaviyoTimeoutError(
            f"Klaviyo did not answer within {read:g} s; the request may or may not have "
            "been applied",
            reached=True,
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return KlaviyoConnectionError(
            f"The secure connection to {host} failed; check the Klaviyo base URL",
            reached=False,
            retryable=False,
        )
    if isinstance(exc, requests.ConnectionError):
        if _never_connected(exc):
            return KlaviyoConnectionError(
                f"Could not connect to Klaviyo at {host}; try again later", reached=False
            )
        return KlaviyoConnectionError(
            f"The connection to Klaviyo at {host} was cut; the request may or may not "
            "have been applied",
            reached=True,
        )
    return KlaviyoError(f"Could not send the request to Klaviyo: {exc}", retryable=False)


def _never_connected(exc: BaseException) -> bool:
    """Tell whether a connection error happened before any byte of the request was sent."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        # urllib3 raises NewConnectionError (DNS failure, refused) only while connecting.
        if isinstance(current, NewConnectionError | ConnectionRefusedError):
            return True
        stack.extend([getattr(current, "reason", None), current.__cause__, current.__context__])
        stack.extend(current.args)
    return False


def _entries(payload: Any) -> list[dict[str, Any]]:
    if not isinstance(payload, dict):
        return []
    errors = payload.get("errors")
    if not isinstance(errors, list):
        return []
    return [entry for entry in errors if isinstance(entry, dict)]


def field_path(pointer: str | None) -> str | None:
    """Turn a JSON pointer into the field path a user typed: `/data/attributes/emails/2` ->
    `emails[2]`; return None for a pointer at the whole document."""
    if not pointer:
        return None
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.strip("/").split("/") if p]
    # JSON:API wraps user input in data.attributes; the user only knows the attribute names.
    if parts[:2] == ["data", "attributes"]:
        parts = parts[2:]
    elif parts[:1] == ["data"]:
        parts = parts[1:]
    path = ""
    for part in parts:
        path += f"[{part}]" if part.isdigit() else (f".{part}" if path else part)
    return path or None


def describe_entry(entry: Mapping[str, Any]) -> str:
    """Describe one error entry as `'field' problem` (or just the problem when no field)."""
    source = entry.get("source") if isinstance(entry.get("source"), dict) else {}
    field = field_path(_str(source.get("pointer"))) or _str(source.get("parameter"))
    detail = (_str(entry.get("detail")) or _str(entry.get("title")) or "is not valid").rstrip(".")
    if not field or field in detail:
        return detail
    if detail[:1].islower():  # "is not a valid email" reads on from the field name
        return f"'{field}' {detail}"
    return f"'{field}': {detail}"


def format_seconds(seconds: float) -> str:
    """Format a wait for people: `0.5 s`, `12 s`, `5 min`, `3 h`."""
    if seconds < 10:
        return f"{math.ceil(seconds * 10) / 10:g} s"
    if seconds < 120:
        return f"{math.ceil(seconds)} s"
    if seconds < 7200:
        return f"{math.ceil(seconds / 60)} min"
    return f"{math.ceil(seconds / 3600)} h"


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _colon(detail: str | None) -> str:
    return f": {detail.rstrip('.')}" if detail else ""


def _paren(detail: str | None) -> str:
    return f" ({detail.rstrip('.')})" if detail else ""


class KlaviyoCanceled(KlaviyoError):
    """The caller stopped the call between two tries (a run canceled while its step retried)."""

    def __init__(self) -> None:
        super().__init__("Canceled between two tries of the request.", code="canceled")


def interruptible_sleep(stop: threading.Event) -> Callable[[float], None]:
    """Return a `sleep(seconds)` for the client that gives up as soon as `stop` is set.

    Once `stop` is set, the sleep raises `KlaviyoCanceled` instead of waiting on, so the client
    makes no further try.
    """

    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise KlaviyoCanceled

    return sleep
