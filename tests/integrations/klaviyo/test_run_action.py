"""run_action: validation before any call, Klaviyo's answers and failures as results, pages."""

import json
import subprocess
import sys

from integrations.klaviyo.actions import run_action
from tests.conftest import BASE_DIR


def test_invalid_input_sends_nothing(make_client, klaviyo_server):
    result = run_action(
        make_client(), "KLAVIYO_ADD_PROFILE_TO_LIST", {"list_id": "Y6nRLr", "emails": ["bob@"]}
    )
    assert not result.successful
    assert "emails[0]: 'bob@' is not a valid email" in result.error
    assert result.invalid_input is not None
    assert klaviyo_server.received == []


def test_an_unknown_action_is_a_clear_error(make_client):
    result = run_action(make_client(), "KLAVIYO_GET_LIST_Z", {})
    assert not result.successful
    assert "Unknown Klaviyo action" in result.error


def test_a_successful_call_returns_klaviyos_document(make_client, klaviyo_server):
    klaviyo_server.respond(200, {"data": {"type": "list", "id": "Y6nRLr", "attributes": {}}})
    result = run_action(make_client(), "KLAVIYO_GET_LIST", {"list_id": "Y6nRLr"})
    assert result.successful, result.error
    assert result.data["data"]["id"] == "Y6nRLr"
    assert result.http_status == 200
    assert [a.status for a in result.attempts] == [200]
    assert klaviyo_server.received[0].path == "/api/lists/Y6nRLr"


def test_retries_are_visible_in_the_attempts(make_client, klaviyo_server):
    klaviyo_server.respond(429, {"errors": []}, headers={"Retry-After": "1"})
    klaviyo_server.respond(503, {"errors": []})
    klaviyo_server.respond(200, {"data": []})
    result = run_action(make_client(), "KLAVIYO_GET_LISTS", {})
    assert result.successful
    assert [a.status for a in result.attempts] == [429, 503, 200]


def test_klaviyos_refusal_becomes_a_sentence(make_client, klaviyo_server):
    klaviyo_server.respond(
        400,
        {
            "errors": [
                {
                    "id": "e1",
                    "status": 400,
                    "code": "invalid",
                    "title": "Invalid input.",
                    "detail": "The list name is too long.",
                    "source": {"pointer": "/data/attributes/name"},
                }
            ]
        },
    )
    result = run_action(make_client(), "KLAVIYO_CREATE_LIST", {"name": "Newsletter"})
    assert not result.successful
    assert result.http_status == 400
    assert "Klaviyo rejected the request" in result.error
    assert "too long" in result.error


def test_fetch_all_follows_pages_up_to_the_cap(make_client, klaviyo_server):
    base = klaviyo_server.url
    for page in range(3):
        nxt = f"{base}/api/lists?page%5Bcursor%5D=c{page + 1}" if page < 2 else None
        klaviyo_server.respond(
            200,
            {
                "data": [{"type": "list", "id": f"L{page}{i}"} for i in range(2)],
                "links": {"next": nxt},
            },
        )
    params = {"fetch_all": True, "max_items": 5}
    result = run_action(make_client(), "KLAVIYO_GET_LISTS", params)
    assert result.successful
    assert [item["id"] for item in result.data["data"]] == ["L00", "L01", "L10", "L11", "L20"]
    assert len(klaviyo_server.received) == 3
    # The cap cut the last page short: continuing re-reads it instead of skipping L21.
    assert result.data["meta"]["truncated"] is True
    assert result.data["links"]["next"].endswith("page%5Bcursor%5D=c2")


def test_fetch_all_without_a_cap_reaches_the_end(make_client, klaviyo_server):
    base = klaviyo_server.url
    klaviyo_server.respond(200, {"data": [{"id": "a"}], "links": {"next": f"{base}/api/lists?c=2"}})
    klaviyo_server.respond(200, {"data": [{"id": "b"}], "links": {"next": None}})
    result = run_action(make_client(), "KLAVIYO_GET_LISTS", {"fetch_all": True})
    assert [item["id"] for item in result.data["data"]] == ["a", "b"]
    assert result.data["meta"]["truncated"] is False
    assert result.data["links"]["next"] is None


def run_command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "run_action", *args],
        cwd=BASE_DIR, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_the_command_prints_json_and_exits_0_on_success(klaviyo_server):
    klaviyo_server.respond(200, {"data": [{"type": "list", "id": "Y6nRLr"}]})
    done = run_command(
        "KLAVIYO_GET_LISTS", "--params", "{}", "--api-key", "pk_test_abcdef123456",
        "--base-url", klaviyo_server.url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert output["successful"] is True
    assert output["error"] is None
    assert output["data"]["data"][0]["id"] == "Y6nRLr"
    assert (
        klaviyo_server.received[0].headers["authorization"]
        == "Klaviyo-API-Key pk_test_abcdef123456"
    )
    assert "pk_test_abcdef123456" not in done.stderr  # the log lines never show the key


def test_the_command_exits_1_when_klaviyo_fails_and_2_on_invalid_input(klaviyo_server):
    klaviyo_server.respond(404, {"errors": [{"status": 404, "detail": "List not found"}]})
    failed = run_command(
        "KLAVIYO_GET_LIST", "--params", '{"list_id": "nope"}', "--api-key", "pk_test_abc123456",
        "--base-url", klaviyo_server.url,
    )  # fmt: skip
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["successful"] is False
    invalid = run_command("KLAVIYO_GET_LIST", "--params", "{}", "--api-key", "pk_test_abc123456")
    assert invalid.returncode == 2
    assert "list_id" in json.loads(invalid.stdout)["error"]


def test_log_lines_never_show_a_private_key():
    from integrations.klaviyo.client import redact

    assert redact("/api/x?k=pk_sandbox_9e5f0123abcd and pk_live_ABC123") == (
        "/api/x?k=pk_*** and pk_***"
    )


class TierRecorder:
    """A rate limiter that lets everything through and remembers which tier each call drew on."""

    def __init__(self) -> None:
        self.tiers: list = []

    def acquire(self, key, tier, *, block=True) -> float:
        self.tiers.append(tier)
        return 0.0

    def pause(self, key, tier, seconds) -> None:
        pass

    def observe(self, key, tier, headers) -> None:
        pass


def test_costly_query_values_draw_on_their_stricter_limit(make_client, klaviyo_server):
    """`additional-fields[list]=profile_count` takes get_list from 75/s to 1/s (the spec)."""
    limiter = TierRecorder()
    client = make_client(rate_limiter=limiter)
    klaviyo_server.respond(200, {"data": {"type": "list", "id": "Y6nRLr"}})
    klaviyo_server.respond(200, {"data": {"type": "list", "id": "Y6nRLr"}})

    run_action(client, "KLAVIYO_GET_LIST", {"list_id": "Y6nRLr"})
    run_action(
        client,
        "KLAVIYO_GET_LIST",
        {"list_id": "Y6nRLr", "additional_fields_list": ["profile_count"]},
    )

    plain, costly = limiter.tiers
    assert (plain.burst, plain.steady) == (75, 750)
    assert (costly.burst, costly.steady) == (1, 15)


def test_a_failure_keeps_klaviyos_typed_error(make_client, klaviyo_server):
    klaviyo_server.respond(
        409,
        {
            "errors": [
                {
                    "status": 409,
                    "code": "duplicate_profile",
                    "detail": "A profile already exists with one of these identifiers.",
                    "meta": {"duplicate_profile_id": "01HPROFILE"},
                }
            ]
        },
    )
    result = run_action(make_client(), "KLAVIYO_CREATE_PROFILE", {"email": "a@example.com"})
    assert not result.successful
    assert result.failure.status == 409
    assert result.failure.code == "duplicate_profile"
    assert result.failure.duplicate_profile_id == "01HPROFILE"
    assert result.failure.reached  # Klaviyo answered: the request got there
    assert not result.retryable
    assert "existing profile 01HPROFILE" in result.error


def test_a_rate_limit_failure_says_when_to_come_back(make_client, klaviyo_server):
    klaviyo_server.respond(429, {"errors": [{"status": 429}]}, headers={"Retry-After": "120"})
    client = make_client()
    result = run_action(client, "KLAVIYO_GET_LISTS", {}, block_on_rate_limit=False)
    assert result.failure.status == 429
    assert result.failure.retry_after == 120
    assert result.retryable
    assert not result.failure.reached  # a 429 is sent instead of acting on the request
