"""The one HTTP client every Klaviyo call goes through.

It adds authentication and the pinned API revision, takes a rate-limit token, retries what is
safe to retry, records one `Attempt` per HTTP try, logs one line per try (no secrets, no bodies)
and turns failures into typed `KlaviyoError`s. Conventions it follows:
https://developers.klaviyo.com/en/reference/api_overview and
https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

import requests

from .credentials import Credentials
from .errors import (
    REQUEST_ID_HEADER,
    KlaviyoAuthError,
    KlaviyoCanceled,
    KlaviyoError,
    KlaviyoRateLimitError,
    error_from_exception,
    error_from_response,
)
from .process_local import PerProcess
from .ratelimit import RateLimiter, Tier, default_rate_limiter, resolve_tier
from .retry import (
    Jitter,
    RetryPolicy,
    default_jitter,
    is_idempotent,
    parse_retry_after,
    should_retry,
    sleep_time_seconds,
)

#: The API revision every request pins; a connection may override it per client.
REVISION = "2026-07-15"
DEFAULT_BASE_URL = "https://a.klaviyo.com"
JSON_API = "application/vnd.api+json"

http_logger = logging.getLogger("integrations.klaviyo.http")


def _app_version() -> str:
    # Not `builder.__version__`: importing builder starts Celery, and this module must load alone.
    try:
        return metadata.version("step-builder")
    except metadata.PackageNotFoundError:
        return "0+unknown"


USER_AGENT = f"StepBuilder/{_app_version()}"


@dataclass(frozen=True)
class Attempt:
    """One HTTP try: what was sent, what came back, how long it and the rate-limit wait took."""

    number: int
    method: str
    path: str
    status: int | None
    duration_ms: float
    rate_limit_wait_ms: float
    request_id: str | None
    error: str | None
    started_at: datetime


@dataclass(frozen=True)
class KlaviyoResponse:
    """A successful answer: `data` is the decoded JSON (None for an empty body, e.g. 204)."""

    status: int
    data: Any
    headers: Mapping[str, str]
    request_id: str | None
    attempts: list[Attempt] = field(default_factory=list)


def _new_session() -> requests.Session:
    session = requests.Session()
    # Retries are ours (they need Klaviyo's rules), so the adapter must not retry.
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    if not urllib.request.getproxies():
        # Without proxy variables there is nothing for requests to find in the environment on
        # every call (it scans os.environ and netrc each time, about 1 ms); keep the CA bundle
        # the environment names.
        session.trust_env = False
        session.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
    return session


_sessions = PerProcess(_new_session)


def get_session() -> requests.Session:
    """Return this process's pooled `requests.Session` (a forked worker gets its own)."""
    return _sessions.get()


def default_base_url() -> str:
    """Return `settings.KLAVIYO_BASE_URL`, or Klaviyo's production URL without Django."""
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
    except ImportError:
        return DEFAULT_BASE_URL
    try:
        return getattr(settings, "KLAVIYO_BASE_URL", None) or DEFAULT_BASE_URL
    except ImproperlyConfigured:
        return DEFAULT_BASE_URL


_PRIVATE_KEY = re.compile(r"pk_[A-Za-z0-9_]+")


def redact(text: str) -> str:
    """Replace anything that looks like a private API key (`pk_...`) with `pk_***`."""
    return _PRIVATE_KEY.sub("pk_***", text)


class KlaviyoClient:
    """Send requests to Klaviyo for one connection; see `send` for the contract."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str | None = None,
        revision: str = REVISION,
        rate_limiter: RateLimiter | None = None,
        timeout: tuple[float, float] = (5, 30),
        max_attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Jitter = default_jitter,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.credentials = credentials
        self.base_url = (base_url or default_base_url()).rstrip("/")
        self.revision = revision
        self.rate_limiter = rate_limiter if rate_limiter is not None else default_rate_limiter()
        self.timeout = timeout
        self.retry_policy = retry_policy or RetryPolicy(max_attempts=max_attempts)
        self._sleep = sleep
        self._jitter = jitter
        base = urlsplit(self.base_url)
        self._origin = (base.scheme, base.netloc)
        self._base_path = base.path

    def send(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        client_side: bool = False,
        tier: str | Tier = "M",
        idempotent: bool | None = None,
        block_on_rate_limit: bool = True,
        headers: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> KlaviyoResponse:
        """Send one request, retrying what is safe to retry; return the 2xx answer.

        `path` is relative to the base URL, or an absolute URL on the same origin (a
        `links.next`). `idempotent=None` treats GET/PUT/PATCH/DELETE as safe to repeat and POST
        as not: a POST is retried only when Klaviyo provably did not act on it (429, connection
        refused); after a 5xx or a read timeout the error says `retryable` and the caller decides.
        With `block_on_rate_limit=False` the client never sleeps for a rate limit: it raises
        `KlaviyoRateLimitError` with `retry_after` so the caller can defer the work.

        Raise a `KlaviyoError` subclass, with `attempts` attached, on any failure.
        """
        method = method.upper()
        safe = is_idempotent(method, idempotent)
        resolved_tier = resolve_tier(tier)
        url, params = self._target(path, query, client_side)
        request_headers = {"revision": self.revision, "Accept": JSON_API, "User-Agent": USER_AGENT}
        data: bytes | dict[str, str] | None = None
        uploads = None
        if files:
            # A multipart upload (Klaviyo's image upload): requests sets the boundary header.
            data = dict(form or {})
            uploads = {name: (f.filename, f.content, f.content_type) for name, f in files.items()}
        elif body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            request_headers["Content-Type"] = JSON_API
        request_headers.update(headers or {})

        attempts: list[Attempt] = []
        tries = 0
        refreshed = False
        throttled = 0.0  # a 429's Retry-After sleep, reported as the next try's rate-limit wait
        while True:
            tries += 1
            wait = throttled + self._take_token(resolved_tier, block_on_rate_limit, attempts)
            if not client_side:
                request_headers.update(self.credentials.auth_headers())
            response, error = self._attempt(
                method, url, params, data, uploads, request_headers, resolved_tier, wait, attempts
            )
            if error is None:
                return response  # type: ignore[return-value]
            error.attempts = attempts
            if error.status == 401 and self.credentials.is_oauth and not refreshed:
                # An expired access token: refresh once; that retry is not a Klaviyo failure.
                refreshed = True
                if not client_side and self.credentials.refresh():
                    tries -= 1
                    throttled = 0.0
                    continue
            if error.status == 429 and error.retry_after:
                # Everyone sharing this account's bucket holds back, not just this call.
                self.rate_limiter.pause(
                    self.credentials.bucket_key, resolved_tier, error.retry_after
                )
            delay = self._retry_delay(error, tries, safe, block_on_rate_limit)
            if delay is None:
                raise error
            self._pause(delay, attempts)
            throttled = delay if error.status == 429 else 0.0

    def send_request(
        self,
        request: Any,
        *,
        tier: str | Tier = "M",
        idempotent: bool | None = None,
        block_on_rate_limit: bool = True,
    ) -> KlaviyoResponse:
        """Send a request object (the catalog's `KlaviyoRequest`, duck-typed) via `send`.

        Read `method`, `path`, `query`, `body`, `client_side` and, if present, `headers`,
        `form` and `files` (a multipart upload).
        """
        return self.send(
            request.method,
            request.path,
            query=request.query,
            body=request.body,
            client_side=request.client_side,
            tier=tier,
            idempotent=idempotent,
            block_on_rate_limit=block_on_rate_limit,
            headers=getattr(request, "headers", None),
            form=getattr(request, "form", None),
            files=getattr(request, "files", None),
        )

    # -- internals -------------------------------------------------------------------------

    def _target(
        self, path: str, query: Mapping[str, Any] | None, client_side: bool
    ) -> tuple[str, dict[str, Any] | None]:
        if path.startswith(("http://", "https://")):
            parts = urlsplit(path)
            # A next link must stay on Klaviyo: never send the credentials anywhere else.
            if (parts.scheme, parts.netloc) != self._origin:
                raise KlaviyoError(
                    f"Refusing to follow a link away from Klaviyo ({parts.netloc})",
                    retryable=False,
                )
            url = path
        else:
            url = f"{self.base_url}/{path.lstrip('/')}"
        params = dict(query) if query else None
        if client_side:
            # Client endpoints authenticate with the public key alone, as `company_id`.
            public_key = self.credentials.public_key
            if not public_key:
                raise KlaviyoAuthError(
                    "This Klaviyo connection has no public API key (site ID); add it to the "
                    "connection to use this action",
                    code="missing_public_key",
                )
            params = {**(params or {}), "company_id": public_key}
        return url, params

    def _retry_delay(
        self, error: KlaviyoError, tries: int, idempotent: bool, block: bool
    ) -> float | None:
        """Return how long to sleep before retrying after `error`, or None to give up."""
        if error.status == 429 and not block:
            return None  # the caller defers the work rather than this worker sleeping
        if error.status is None and not error.retryable:
            return None  # e.g. a TLS failure: repeating it cannot help
        if not should_retry(
            attempt=tries,
            status=error.status,
            reached=error.reached,
            idempotent=idempotent,
            retry_after=error.retry_after,
            policy=self.retry_policy,
        ):
            return None
        return sleep_time_seconds(
            tries, retry_after=error.retry_after, policy=self.retry_policy, jitter=self._jitter
        )

    def _take_token(self, tier: Tier, block: bool, attempts: list[Attempt]) -> float:
        """Take a rate-limit token; return seconds slept or raise KlaviyoRateLimitError."""
        waited = 0.0
        key = self.credentials.bucket_key
        while True:
            wait = self.rate_limiter.acquire(key, tier, block=False)
            if wait <= 0:
                return waited
            if not block or wait > self.retry_policy.max_retry_after:
                raise KlaviyoRateLimitError(
                    code="rate_limited_locally", retry_after=wait, attempts=attempts
                )
            self._pause(wait, attempts)
            waited += wait

    def _pause(self, seconds: float, attempts: list[Attempt]) -> None:
        """Sleep between tries; a canceled caller's sleep raises, with the tries made so far."""
        try:
            self._sleep(seconds)
        except KlaviyoCanceled as stop:
            stop.attempts = attempts
            raise

    def _attempt(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        data: bytes | dict[str, str] | None,
        files: dict[str, Any] | None,
        headers: dict[str, str],
        tier: Tier,
        wait: float,
        attempts: list[Attempt],
    ) -> tuple[KlaviyoResponse | None, KlaviyoError | None]:
        """Make one HTTP try; append its `Attempt`; return the response or the error."""
        started_at = datetime.now(UTC)
        start = time.perf_counter()
        response: requests.Response | None = None
        error: KlaviyoError | None = None
        try:
            response = get_session().request(
                method,
                url,
                params=params,
                data=data,
                files=files,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            error = error_from_exception(exc, host=urlsplit(url).netloc, timeout=self.timeout)
        duration_ms = (time.perf_counter() - start) * 1000

        payload: Any = None
        request_id = None
        if response is not None:
            # Klaviyo's RateLimit-* headers tighten the shared bucket for every worker.
            self.rate_limiter.observe(self.credentials.bucket_key, tier, response.headers)
            payload, error = self._interpret(response)
            request_id = response.headers.get(REQUEST_ID_HEADER) or (
                error.request_id if error else None
            )
        attempt = Attempt(
            number=len(attempts) + 1,
            method=method,
            path=self._display_path(url),
            status=response.status_code if response is not None else None,
            duration_ms=round(duration_ms, 1),
            rate_limit_wait_ms=round(wait * 1000, 1),
            request_id=request_id,
            error=error.message if error else None,
            started_at=started_at,
        )
        attempts.append(attempt)
        self._log(attempt)
        if response is None or error is not None:
            return None, error
        return KlaviyoResponse(
            response.status_code, payload, response.headers, request_id, attempts
        ), None

    def _interpret(self, response: requests.Response) -> tuple[Any, KlaviyoError | None]:
        """Decode the body; return (payload, None) for a 2xx or (None, the typed error)."""
        status = response.status_code
        headers = response.headers
        payload: Any = None
        is_json = True
        if response.content:
            try:
                payload = response.json()
            except ValueError:
                is_json = False
        if 200 <= status < 300:
            if not is_json:
                return None, KlaviyoError(
                    f"Klaviyo answered with something that is not JSON ({status}); check the "
                    "Klaviyo base URL",
                    status=status,
                    request_id=headers.get(REQUEST_ID_HEADER),
                )
            return payload, None
        return None, error_from_response(
            status,
            payload,
            headers,
            is_oauth=self.credentials.is_oauth,
            retry_after=parse_retry_after(headers.get("Retry-After")),
        )

    def _display_path(self, url: str) -> str:
        path = urlsplit(url).path
        if self._base_path and path.startswith(self._base_path):
            path = path[len(self._base_path) :] or "/"
        return redact(path)

    def _log(self, attempt: Attempt) -> None:
        level = logging.INFO if attempt.error is None else logging.WARNING
        if not http_logger.isEnabledFor(level):
            return
        fields = {
            "method": attempt.method,
            "path": attempt.path,
            "status": attempt.status,
            "ms": attempt.duration_ms,
            "request_id": attempt.request_id,
            "rate_limit_wait_ms": attempt.rate_limit_wait_ms,
            "attempt": attempt.number,
        }
        http_logger.log(
            level,
            " ".join(f"{name}={value}" for name, value in fields.items()),
            extra={"klaviyo_http": fields},
        )
