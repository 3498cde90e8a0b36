"""The Klaviyo client against a real local HTTP server: headers, auth, retries, errors."""

from __future__ import annotations

import logging
import multiprocessing
import socket
import time
from dataclasses import dataclass
from typing import Any

import pytest

from integrations.klaviyo import client as client_module
from integrations.klaviyo.client import REVISION, USER_AGENT, KlaviyoClient
from integrations.klaviyo.credentials import ApiKeyCredentials, BearerTokenCredentials
from integrations.klaviyo.errors import (
    KlaviyoAuthError,
    KlaviyoConnectionError,
    KlaviyoError,
    KlaviyoInvalidRequestError,
    KlaviyoNotFoundError,
    KlaviyoRateLimitError,
    KlaviyoServerError,
    KlaviyoTimeoutError,
)
from integrations.klaviyo.ratelimit import LocalRateLimiter, Tier

EMAIL_ERROR = {
    "errors": [
        {
            "id": "e4eebb08-b055-4a6f-bb13-c8cb69c9eb94",
            "status": 400,
            "code": "invalid",
            "title": "Invalid input.",
            "detail": "is not a valid email",
            "source": {"pointer": "/data/attributes/emails/2"},
        }
    ]
}


def test_it_sends_the_revision_json_api_headers_user_agent_and_api_key(make_client, klaviyo_server):
    klaviyo_server.respond(200, {"data": {"id": "L1"}}, headers={"X-Klaviyo-Req-Id": "req-1"})

    response = make_client().send("GET", "/api/lists/L1", query={"fields[list]": "name"})

    sent = klaviyo_server.received[0]
    assert sent.method == "GET"
    assert sent.path == "/api/lists/L1"
    assert sent.query == {"fields[list]": "name"}
    assert sent.headers["revision"] == REVISION == "2026-07-15"
    assert sent.headers["accept"] == "application/vnd.api+json"
    assert sent.headers["authorization"] == "Klaviyo-API-Key pk_secret123"
    assert sent.headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("StepBuilder/")
    assert "content-type" not in sent.headers
    assert response.status == 200
    assert response.data == {"data": {"id": "L1"}}
    assert response.request_id == "req-1"
    assert [(a.method, a.path, a.status, a.request_id) for a in response.attempts] == [
        ("GET", "/api/lists/L1", 200, "req-1")
    ]
    assert response.attempts[0].started_at.tzinfo is not None
    assert response.attempts[0].error is None


def test_it_sends_bodies_as_json_api_and_lets_a_connection_pin_another_revision(
    make_client, klaviyo_server
):
    klaviyo_server.respond(204)
    body = {"data": {"type": "profile", "attributes": {"email": "ada@example.com"}}}

    response = make_client(revision="2025-10-15").send("PATCH", "/api/profiles/P1", body=body)

    sent = klaviyo_server.received[0]
    assert sent.headers["content-type"] == "application/vnd.api+json"
    assert sent.headers["revision"] == "2025-10-15"
    assert sent.json() == body
    assert response.status == 204
    assert response.data is None


def test_it_sends_an_oauth_access_token_as_bearer(make_client, klaviyo_server):
    credentials = BearerTokenCredentials("at_1", bucket_key="oauth:install-1")

    make_client(credentials).send("GET", "/api/accounts")

    assert klaviyo_server.received[0].headers["authorization"] == "Bearer at_1"


def test_client_endpoints_send_the_public_key_as_company_id_and_no_authorization(
    make_client, klaviyo_server
):
    klaviyo_server.respond(202)
    credentials = ApiKeyCredentials("pk_secret123", public_key="AbC123")

    make_client(credentials).send(
        "POST", "/client/events", body={"data": {"type": "event"}}, client_side=True
    )

    sent = klaviyo_server.received[0]
    assert sent.query == {"company_id": "AbC123"}
    assert "authorization" not in sent.headers
    assert sent.headers["revision"] == REVISION


def test_client_endpoints_without_a_public_key_fail_before_any_request(make_client, klaviyo_server):
    with pytest.raises(KlaviyoAuthError) as caught:
        make_client().send("POST", "/client/events", body={}, client_side=True)

    assert caught.value.code == "missing_public_key"
    assert "public API key" in str(caught.value)
    assert klaviyo_server.received == []


def test_it_sends_a_catalog_request_object(make_client, klaviyo_server):
    @dataclass(frozen=True)
    class KlaviyoRequest:  # the shape the catalog produces
        method: str
        path: str
        query: dict[str, str]
        body: dict | None
        client_side: bool

    request = KlaviyoRequest("GET", "/api/lists", {"page[size]": "5"}, None, False)

    make_client().send_request(request, tier="L")

    assert klaviyo_server.received[0].query == {"page[size]": "5"}


def test_it_waits_retry_after_on_429_then_succeeds(make_client, klaviyo_server, clock):
    klaviyo_server.respond(429, headers={"Retry-After": "12"})
    klaviyo_server.respond(200, {"data": []})

    response = make_client().send("GET", "/api/lists")

    assert clock.sleeps == [12.0]
    assert [a.status for a in response.attempts] == [429, 200]
    assert response.attempts[1].rate_limit_wait_ms == 12_000


def test_ratelimit_headers_saying_nothing_remains_make_the_next_call_wait(
    make_client, klaviyo_server, clock
):
    exhausted = {"RateLimit-Limit": "150", "RateLimit-Remaining": "0", "RateLimit-Reset": "5"}
    klaviyo_server.respond(200, {"data": []}, headers=exhausted)
    client = make_client()

    client.send("GET", "/api/lists")
    response = client.send("GET", "/api/lists")

    assert clock.sleeps == [5.0]
    assert response.attempts[0].rate_limit_wait_ms == 5000


def test_it_backs_off_exponentially_on_503(make_client, klaviyo_server, clock):
    klaviyo_server.respond(503)
    klaviyo_server.respond(503)
    klaviyo_server.respond(200, {"data": []})

    response = make_client().send("GET", "/api/lists")

    assert clock.sleeps == [0.5, 1.0]
    assert [a.status for a in response.attempts] == [503, 503, 200]


def test_it_gives_up_after_max_attempts(make_client, klaviyo_server, clock):
    for _ in range(5):
        klaviyo_server.respond(502)

    with pytest.raises(KlaviyoServerError) as caught:
        make_client(max_attempts=3).send("GET", "/api/lists")

    assert len(klaviyo_server.received) == 3
    assert [a.status for a in caught.value.attempts] == [502, 502, 502]
    assert caught.value.retryable
    assert str(caught.value) == (
        "Klaviyo had a problem on its side (502); try again in a few minutes"
    )


def test_it_does_not_retry_a_400(make_client, klaviyo_server, clock):
    klaviyo_server.respond(400, EMAIL_ERROR, headers={"X-Klaviyo-Req-Id": "req-9"})

    with pytest.raises(KlaviyoInvalidRequestError) as caught:
        make_client().send("POST", "/api/profile-bulk-import-jobs", body={"data": {}})

    error = caught.value
    assert len(klaviyo_server.received) == 1
    assert clock.sleeps == []
    assert not error.retryable
    assert (error.status, error.code, error.title) == (400, "invalid", "Invalid input.")
    assert error.detail == "is not a valid email"
    assert error.source_pointer == "/data/attributes/emails/2"
    assert error.field == "emails[2]"
    assert error.request_id == "req-9"
    assert error.errors == EMAIL_ERROR["errors"]
    assert str(error) == error.message
    assert error.message == "Klaviyo rejected the request: 'emails[2]' is not a valid email"
    assert error.attempts[0].error == error.message


def test_it_takes_the_request_id_from_the_error_when_the_header_is_missing(
    make_client, klaviyo_server
):
    klaviyo_server.respond(404, {"errors": [{"id": "err-1", "detail": "List L9 not found."}]})

    with pytest.raises(KlaviyoNotFoundError) as caught:
        make_client().send("GET", "/api/lists/L9")

    assert caught.value.request_id == "err-1"
    assert caught.value.attempts[0].request_id == "err-1"
    assert str(caught.value) == "Klaviyo could not find it (404): check the id (List L9 not found)"


def test_a_post_is_not_retried_on_503_but_the_error_says_it_is_retryable(
    make_client, klaviyo_server, clock
):
    klaviyo_server.respond(503)

    with pytest.raises(KlaviyoServerError) as caught:
        make_client().send("POST", "/api/events", body={"data": {}})

    assert len(klaviyo_server.received) == 1
    assert caught.value.retryable


def test_a_post_marked_idempotent_is_retried_on_503(make_client, klaviyo_server, clock):
    klaviyo_server.respond(503)

    make_client().send("POST", "/api/profile-import", body={"data": {}}, idempotent=True)

    assert len(klaviyo_server.received) == 2


def test_a_post_is_retried_after_429(make_client, klaviyo_server, clock):
    klaviyo_server.respond(429, headers={"Retry-After": "1"})

    response = make_client().send("POST", "/api/events", body={"data": {}})

    assert [a.status for a in response.attempts] == [429, 200]
    assert clock.sleeps == [1.0]


def test_a_post_is_retried_when_the_connection_is_refused(make_client, clock):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    with pytest.raises(KlaviyoConnectionError) as caught:
        make_client(base_url=f"http://127.0.0.1:{port}").send("POST", "/api/events", body={})

    error = caught.value
    assert not error.reached and error.retryable
    assert len(error.attempts) == 4
    assert [a.status for a in error.attempts] == [None] * 4
    assert clock.sleeps == [0.5, 1.0, 2.0]
    assert error.message == f"Could not connect to Klaviyo at 127.0.0.1:{port}; try again later"


def test_a_read_timeout_is_retried_for_get_but_not_for_post(make_client, klaviyo_server, clock):
    def slow(received):
        time.sleep(0.3)
        return klaviyo_server.Answer(200, {"data": []})

    klaviyo_server.handler = slow
    client = make_client(timeout=(1, 0.1), max_attempts=2)

    with pytest.raises(KlaviyoTimeoutError) as caught:
        client.send("POST", "/api/events", body={})
    assert caught.value.reached and caught.value.retryable
    assert len(caught.value.attempts) == 1
    assert "may or may not have been applied" in str(caught.value)

    with pytest.raises(KlaviyoTimeoutError) as caught:
        client.send("GET", "/api/lists")
    assert len(caught.value.attempts) == 2


@pytest.mark.parametrize(
    ("credentials", "status", "message"),
    [
        (
            ApiKeyCredentials("pk_x"),
            401,
            "Klaviyo refused the API key (401): check that the key is correct and not revoked",
        ),
        (
            ApiKeyCredentials("pk_x"),
            403,
            "Klaviyo denied the request (403): give the key the scope this action needs "
            "(You do not have the lists:write scope)",
        ),
        (
            BearerTokenCredentials("at", bucket_key="oauth:1"),
            401,
            "Klaviyo refused the access token (401): reconnect the Klaviyo account",
        ),
    ],
)
def test_auth_failures_explain_what_to_fix(
    make_client, klaviyo_server, credentials, status, message
):
    detail = "You do not have the lists:write scope." if status == 403 else "Bad key."
    for _ in range(2):
        klaviyo_server.respond(status, {"errors": [{"id": "x", "detail": detail}]})

    with pytest.raises(KlaviyoAuthError) as caught:
        make_client(credentials).send("POST", "/api/lists", body={})

    assert str(caught.value) == message
    assert not caught.value.retryable


def test_a_long_retry_after_is_handed_back_to_the_caller(make_client, klaviyo_server, clock):
    klaviyo_server.respond(429, headers={"Retry-After": "3600"})

    with pytest.raises(KlaviyoRateLimitError) as caught:
        make_client().send("GET", "/api/lists")

    assert caught.value.retry_after == 3600
    assert str(caught.value) == "Klaviyo's rate limit was reached; retry in 60 min"
    assert clock.sleeps == []


def test_a_429_raises_at_once_when_the_caller_will_not_block(make_client, klaviyo_server, clock):
    klaviyo_server.respond(429, headers={"Retry-After": "12"})

    with pytest.raises(KlaviyoRateLimitError) as caught:
        make_client().send("GET", "/api/lists", block_on_rate_limit=False)

    assert str(caught.value) == "Klaviyo's rate limit was reached; retry in 12 s"
    assert clock.sleeps == []


def test_an_empty_bucket_defers_instead_of_calling_when_the_caller_will_not_block(
    make_client, klaviyo_server, clock
):
    client = make_client()
    tiny = Tier("tiny", burst=1, steady=100)
    client.send("GET", "/api/lists", tier=tiny)

    with pytest.raises(KlaviyoRateLimitError) as caught:
        client.send("GET", "/api/lists", tier=tiny, block_on_rate_limit=False)

    assert caught.value.retry_after == pytest.approx(1.05)
    assert caught.value.attempts == []
    assert len(klaviyo_server.received) == 1


def test_a_blocking_call_waits_for_the_bucket_and_records_the_wait(
    make_client, klaviyo_server, clock
):
    client = make_client()
    tiny = Tier("tiny", burst=1, steady=100)
    client.send("GET", "/api/lists", tier=tiny)

    response = client.send("GET", "/api/lists", tier=tiny)

    assert clock.sleeps == [pytest.approx(1.05)]
    assert response.attempts[0].rate_limit_wait_ms == pytest.approx(1050)


def test_oauth_refreshes_once_on_401_and_retries(make_client, klaviyo_server):
    calls: list[str] = []

    def refresh() -> str:
        calls.append("refresh")
        return "at_2"

    credentials = BearerTokenCredentials("at_1", refresh, bucket_key="oauth:install-1")
    klaviyo_server.respond(401, {"errors": [{"id": "x", "detail": "Token expired"}]})

    response = make_client(credentials).send("GET", "/api/lists")

    assert calls == ["refresh"]
    assert [r.headers["authorization"] for r in klaviyo_server.received] == [
        "Bearer at_1",
        "Bearer at_2",
    ]
    assert [a.status for a in response.attempts] == [401, 200]


def test_oauth_gives_up_when_the_refreshed_token_is_refused_too(make_client, klaviyo_server):
    calls: list[str] = []
    credentials = BearerTokenCredentials(
        "at_1", lambda: calls.append("refresh") or "at_2", bucket_key="oauth:install-1"
    )
    for _ in range(3):
        klaviyo_server.respond(401)

    with pytest.raises(KlaviyoAuthError):
        make_client(credentials).send("GET", "/api/lists")

    assert calls == ["refresh"]
    assert len(klaviyo_server.received) == 2


def test_a_successful_answer_that_is_not_json_is_an_error(make_client, klaviyo_server):
    klaviyo_server.respond(200, raw=b"<html>login</html>")

    with pytest.raises(KlaviyoError, match="not JSON"):
        make_client().send("GET", "/api/lists")


def test_it_refuses_to_send_credentials_to_another_host(make_client, klaviyo_server):
    with pytest.raises(KlaviyoError, match="away from Klaviyo"):
        make_client().send("GET", "https://evil.example/api/lists")

    assert klaviyo_server.received == []


def test_it_logs_one_line_per_attempt_without_secrets(make_client, klaviyo_server, caplog):
    klaviyo_server.respond(503, headers={"X-Klaviyo-Req-Id": "req-1"})
    klaviyo_server.respond(200, {"data": []}, headers={"X-Klaviyo-Req-Id": "req-2"})
    caplog.set_level(logging.INFO, logger="integrations.klaviyo.http")

    make_client().send("GET", "/api/lists/pk_leaked123", query={"filter": "x"})

    lines = [r for r in caplog.records if r.name == "integrations.klaviyo.http"]
    assert [r.getMessage() for r in lines] == [
        "method=GET path=/api/lists/pk_*** status=503 ms={} request_id=req-1 "
        "rate_limit_wait_ms=0.0 attempt=1".format(lines[0].klaviyo_http["ms"]),
        "method=GET path=/api/lists/pk_*** status=200 ms={} request_id=req-2 "
        "rate_limit_wait_ms=0.0 attempt=2".format(lines[1].klaviyo_http["ms"]),
    ]
    assert [r.levelname for r in lines] == ["WARNING", "INFO"]
    assert "pk_secret123" not in caplog.text
    assert "pk_leaked123" not in caplog.text


def test_base_url_comes_from_settings(settings):
    settings.KLAVIYO_BASE_URL = "http://sandbox.test/sandbox/klaviyo/"

    client = KlaviyoClient(ApiKeyCredentials("pk_x"), rate_limiter=LocalRateLimiter())

    assert client.base_url == "http://sandbox.test/sandbox/klaviyo"


def _report_session_identity(parent_session: Any, results: Any) -> None:
    child_session = client_module.get_session()
    results.put(child_session is parent_session)


def test_a_forked_worker_gets_its_own_session():
    parent_session = client_module.get_session()
    assert client_module.get_session() is parent_session
    context = multiprocessing.get_context("fork")
    results = context.Queue()

    child = context.Process(target=_report_session_identity, args=(parent_session, results))
    child.start()
    child.join(10)

    assert results.get(timeout=5) is False
