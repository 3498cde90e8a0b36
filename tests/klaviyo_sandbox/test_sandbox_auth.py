"""What the sandbox checks before answering: credentials, revision header, account isolation."""

from __future__ import annotations

from typing import Any


def profile_body(email: str, **attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "profile", "attributes": {"email": email, **attributes}}}


def test_a_missing_or_wrong_private_key_is_401_in_klaviyos_format(api):
    missing = api.get("/api/profiles", headers={"revision": "2026-07-15"})
    assert missing.status_code == 401
    error = missing.json()["errors"][0]
    assert error["code"] == "not_authenticated"
    assert set(error) >= {"id", "status", "code", "title", "detail", "source"}
    wrong = api.get(
        "/api/profiles", headers=api.headers(Authorization="Klaviyo-API-Key pk_sandbox_nope")
    )
    assert wrong.status_code == 401
    assert wrong.json()["errors"][0]["code"] == "authentication_failed"
    scheme = api.get("/api/profiles", headers=api.headers(Authorization=f"Token {api.api_key}"))
    assert scheme.status_code == 401


def test_the_revision_header_is_required_and_checked(api):
    headers = api.headers()
    del headers["revision"]
    missing = api.get("/api/profiles", headers=headers)
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["source"]["parameter"] == "revision"
    for bad in ("yesterday", "2026-13-01", "2026-07-15.pre release"):
        assert api.get("/api/profiles", headers=api.headers(revision=bad)).status_code == 400
    assert (
        api.get("/api/profiles", headers=api.headers(revision="2025-10-15.pre")).status_code == 200
    )


def test_client_routes_take_the_public_key_as_company_id(api):
    body = {"data": {"type": "profile", "attributes": {"email": "web@example.com"}}}
    headers = {"revision": "2026-07-15", "Content-Type": "application/vnd.api+json"}
    ok = api.post("/client/profiles", body, params={"company_id": api.public_key}, headers=headers)
    assert ok.status_code == 202
    assert ok.content == b""
    [profile] = api.all("/api/profiles")
    assert profile["attributes"]["email"] == "web@example.com"
    missing = api.post("/client/profiles", body, headers=headers)
    assert missing.status_code == 401
    unknown = api.post("/client/profiles", body, params={"company_id": "NOPE00"}, headers=headers)
    assert unknown.status_code == 401


def test_accounts_answer_the_sandbox_account(api):
    [account] = api.get("/api/accounts").json()["data"]
    assert account["id"] == api.public_key
    assert account["attributes"]["public_api_key"] == api.public_key
    assert account["attributes"]["contact_information"]["organization_name"] == "Acme Outfitters"
    assert api.get(f"/api/accounts/{api.public_key}").status_code == 200
    assert api.get("/api/accounts/OTHER1").status_code == 404


def test_two_sandbox_accounts_never_see_each_others_data(make_api):
    alice, bob = make_api("Alice's shop"), make_api("Bob's shop")
    created = alice.post("/api/profiles", profile_body("private@example.com"))
    profile_id = created.json()["data"]["id"]
    alice_list = alice.create("list", {"name": "Alice only"})
    bob.create("list", {"name": "Bob only"})

    assert bob.get(f"/api/profiles/{profile_id}").status_code == 404
    assert bob.get(f"/api/lists/{alice_list['id']}").status_code == 404
    assert bob.all("/api/profiles") == []
    assert [x["attributes"]["name"] for x in bob.all("/api/lists")] == ["Bob only"]
    adding = bob.post(
        f"/api/lists/{alice_list['id']}/relationships/profiles",
        {"data": [{"type": "profile", "id": profile_id}]},
    )
    assert adding.status_code == 404
    # The same email is free in the other account: identifiers are unique per account.
    assert bob.post("/api/profiles", profile_body("private@example.com")).status_code == 201
    assert alice.get(f"/api/profiles/{profile_id}").status_code == 200


def test_private_keys_are_stored_hashed(api):
    from integrations.klaviyo_sandbox.models import SandboxAccount

    account = SandboxAccount.objects.get(public_key=api.public_key)
    assert api.api_key.startswith("pk_sandbox_")
    assert api.api_key not in (account.api_key_hash, account.api_key_hint)
    assert account.api_key_hint == api.api_key[-4:]
    assert len(account.public_key) == 12
