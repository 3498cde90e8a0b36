"""Every view the URL resolver knows: anonymous users go to the login page, and another
workspace's objects answer 404. New views are covered the day they are added: a route with an
object in its URL must say below how to make alice's object for it, or this test fails."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from builder.models import Membership, Run
from builder.services.api_tokens import api_token_create
from builder.services.workflows import workflow_create, workflow_publish
from integrations.models import Connection

#: Routes anyone may open, and namespaces with their own authentication (the Django admin's
#: staff login, the sandbox's API keys and OAuth). An invitation link's secret token is its key:
#: logged out it asks to log in first and reveals nothing (tests/builder/test_invitations.py).
PUBLIC = {
    "login",
    "signup",
    "logout",
    "healthz",
    "signup_sent",
    "signup_finish",
    "invitation_detail",
    "invitation_accept",
    "invitation_decline",
    "webhook_inbound",  # its token is its key; tests/builder/test_webhooks.py
    "klaviyo_webhook_inbound",  # signed by Klaviyo; tests/builder/test_klaviyo_triggers.py
}
#: The JSON API (`api_v1`) authenticates by token; tests/builder/test_api.py covers it.
OWN_AUTH_NAMESPACES = {"admin", "klaviyo_sandbox", "api_v1"}


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    args: tuple[str, ...]

    @property
    def area(self) -> str:
        return self.pattern.split("/", 1)[0]


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield Route(name, prefix + str(entry.pattern), tuple(entry.pattern.converters))


def app_routes() -> list[Route]:
    """Return every named route of the app itself, outside PUBLIC and OWN_AUTH_NAMESPACES."""
    return [
        route
        for route in _walk(get_resolver().url_patterns)
        if route.name not in PUBLIC and route.name.split(":")[0] not in OWN_AUTH_NAMESPACES
    ]


ROUTES = app_routes()
PAGES = [route for route in ROUTES if not route.args]
WITH_OBJECTS = [route for route in ROUTES if route.args]


@pytest.fixture
def alices_things(alice, alice_workspace, bob, invite) -> dict[tuple[str, str], Any]:
    """Alice's objects by (first URL segment, URL argument): what charlie must never reach."""
    connection = Connection.objects.create(
        workspace=alice_workspace,
        name="Zebra Outlet",
        kind=Connection.Kind.API_KEY,
        secret={"api_key": "pk_live_zebra_0123456789"},
        key_hint="pk_…6789",
        account_name="Zebra Outlet Inc",
        created_by=alice,
    )
    run = _alices_run(alice_workspace)
    return {
        ("connections", "pk"): connection.pk,
        ("workflows", "pk"): run.workflow_id,
        ("workflows", "key"): "pause",
        ("workflows", "number"): run.version.number,
        ("workflows", "run_id"): run.pk,
        ("workspace", "membership_id"): Membership.objects.get(
            workspace=alice_workspace, user=bob
        ).pk,
        ("workspace", "invitation_id"): invite("dana@example.com")[0].pk,
        ("workspaces", "workspace_id"): alice_workspace.pk,
        ("runs", "pk"): run.pk,
        ("workspace", "token_id"): api_token_create(
            workspace=alice_workspace, name="Zebra CI", user=alice
        )[0].pk,
    }


def _alices_run(workspace) -> Run:
    document = {"name": "Zebra welcome", "steps": [
        {"key": "pause", "action": "builtin.delay", "input": {"seconds": 5}}]}  # fmt: skip
    workflow, _ = workflow_create(workspace=workspace, user=None, definition=document)
    version = workflow_publish(workflow=workflow, user=None)
    return Run.objects.create(workspace=workspace, workflow=workflow, version=version)


#: Arguments that name no workspace's object (anyone signed in may open them).
SHARED_ARGS: dict[tuple[str, str], Callable[[], Any]] = {
    ("catalog", "key"): lambda: "KLAVIYO_GET_LISTS",
}


def _url(route: Route, things: dict[tuple[str, str], Any]) -> str | None:
    """Return the route's URL for alice's objects, or None when it names no workspace object."""
    kwargs = {}
    for arg in route.args:
        if (route.area, arg) in SHARED_ARGS:
            return None
        if (route.area, arg) not in things:
            pytest.fail(
                f"{route.name} ({route.pattern}) takes {arg!r}: add how to make alice's object "
                "for it to `alices_things` in tests/builder/test_isolation.py"
            )
        kwargs[arg] = things[(route.area, arg)]
    return reverse(route.name, kwargs=kwargs)


def _send(client: Any, url: str) -> Any:
    """Request `url` with the method the view takes (GET, or POST when GET is not allowed)."""
    response = client.get(url)
    return client.post(url) if response.status_code == 405 else response


def test_the_walk_finds_the_views_it_must():
    names = {route.name for route in ROUTES}
    assert {"dashboard", "connection_detail", "connection_rename", "catalog_action"} <= names


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.name)
def test_it_requires_login(client, db, route):
    url = reverse(route.name, kwargs=dict.fromkeys(route.args, 1)) if route.args else None
    if route.args and (route.area, route.args[0]) in SHARED_ARGS:
        url = reverse(route.name, kwargs={a: SHARED_ARGS[(route.area, a)]() for a in route.args})
    response = _send(client, url or reverse(route.name))
    assert response.status_code == 302, response
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("route", WITH_OBJECTS, ids=lambda route: route.name)
def test_charlie_gets_404_for_alices_objects(client_for, charlie, alices_things, route):
    url = _url(route, alices_things)
    if url is None:
        pytest.skip("names no workspace's object")
    response = _send(client_for(charlie), url)
    assert response.status_code == 404, f"{route.name}: {response.status_code}"


@pytest.mark.parametrize("route", WITH_OBJECTS + PAGES, ids=lambda route: route.name)
def test_a_post_without_a_csrf_token_is_refused(alice, alices_things, route):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    url = _url(route, alices_things) if route.args else reverse(route.name)
    if url is None:
        pytest.skip("names no workspace's object")
    response = client.post(url)
    assert response.status_code in (403, 405), f"{route.name}: {response.status_code}"


@pytest.mark.parametrize(
    "route", [r for r in PAGES if r.name not in {"logout"}], ids=lambda route: route.name
)
def test_pages_show_only_the_current_workspace(client_for, charlie, alices_things, route):
    response = client_for(charlie).get(reverse(route.name))
    if response.status_code == 405:
        pytest.skip("a POST-only view")
    assert response.status_code in (200, 302)
    body = response.content.decode()
    assert "Alice" not in body
    assert "Zebra" not in body


def test_charlie_cannot_remove_alices_members_by_posting_their_id(
    client_for, charlie, bob, alice_workspace
):
    bobs = Membership.objects.get(workspace=alice_workspace, user=bob)
    assert client_for(charlie).post(reverse("member_remove", args=[bobs.pk])).status_code == 404
    assert Membership.objects.filter(pk=bobs.pk).exists()


def test_charlie_neither_sees_nor_revokes_alices_invitations(client_for, charlie, invite):
    invitation, _ = invite("dana@example.com")
    client = client_for(charlie)
    page = client.get(reverse("workspace_settings"))
    assert list(page.context["invitations"]) == []
    assert "dana@example.com" not in page.content.decode()
    response = client.post(reverse("invitation_revoke", args=[invitation.pk]))
    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.is_pending


def test_charlie_cannot_switch_into_alices_workspace(client_for, charlie, alice_workspace):
    response = client_for(charlie).post(reverse("workspace_switch", args=[alice_workspace.pk]))
    assert response.status_code == 404


def test_the_not_found_page_is_friendly(client_for, charlie, alice_workspace):
    response = client_for(charlie).post(reverse("workspace_switch", args=[alice_workspace.pk]))
    assert "belongs to a workspace you are not working in" in response.content.decode()


def test_members_of_a_workspace_see_its_members_only(client_for, bob, alice_workspace, charlie):
    page = client_for(bob, workspace=alice_workspace).get(reverse("workspace_settings"))
    emails = {m.user.email for m in page.context["memberships"]}
    assert emails == {"alice@example.com", "bob@example.com"}


def test_a_user_without_any_workspace_is_asked_to_create_one(client_for, alice, alice_workspace):
    Membership.objects.filter(user=alice).delete()
    response = client_for(alice).get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url == reverse("workspace_list")
