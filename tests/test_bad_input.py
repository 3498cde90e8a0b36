"""Bad input never causes a 500 (issue #10, item 5): every route the URL resolver knows gets
hostile values (empty, 100 000 characters, non-Latin-1, NUL, nested 5 000 deep) and must answer
something below 500, on SQLite and on PostgreSQL.

* Pages and forms, logged in as alice with her real objects in the URLs: every route gets each
  hostile value in each query parameter its forms, links and view name, and each form that posts
  to it (found in the pages) is posted with one field at a time hostile, the others plausible.
* The Django admin the same way, as a superuser, with a real row of every model.
* The sandbox API with a valid key on a seeded account: one GET operation per handler shape gets
  hostile query parameters (and deep filters, 5 000-digit numbers, an overflowing cursor), every
  operation with a path id gets hostile ids, every operation with a body gets a body nested
  5 000 deep and its example bodies with one member hostile at a time (texts, lone surrogates,
  huge numbers, date-times at the ends of the calendar), the image upload hostile form fields.

The machinery (requests rolled back one by one, a Klaviyo that refuses everything, the route walk,
form parsing) is in tests/sweep.py. Failures are collected and reported together, naming the
route, the field and the value.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
import requests
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, RequestFactory
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse
from django.utils import timezone

from builder.api.v1 import api
from builder.models import Membership, Run, User, WorkerHeartbeat, Workspace
from builder.services.api_tokens import api_token_create
from builder.services.invitations import invitation_create
from builder.services.signup import SALT as SIGNUP_SALT
from builder.services.workflows import workflow_create, workflow_publish
from integrations import services
from integrations.klaviyo_sandbox.api.filters import parse_datetime
from integrations.klaviyo_sandbox.api.handlers import HANDLERS, VIEW_HOOKS
from integrations.klaviyo_sandbox.api.operations import operations
from integrations.klaviyo_sandbox.models import SandboxLink, SandboxResource
from integrations.klaviyo_sandbox.oauth.server import (
    grant_create,
    oauth_client_create,
    s256,
    token_from_code,
)
from integrations.klaviyo_sandbox.services import sandbox_account_create
from integrations.models import Connection
from tests.conftest import PASSWORD
from tests.klaviyo_sandbox.examples import (
    RAW,
    dumps,
    example,
    full_example,
    leaves,
    replaced,
    with_real_ids,
)
from tests.sweep import (
    HOSTILE,
    Base,
    RefuseEverything,
    Route,
    Sweep,
    forms_in,
    routes,
    sandbox_errors,
    sweep_pages,
)

SANDBOX_API = "klaviyo_sandbox:api"
REVISION = "2026-07-15"
JSON_API = "application/vnd.api+json"
VERIFIER = "v" * 64
CALLBACK = "https://app.example.com/callback"
ROUTES = [route for route in routes() if route.name != SANDBOX_API]


#: 500s that this sweep finds and that are not fixed yet, by database. An entry that stops
#: failing fails the sweep, so these lists only ever shrink. None are left.
KNOWN: dict[str, set[str]] = {"sqlite": set(), "postgresql": set()}


def known() -> set[str]:
    """Return the known failures on the database the tests run on."""
    return KNOWN.get(connection.vendor, set())


@pytest.fixture(autouse=True)
def _no_http_leaves(monkeypatch, settings) -> None:
    """Answer every outgoing HTTP request with a refusal; configure an OAuth app to try."""

    def refuse(adapter: requests.adapters.HTTPAdapter, request: Any, **kwargs: Any) -> Any:
        return RefuseEverything().send(request)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", refuse)
    settings.KLAVIYO_OAUTH_CLIENT_ID = "sweep-client"
    settings.KLAVIYO_OAUTH_CLIENT_SECRET = "sweep-secret"
    settings.KLAVIYO_OAUTH_AUTHORIZE_URL = "https://klaviyo.invalid/oauth/authorize"
    settings.KLAVIYO_OAUTH_TOKEN_URL = "https://klaviyo.invalid/oauth/token"
    settings.KLAVIYO_OAUTH_REVOKE_URL = "https://klaviyo.invalid/oauth/revoke"
    settings.KLAVIYO_BASE_URL = "https://klaviyo.invalid"
    settings.KLAVIYO_SANDBOX_BASE_URL = "https://sandbox.invalid/sandbox/klaviyo"


# -- Pages and forms ------------------------------------------------------------------------------


@pytest.fixture
def alices_things(alice, alice_workspace, bob) -> dict[tuple[str, str], list[Any]]:
    """Real values for every URL argument, by (first URL segment, argument)."""
    api_key = Connection.objects.create(
        workspace=alice_workspace,
        name="Zebra Outlet",
        kind=Connection.Kind.API_KEY,
        secret={"api_key": "pk_live_zebra_0123456789"},
        key_hint="pk_…6789",
        account_name="Zebra Outlet Inc",
        created_by=alice,
    )
    sandbox = services.connection_create_sandbox(
        workspace=alice_workspace, user=alice, name="Alice's sandbox"
    )
    WorkerHeartbeat.objects.create(hostname="sweep", last_seen=timezone.now())  # healthz: 200
    account_id = sandbox.sandbox_account_id
    image = SandboxResource.objects.filter(account_id=account_id, type="image").first()
    run = alices_run(alice_workspace, sandbox.name)
    invitation, invitation_token = invitation_create(
        workspace=alice_workspace, email="dana@example.com", role="member", invited_by=alice
    )
    signup_token = signing.dumps({"email": "erin@example.com", "next": ""}, salt=SIGNUP_SALT)
    return {
        ("hooks", "token"): [alices_webhook(alice_workspace, alice)],
        ("connections", "pk"): [api_key.pk, sandbox.pk],
        ("runs", "pk"): [run.pk],
        ("workflows", "pk"): [run.workflow_id],
        ("workflows", "key"): ["find", "pause"],
        ("workflows", "number"): [run.version.number],
        ("workflows", "run_id"): [run.pk],
        ("api", "workflow_id"): [run.workflow_id],  # the JSON API, as alice: no token, 401
        ("api", "run_id"): [run.pk],
        ("workspace", "membership_id"): [
            Membership.objects.get(workspace=alice_workspace, user=bob).pk
        ],
        ("workspace", "token_id"): [
            api_token_create(workspace=alice_workspace, name="Zebra CI", user=alice)[0].pk
        ],
        ("workspace", "invitation_id"): [invitation.pk],
        ("invitations", "token"): [invitation_token],
        ("accounts", "token"): [signup_token],
        ("workspaces", "workspace_id"): [alice_workspace.pk],
        ("catalog", "key"): ["KLAVIYO_GET_LISTS"],
        ("sandbox", "public_key"): [sandbox.public_key],
        ("sandbox", "image_id"): [image.resource_id if image else "1"],
        # alice is no staff member: every admin page sends her to the admin's login
        ("admin", "object_id"): ["1"],
        ("admin", "id"): ["1"],
        ("admin", "app_label"): ["builder"],
        ("admin", "content_type_id"): ["1"],
    }


def alices_run(workspace: Workspace, connection_name: str | None = None) -> Run:
    """Return a queued run of a published one-step workflow of the workspace."""
    document = {"name": "Zebra welcome", "steps": [
        {"key": "pause", "action": "builtin.delay", "input": {"seconds": 5}}]}  # fmt: skip
    if connection_name is not None:  # a Klaviyo step, so the editor's sweep meets a real form
        find = {"filter": 'equals(email,"a@example.com")'}
        document["steps"].append(
            {"key": "find", "action": "KLAVIYO_GET_PROFILES", "connection": connection_name,
             "input": find}
        )  # fmt: skip
    workflow, _ = workflow_create(workspace=workspace, user=None, definition=document)
    version = workflow_publish(workflow=workflow, user=None)
    return Run.objects.create(workspace=workspace, workflow=workflow, version=version)


def alices_webhook(workspace: Workspace, user: User) -> str:
    """An armed, unsigned inbound webhook (hostile bodies reach its checks); return its token."""
    from builder.triggers.services import trigger_sync

    document = {
        "name": "Orders in",
        "trigger": {"type": "webhook", "signing": "none", "input_schema": {
            "type": "object", "properties": {"email": {"type": "string"}}}},
        "steps": [{"key": "note", "action": "builtin.set", "input": {"values": {"n": 1}}}],
    }  # fmt: skip
    workflow, _ = workflow_create(workspace=workspace, user=user, definition=document)
    workflow_publish(workflow=workflow, user=user)
    return trigger_sync(workflow=workflow).state.token


def urls_of(route: Route, things: dict[tuple[str, str], list[Any]]) -> list[str]:
    """Return the route's URLs, one per real value of its argument (or fail saying what to add)."""
    if not route.args:
        return [reverse(route.name)]
    values = []
    for arg in route.args:
        if (route.area, arg) not in things:
            pytest.fail(f"{route.name} ({route.pattern}) takes {arg!r}: add it to alices_things")
        values.append(things[(route.area, arg)])
    if len(route.args) == 1:
        return [reverse(route.name, kwargs={route.args[0]: value}) for value in values[0]]
    return [reverse(route.name, kwargs=dict(zip(route.args, (v[0] for v in values), strict=True)))]


def bases(client: Client) -> dict[str, Base]:
    """Return valid starting points for routes that do nothing useful without them."""
    oauth_app, secret = oauth_client_create(name="Sweep App", redirect_uris=[CALLBACK])
    account, key = sandbox_account_create(name="Consenting Store", seed=False)
    authorization = {
        "response_type": "code",
        "client_id": oauth_app.client_id,
        "redirect_uri": CALLBACK,
        "scope": "profiles:read",
        "state": "state-1",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
    }
    code = grant_create(
        client=oauth_app,
        account=account,
        redirect_uri=CALLBACK,
        scopes=["profiles:read"],
        code_challenge=s256(VERIFIER),
    )
    credentials = {"client_id": oauth_app.client_id, "client_secret": secret}
    exchange = {"grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER}
    return {
        "klaviyo_sandbox:oauth_authorize": Base(
            query=authorization,
            form={
                **authorization,
                "decision": "approve",
                "account": "existing",
                "private_key": key,
            },
        ),
        "klaviyo_sandbox:oauth_token": Base(
            form={**credentials, **exchange, "redirect_uri": CALLBACK}
        ),
        "klaviyo_sandbox:oauth_revoke": Base(form={**credentials, "token": "sbxrefresh-x"}),
        "connection_oauth_callback": Base(query={"state": _start_oauth(client), "code": "c"}),
        "connection_add": Base(variants=[{"kind": "oauth2"}, {"kind": "sandbox"}]),
    }


def _start_oauth(client: Client) -> str:
    """Start adding an OAuth connection (kept in the session); return the flow's state."""
    page = client.get(reverse("connection_add"), {"kind": "oauth2"})
    target = reverse("connection_add_oauth")
    forms, _ = forms_in(page.content.decode(), page.wsgi_request.path)
    [form] = [f for f in forms if f.action == target]
    answer = client.post(target, form.fields)
    assert answer.status_code == 302, answer.content[:300]
    return dict(part.split("=", 1) for part in urlsplit(answer.url).query.split("&"))["state"]


def test_no_page_or_form_answers_500_to_hostile_values(client_for, alice, alices_things):
    """Every route as alice: her pages, forms and actions, and the sandbox's OAuth pages."""
    client = client_for(alice)
    client.raise_request_exception = False
    sweep = Sweep(client)
    starts = bases(client)
    targets = [(route, url) for route in ROUTES for url in urls_of(route, alices_things)]
    sweep_pages(sweep, targets, starts)
    sweep.assert_no_failures()


def test_no_public_page_answers_500_to_hostile_values(alice, alices_things):
    """Every route for someone not logged in: login, sign-up, invitations, the OAuth token
    endpoints, and the redirects to the login page everywhere else."""
    sweep = Sweep(Client(raise_request_exception=False))
    targets = [(route, url) for route in ROUTES for url in urls_of(route, alices_things)]
    sweep_pages(sweep, targets, {})
    sweep.assert_no_failures()


# -- The JSON API ---------------------------------------------------------------------------------

WORKFLOW = {
    "name": "Zebra welcome",
    "steps": [{"key": "pause", "action": "builtin.delay", "input": {"seconds": 5}}],
}
#: The valid body each operation starts from (the API reads bodies itself: its OpenAPI
#: document names no request bodies).
API_BODIES: dict[str, Any] = {
    "post /api/v1/workflows": WORKFLOW,
    "put /api/v1/workflows/{workflow_id}": WORKFLOW,
    "post /api/v1/workflows/{workflow_id}/runs": {"input": {"email": "ada@example.com"}},
}


def test_no_json_api_route_answers_500_to_hostile_values(client_for, alice, alice_workspace):
    """Every operation of the JSON API's OpenAPI document, with a workspace token: hostile ids,
    query parameters and JSON bodies (nested, NaN, huge numbers, NUL, lone surrogates, and its
    valid body with one member hostile at a time)."""
    run = alices_run(alice_workspace)
    _, secret = api_token_create(workspace=alice_workspace, name="Sweep", user=alice)
    client = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {secret}"})
    sweep = Sweep(client, known=known())
    real = {"workflow_id": str(run.workflow_id), "run_id": str(run.pk)}
    raw_bodies = {
        "nested 5 000 deep": "[" * 5000 + "]" * 5000,
        "NaN": '{"name": NaN}',
        "1e400": '{"name": 1e400}',
        "a 5 000-digit number": '{"name": ' + "9" * 5000 + "}",
        "an escaped NUL": '{"name": "a\\u0000b"}',
        "a lone surrogate": '{"name": "\\ud800"}',
        "not UTF-8": b"\xff\xfe",
    }
    for template, operations_of_path in api.get_openapi_schema()["paths"].items():
        for method, spec in operations_of_path.items():
            names = [p["name"] for p in spec.get("parameters", []) if p["in"] == "path"]
            path = template.format(**real)
            where = f"{method.upper()} {template}"
            for name in names:
                for label, value in HOSTILE.items():
                    hostile = template.format(**{**real, name: quote(value, safe="")})
                    sweep.send(f"{where} {name}={label}", method, hostile)
            for param in spec.get("parameters", []):
                if param["in"] == "query":
                    for label, value in HOSTILE.items():
                        query = urlencode({param["name"]: value})
                        sweep.send(f"{where} ?{param['name']}={label}", method, f"{path}?{query}")
            if method not in ("post", "put", "patch"):
                continue
            for label, text in raw_bodies.items():
                body = text if isinstance(text, bytes) else text.encode()
                sweep.send(f"{where} body {label}", method, path, data=body, **JSON)
            base = API_BODIES.get(f"{method} {template}", {})
            for member, original in leaves(base):
                for label, value in _all_cases(original).items():
                    body = dumps(replaced(base, member, value)).encode("utf-8", "surrogatepass")
                    at = "/" + "/".join(map(str, member))
                    sweep.send(f"{where} body {at}={label}", method, path, data=body, **JSON)
    sweep.assert_no_failures()


JSON = {"content_type": "application/json"}


def admin_things() -> dict[tuple[str, str], list[Any]]:
    """Real values for the admin's URL arguments other than objects (see `admin_urls`)."""
    return {
        ("admin", "app_label"): ["builder", "klaviyo_sandbox"],
    }


def admin_urls(route: Route) -> list[str]:
    """Return an admin route's URLs, with a real object of the route's model where it takes one."""
    if not {"object_id", "id"} & set(route.args):
        return urls_of(route, admin_things())
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        # UserAdmin names its password page after django.contrib.auth's user
        password_page = model is User and route.name == "admin:auth_user_password_change"
        if route.name.startswith(prefix) or password_page:
            row = model_admin.get_queryset(RequestFactory().get("/")).first()
            if row is None:
                pytest.fail(f"{route.name}: make a {model.__name__} in the admin test")
            kwargs = {arg: row.pk for arg in route.args if arg in ("object_id", "id")}
            if "content_type_id" in route.args:
                kwargs["content_type_id"] = ContentType.objects.get_for_model(model).pk
            return [reverse(route.name, kwargs=kwargs)]
    if route.name == "admin:view_on_site":  # any model's object: a workspace
        workspace = Workspace.objects.first()
        kind = ContentType.objects.get_for_model(Workspace).pk
        return [reverse(route.name, kwargs={"content_type_id": kind, "object_id": workspace.pk})]
    pytest.fail(f"{route.name} ({route.pattern}): which model's object does it take?")


@pytest.fixture
def one_of_each(alice, alice_workspace) -> None:
    """A row of every model the admin shows (an empty sandbox: its changelists stay short)."""
    WorkerHeartbeat.objects.create(hostname="sweep", last_seen=timezone.now())
    Group.objects.create(name="Editors")
    invitation_create(
        workspace=alice_workspace, email="dana@example.com", role="member", invited_by=alice
    )
    account, _ = sandbox_account_create(name="Admin Store", seed=False)
    SandboxLink.objects.create(
        account=account, src_type="list", src_id="L1", rel="profiles", dst_type="profile",
        dst_id="P1",
    )  # fmt: skip
    oauth_app, _ = oauth_client_create(name="Sweep App", redirect_uris=[CALLBACK])
    grant = {"client": oauth_app, "account": account, "redirect_uri": CALLBACK, "scopes": []}
    code = grant_create(**grant, code_challenge=s256(VERIFIER))
    grant_create(**grant, code_challenge="c" * 43)  # one unused grant besides the used one
    token_from_code(client=oauth_app, code=code, redirect_uri=CALLBACK, code_verifier=VERIFIER)


def test_no_admin_page_answers_500_to_hostile_values(client_for, one_of_each):
    """The Django admin, as a superuser, with a real object of each model."""
    root = User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    client = client_for(root)
    client.raise_request_exception = False
    sweep = Sweep(client, known=known())
    admin_routes = [route for route in ROUTES if route.name.startswith("admin:")]
    targets = [(route, url) for route in admin_routes for url in admin_urls(route)]
    sweep_pages(sweep, targets, {})
    sweep.assert_no_failures()


# -- The sandbox API ------------------------------------------------------------------------------

#: Valid queries for operations that need one (they refuse a request without it).
SANDBOX_QUERIES = {
    "get_campaigns": {"filter": "equals(messages.channel,'email')"},
    "get_coupon_codes": {"filter": "any(coupon.id,['WELCOME10'])"},
}
#: What only the query parser, the filter parser and the cursor decoder see.
QUERY_SPECIALS = {
    "filter": {
        "not( x 2 000": "not(" * 2000 + "equals(id,'x')" + ")" * 2000,
        "a 5 000-digit number": f"greater-than(id,{'9' * 5000})",
        "a 5 000-digit float": f"greater-than(id,{'9' * 5000}.5)",
        "a date-time before year 1 in UTC": "greater-than(id,0001-01-01T00:00:00+14:00)",
    },
    "page[cursor]": {
        "an overflowing cursor": base64.urlsafe_b64encode(b'{"o": 99999999999999999999}').decode()
    },
    "page[size]": {"a 5 000-digit size": "9" * 5000},
}
#: Body members get the hostile texts (and a lone surrogate), date-times at the edges of the
#: calendar, or these numbers; RAW ones are sent as written, since Python's json cannot.
BODY_TEXTS = {**HOSTILE, "a lone surrogate": "\ud800"}
EDGE_DATES = {
    "the first date-time": "0001-01-01T00:00:00",
    "the last date-time": "9999-12-31T23:59:59",
    "before the first UTC date-time": "0001-01-01T00:00:00+14:00",
    "after the last UTC date-time": "9999-12-31T23:59:59-14:00",
}
BODY_NUMBERS: dict[str, Any] = {
    "2**63 - 1": 2**63 - 1,
    "-2**63": -(2**63),
    "1e308": 1e308,
    "-1": -1,
    "5 000 digits": (RAW, "9" * 5000),
    "1e400": (RAW, "1e400"),
}


@dataclass
class Sandbox:
    """A seeded sandbox account seen through a test client, with a real id of each type."""

    sweep: Sweep
    public_key: str
    ids: dict[str, str]

    def path(self, op: dict[str, Any], resource_id: str | None = None) -> str:
        real = resource_id if resource_id is not None else self.ids.get(op["type"], "unknown")
        path = op["path"].replace("{id}", real).replace("{job_id}", real)
        return f"/sandbox/klaviyo{path}"

    def call(
        self,
        label: str,
        op: dict[str, Any],
        *,
        resource_id: str | None = None,
        query: dict[str, str] | None = None,
        body: str | None = None,
    ) -> Any:
        query = {**SANDBOX_QUERIES.get(op["id"], {}), **(query or {})}
        if op["client"]:
            query.setdefault("company_id", self.public_key)
        url = self.path(op, resource_id) + (f"?{urlencode(query)}" if query else "")
        if body is None:
            return self.sweep.send(f"{op['method']} {op['id']} {label}", op["method"], url)
        data = body.encode("utf-8", "surrogatepass")
        return self.sweep.send(
            f"{op['method']} {op['id']} {label}",
            op["method"],
            url,
            data=data,
            content_type=JSON_API,
        )


@pytest.fixture
def sandbox_api(db) -> Iterator[Sandbox]:
    account, key = sandbox_account_create(name="Hostile Input Outfitters", seed=True)
    client = Client(
        raise_request_exception=False,
        headers={"Authorization": f"Klaviyo-API-Key {key}", "revision": REVISION},
    )
    ids: dict[str, str] = {}
    for kind, resource_id in SandboxResource.objects.filter(account=account).values_list(
        "type", "resource_id"
    ):
        ids.setdefault(kind, resource_id)
    sweep = Sweep(client)
    with sandbox_errors(sweep):
        yield Sandbox(sweep, account.public_key, ids)


def shape(op: dict[str, Any]) -> tuple[Any, ...]:
    """Return what decides how an operation treats its query: handler, hooks, filter, paging."""
    query = op["query"]
    handler = HANDLERS.get(op["id"], op["kind"])
    return (handler, op["type"] in VIEW_HOOKS, query["filters"] is not None, bool(query["page"]))


def one_per_shape(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    chosen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for op in ops:
        chosen.setdefault(shape(op), op)
    return list(chosen.values())


def query_names(op: dict[str, Any]) -> list[str]:
    """Return the query parameters an operation reads, with one type for the typed ones."""
    query = op["query"]
    names = ["filter", "sort", "include", "page[size]", "page[cursor]", *query["required"]]
    names += [f"fields[{kind}]" for kind in query["fields"][:1]]
    names += [f"additional-fields[{kind}]" for kind in list(query["additional_fields"])[:1]]
    return names


def hostile_bodies(sandbox_api: Sandbox, op: dict[str, Any]) -> None:
    """Send an operation a body nested 5 000 deep, then its example bodies with one member
    hostile at a time: every value in the required members, and the values that reach
    handlers (long and non-Latin-1 text, edge dates, big numbers) in all the others."""
    sandbox_api.call("body nested 5 000 deep", op, body="[" * 5000 + "]" * 5000)
    required = with_real_ids(example(op["body"]["schema"]), sandbox_api.ids)
    full = with_real_ids(full_example(op) or required, sandbox_api.ids)
    seen = dict(leaves(required))
    for body, cases_for in ((required, _all_cases), (full, _deep_cases)):
        sandbox_api.call("example body", op, body=dumps(body))
        for path, original in leaves(body):
            if body is full and path in seen:
                continue
            where = "/" + "/".join(map(str, path))
            for label, value in cases_for(original).items():
                sandbox_api.call(f"{where}={label}", op, body=dumps(replaced(body, path, value)))


PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)


def hostile_uploads(sandbox_api: Sandbox, op: dict[str, Any]) -> None:
    """Send a multipart upload with each form field, and the file's name, hostile in turn."""
    for member in ("name", "hidden", "file name"):
        for label, value in HOSTILE.items():
            if member == "file name" and not value:
                continue  # the test client cannot send a file without a name
            fields: dict[str, Any] = {"name": "", "hidden": "false"}  # no name: the file's
            file_name = value if member == "file name" else "photo.png"
            if member != "file name":
                fields[member] = value
            fields["file"] = SimpleUploadedFile(file_name, PNG, "image/png")
            sandbox_api.sweep.send(
                f"POST {op['id']} multipart {member}={label}",
                "POST",
                sandbox_api.path(op),
                data=encode_multipart(BOUNDARY, fields),
                content_type=MULTIPART_CONTENT,
            )


def _all_cases(original: Any) -> dict[str, Any]:
    cases = BODY_TEXTS if isinstance(original, str) else BODY_NUMBERS
    if isinstance(original, str) and parse_datetime(original) is not None:
        cases = {**cases, **EDGE_DATES}
    return cases


def _deep_cases(original: Any) -> dict[str, Any]:
    # NUL and out-of-range numbers never reach a handler (api/limits.py refuses them), so to
    # keep the sweep quick the optional members get only what handlers see differently.
    if not isinstance(original, str):
        return {k: v for k, v in BODY_NUMBERS.items() if not isinstance(v, tuple)}
    if parse_datetime(original) is not None:
        return EDGE_DATES
    return {k: HOSTILE[k] for k in ("100 000 characters", "non-Latin-1")}


def test_no_sandbox_operation_answers_500_to_hostile_values(sandbox_api):
    """Queries by handler shape, path ids and bodies of every operation (module docstring)."""
    ops = list(operations().values())
    for op in one_per_shape([op for op in ops if op["method"] == "GET"]):
        for name in query_names(op):
            cases = {**HOSTILE, **QUERY_SPECIALS.get(name, {})}
            for label, value in cases.items():
                sandbox_api.call(f"?{name}={label}", op, query={name: value})
    for op in ops:
        if "{id}" in op["path"] or "{job_id}" in op["path"]:
            for label, value in HOSTILE.items():
                sandbox_api.call(f"id={label}", op, resource_id=quote(value, safe=""))
    for op in ops:
        if op["body"] and op["body"]["multipart"]:
            hostile_uploads(sandbox_api, op)
        elif op["body"]:
            hostile_bodies(sandbox_api, op)
    sandbox_api.sweep.assert_no_failures()
