"""Every operation of the table is routed and answers without a server error; reads answer
documents that validate against Klaviyo's response schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from integrations.klaviyo_sandbox.api.operations import operations
from integrations.klaviyo_sandbox.models import SandboxResource
from tests.klaviyo_sandbox.examples import example

SPEC = Path(__file__).resolve().parents[3] / "shared" / "klaviyo" / "openapi-stable.json"


def test_every_operation_is_routed_and_never_fails(api):
    for op in operations().values():
        path = op["path"].replace("{id}", "sandbox-unknown-id").replace("{job_id}", "unknown-job")
        params = {"company_id": api.public_key} if op["client"] else None
        body = example(op["body"]["schema"]) if op["body"] and not op["body"]["multipart"] else None
        response = api.request(op["method"], path, json=body, params=params)
        code = response.json()["errors"][0]["code"] if response.status_code >= 400 else None
        assert code != "route_not_found", op["id"]
        assert response.status_code not in (405, 501), (op["id"], response.text)
        assert response.status_code < 500, (op["id"], response.text)
        assert response.headers["Content-Type"] == "application/vnd.api+json"


def test_a_path_no_operation_has_is_route_not_found_and_a_wrong_method_is_405(api):
    missing = api.get("/api/profile-teleporter")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "route_not_found"
    unknown_id = api.get("/api/profiles/01HZZZZZZZZZZZZZZZZZZZZZZZ")
    assert unknown_id.json()["errors"][0]["code"] == "not_found"
    wrong = api.request("PUT", "/api/profiles")
    assert wrong.status_code == 405
    assert wrong.json()["errors"][0]["code"] == "method_not_allowed"
    assert api.get("/api/profiles/").status_code == 200  # Klaviyo's trailing slash


@pytest.fixture(scope="module")
def response_validators() -> dict[str, Draft202012Validator]:
    """Validators of each operation's 2xx response schema, straight from Klaviyo's spec."""
    if not SPEC.exists():
        pytest.skip("Klaviyo's OpenAPI spec (../shared/klaviyo) is not available")
    from integrations.klaviyo_sandbox.api.opsgen_schema import SchemaCompactor

    spec = json.loads(SPEC.read_text())
    compactor = SchemaCompactor(spec["components"]["schemas"])
    found = {}
    for item in spec["paths"].values():
        for op in item.values():
            if not isinstance(op, dict) or op.get("operationId") not in operations():
                continue
            for code, answer in sorted(op["responses"].items()):
                content = answer.get("content") or {}
                if code.startswith("2") and content:
                    schema = compactor.convert(next(iter(content.values()))["schema"])
                    found[op["operationId"]] = schema
                    break
    return {
        op_id: Draft202012Validator({**schema, "$defs": compactor.defs})
        for op_id, schema in found.items()
    }


def test_reads_of_the_demo_store_match_klaviyos_response_schemas(shop, response_validators):
    checked = 0
    for op in operations().values():
        if op["method"] != "GET" or op["id"] not in response_validators:
            continue
        path = op["path"]
        if "{" in path:
            owner = SandboxResource.objects.filter(account=shop.account, type=op["type"]).first()
            if owner is None:
                continue
            path = path.replace("{id}", owner.resource_id).replace("{job_id}", owner.resource_id)
        params = (
            {"filter": "equals(messages.channel,'email')"} if op["id"] == "get_campaigns" else {}
        )
        if op["id"] == "get_coupon_codes":
            params = {"filter": "any(coupon.id,['WELCOME10','VIP20'])"}
        if op["query"]["include"]:
            params["include"] = ",".join(op["query"]["include"])
        for kind, names in op["query"]["additional_fields"].items():
            params[f"additional-fields[{kind}]"] = ",".join(names)
        response = shop.get(path, params=params)
        assert response.status_code == 200, (op["id"], response.text)
        error = best_match(response_validators[op["id"]].iter_errors(response.json()))
        assert error is None, (op["id"], list(error.absolute_path), error.message)
        checked += 1
    assert checked > 90


def test_bodies_up_to_klaviyos_5_mb_are_accepted_and_larger_ones_are_413(api):
    def bulk(size: int) -> dict:
        entry = {
            "type": "catalog-item",
            "attributes": {
                "external_id": f"BIG-{size}",
                "title": "Big",
                "description": "x" * size,
                "url": "https://shop.example.com/big",
            },
        }
        attributes = {"items": {"data": [entry]}}
        return {"data": {"type": "catalog-item-bulk-create-job", "attributes": attributes}}

    assert api.post("/api/catalog-item-bulk-create-jobs", bulk(3_000_000)).status_code == 202
    too_big = api.post("/api/catalog-item-bulk-create-jobs", bulk(6_000_000))
    assert too_big.status_code == 413
    assert too_big.json()["errors"][0]["code"] == "too_large"
