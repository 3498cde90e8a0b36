"""Pure parts of the client: error parsing and sentences, retry decisions, pagination."""

from __future__ import annotations

import pickle

import pytest

from integrations.klaviyo.actions import run_action
from integrations.klaviyo.errors import (
    KlaviyoConflictError,
    KlaviyoError,
    KlaviyoInvalidRequestError,
    KlaviyoRateLimitError,
    KlaviyoServerError,
    describe_entry,
    error_from_response,
    field_path,
    format_seconds,
)
from integrations.klaviyo.retry import (
    RetryPolicy,
    is_idempotent,
    no_jitter,
    parse_retry_after,
    should_retry,
    sleep_time_seconds,
)


@pytest.mark.parametrize(
    ("pointer", "path"),
    [
        ("/data/attributes/emails/2", "emails[2]"),
        ("/data/attributes/location/address1", "location.address1"),
        ("/data/relationships/lists/data/0/id", "relationships.lists.data[0].id"),
        ("/data", None),
        ("", None),
        (None, None),
    ],
)
def test_pointers_become_the_field_paths_people_typed(pointer, path):
    assert field_path(pointer) == path


def test_entries_read_as_sentences():
    assert describe_entry({"detail": "Invalid email address.", "source": {"pointer": "/x"}}) == (
        "'x': Invalid email address"
    )
    assert describe_entry({"detail": "'email' is required."}) == "'email' is required"
    assert describe_entry({"detail": "bad cursor", "source": {"parameter": "page[cursor]"}}) == (
        "'page[cursor]' bad cursor"
    )


def test_several_problems_are_listed_and_counted():
    errors = [{"detail": f"Problem {n}."} for n in range(5)]

    error = error_from_response(422, {"errors": errors})

    assert isinstance(error, KlaviyoInvalidRequestError)
    assert str(error) == (
        "Klaviyo rejected the request: Problem 0; Problem 1; Problem 2 (and 2 more problems)"
    )


def test_a_409_keeps_the_duplicate_profile_id():
    payload = {
        "errors": [
            {
                "id": "abc",
                "status": 409,
                "code": "duplicate_profile",
                "title": "Conflict.",
                "detail": "A profile already exists with one of these identifiers.",
                "source": {"pointer": "/data/attributes"},
                "meta": {"duplicate_profile_id": "01HX"},
            }
        ]
    }

    error = error_from_response(409, payload)

    assert isinstance(error, KlaviyoConflictError)
    assert isinstance(error, KlaviyoInvalidRequestError)
    assert error.duplicate_profile_id == "01HX"
    assert error.request_id == "abc"
    assert str(error) == (
        "Klaviyo rejected the request: A profile already exists with one of these identifiers "
        "(existing profile 01HX)"
    )


def test_an_unreadable_error_body_still_gives_a_typed_error():
    error = error_from_response(502, "<html>bad gateway</html>", {"X-Klaviyo-Req-Id": "r"})

    assert isinstance(error, KlaviyoServerError)
    assert error.errors == []
    assert error.request_id == "r"


def test_errors_survive_pickling_with_their_fields():
    error = error_from_response(429, {"errors": [{"id": "x"}]}, retry_after=12)

    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes

    assert type(copy) is KlaviyoRateLimitError
    assert (copy.status, copy.retry_after, copy.request_id) == (429, 12, "x")
    assert str(copy) == "Klaviyo's rate limit was reached; retry in 12 s"


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.42, "0.5 s"), (3, "3 s"), (12, "12 s"), (300, "5 min"), (9000, "3 h")]
)
def test_waits_are_formatted_for_people(seconds, text):
    assert format_seconds(seconds) == text


def test_the_base_error_is_a_sentence_too():
    assert str(KlaviyoError(status=302)) == "Klaviyo could not complete the request (302)"
    assert KlaviyoError("custom").permanent


@pytest.mark.parametrize(
    ("status", "reached", "idempotent", "retry"),
    [
        (429, True, False, True),  # refused before processing: safe even for POST
        (503, True, True, True),
        (503, True, False, False),  # POST may have been applied
        (None, False, False, True),  # connection refused: never reached Klaviyo
        (None, True, False, False),  # read timeout on POST
        (None, True, True, True),
        (400, True, True, False),
        (404, True, True, False),
        (401, True, True, False),
    ],
)
def test_should_retry(status, reached, idempotent, retry):
    assert should_retry(attempt=1, status=status, reached=reached, idempotent=idempotent) is retry


def test_retries_stop_at_the_bound_and_at_long_retry_afters():
    policy = RetryPolicy(max_attempts=3, max_retry_after=60)
    kwargs = {"status": 503, "reached": True, "idempotent": True, "policy": policy}

    assert should_retry(attempt=2, **kwargs)
    assert not should_retry(attempt=3, **kwargs)
    assert not should_retry(attempt=1, retry_after=61, **kwargs)


def test_sleep_time_prefers_retry_after_then_backs_off_exponentially_up_to_a_cap():
    policy = RetryPolicy(initial_delay=0.5, max_delay=3)

    assert sleep_time_seconds(1, retry_after=7, policy=policy) == 7
    waits = [sleep_time_seconds(n, policy=policy, jitter=no_jitter) for n in range(1, 6)]
    assert waits == [0.5, 1, 2, 3, 3]
    assert sleep_time_seconds(3, policy=policy, jitter=lambda delay: delay / 4) == 0.5


def test_default_jitter_stays_within_half_and_full_delay():
    waits = {sleep_time_seconds(3, policy=RetryPolicy(initial_delay=1)) for _ in range(50)}

    assert all(2 <= wait <= 4 for wait in waits)
    assert len(waits) > 1


def test_parse_retry_after():
    assert parse_retry_after("12") == 12
    assert parse_retry_after("0.25") == 0.25
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480) == 10
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_post_is_the_only_method_not_safe_to_repeat_by_default():
    assert [is_idempotent(m) for m in ("GET", "PUT", "PATCH", "DELETE", "POST")] == [
        True,
        True,
        True,
        True,
        False,
    ]
    assert is_idempotent("POST", idempotent=True)


def _pages(klaviyo_server, total: int, size: int):
    """Make the fake server serve `total` profiles `size` per page with links.next."""

    def handler(received):
        cursor = int(received.query.get("page[cursor]", "0"))
        items = [
            {"type": "profile", "id": f"P{n}"} for n in range(cursor, min(total, cursor + size))
        ]
        links = {}
        if cursor + size < total:
            links["next"] = (
                f"{klaviyo_server.url}/api/profiles?page%5Bcursor%5D={cursor + size}"
                "&filter=equals(email,%22a@b.c%22)"
            )
        return klaviyo_server.Answer(200, {"data": items, "links": links})

    klaviyo_server.handler = handler


def fetch_profiles(make_client, **params):
    return run_action(make_client(), "KLAVIYO_GET_PROFILES", {"fetch_all": True, **params})


def test_it_follows_links_next_across_three_pages(make_client, klaviyo_server):
    _pages(klaviyo_server, total=25, size=10)

    result = fetch_profiles(make_client, page_size=10)

    assert [item["id"] for item in result.data["data"]] == [f"P{n}" for n in range(25)]
    sent = klaviyo_server.received
    assert [r.query.get("page[cursor]") for r in sent] == [None, "10", "20"]
    assert sent[1].query["filter"] == 'equals(email,"a@b.c")'
    assert {r.headers["authorization"] for r in sent} == {"Klaviyo-API-Key pk_secret123"}
    assert result.data["links"]["next"] is None
    assert len(result.attempts) == 3


def test_fetch_all_stops_at_max_items(make_client, klaviyo_server):
    _pages(klaviyo_server, total=25, size=10)

    capped = fetch_profiles(make_client, page_size=10, max_items=12)

    assert [item["id"] for item in capped.data["data"]] == [f"P{n}" for n in range(12)]
    assert len(klaviyo_server.received) == 2  # the cap needed only two pages


def test_next_links_keep_their_own_query(make_client, klaviyo_server):
    _pages(klaviyo_server, total=15, size=10)

    fetch_profiles(make_client, page_size=10)

    second = klaviyo_server.received[1]
    assert "page[size]" not in second.query  # the next URL is followed as given
    assert second.query["page[cursor]"] == "10"


def test_a_next_link_that_repeats_itself_ends_the_pages(make_client, klaviyo_server):
    loop = f"{klaviyo_server.url}/api/profiles?page%5Bcursor%5D=same"
    klaviyo_server.respond(200, {"data": [{"id": "a"}], "links": {"next": loop}})
    klaviyo_server.respond(200, {"data": [{"id": "b"}], "links": {"self": loop, "next": loop}})

    result = fetch_profiles(make_client)

    assert [item["id"] for item in result.data["data"]] == ["a", "b"]
    assert len(klaviyo_server.received) == 2
    assert result.data["links"]["next"] is None
