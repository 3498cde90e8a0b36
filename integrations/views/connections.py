"""Connection pages: list, add (API key, OAuth2, sandbox), detail, and one POST view per change.

Each change has its own URL and view (STYLE.md 16); a form that fails re-renders its page with
the errors. Who may change credentials is the connection's to say (`Connection.change_refusal`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from builder.workspaces import get_for_workspace_or_404, workspace_required
from integrations import selectors, services
from integrations.auth import oauth
from integrations.forms import ApiKeyForm, OAuthForm, RenameForm, ReplaceKeyForm, SandboxForm
from integrations.klaviyo.errors import KlaviyoError
from integrations.models import Connection
from integrations.sandbox import sandbox
from integrations.views.oauth import oauth_begin, redirect_uri

KINDS = ("api_key", "oauth2", "sandbox")


def _connection(request: HttpRequest, pk: int) -> Connection:
    return get_for_workspace_or_404(Connection, request.workspace, pk=pk)


def _check_may_change(request: HttpRequest, connection: Connection) -> None:
    refusal = connection.change_refusal(request.user, request.membership)
    if refusal:
        raise PermissionDenied(refusal)


@require_safe
@workspace_required
def connection_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "connections/list.html",
        {"connections": selectors.connections_of_workspace(request.workspace)},
    )


# --- Adding ---------------------------------------------------------------------------------------


def _kinds() -> tuple[str, ...]:
    return KINDS if sandbox() is not None else tuple(k for k in KINDS if k != "sandbox")


def _render_add(request: HttpRequest, kind: str, form: Form | None = None) -> HttpResponse:
    """Render the add page on the `kind` tab, with `form` (bound, with errors) if given."""
    forms = {
        "api_key": ApiKeyForm(prefix="key"),
        "oauth2": OAuthForm(prefix="oauth", presets=selectors.scope_presets()),
        "sandbox": SandboxForm(prefix="sandbox"),
    }
    if form is not None:
        forms[kind] = form
    return render(
        request,
        "connections/add.html",
        {
            "kind": kind,
            "forms": forms,
            "oauth_app": oauth.oauth_app(redirect_uri(request)),
            "sandbox_enabled": "sandbox" in _kinds(),
        },
    )


@require_safe
@workspace_required
def connection_add(request: HttpRequest) -> HttpResponse:
    """Show the add page; `?kind=` picks the tab (API key, OAuth2 or sandbox)."""
    kind = request.GET.get("kind", "api_key")
    return _render_add(request, kind if kind in _kinds() else "api_key")


@require_POST
@workspace_required
def connection_add_api_key(request: HttpRequest) -> HttpResponse:
    """Store a connection for a private API key Klaviyo accepts; nothing is saved otherwise."""
    form = ApiKeyForm(request.POST, prefix="key")
    if not form.is_valid():
        return _render_add(request, "api_key", form)
    try:
        connection = services.connection_add_api_key(
            workspace=request.workspace,
            user=request.user,
            name=form.cleaned_data["name"],
            api_key=form.cleaned_data["api_key"],
            public_key=form.cleaned_data["public_key"],
        )
    except KlaviyoError as error:
        form.add_error("api_key", f"Klaviyo did not accept this key: {error.message}")
        return _render_add(request, "api_key", form)
    messages.success(request, f"Connected to {connection.account_name}.")
    return redirect("connection_detail", pk=connection.pk)


@require_POST
@workspace_required
def connection_add_oauth(request: HttpRequest) -> HttpResponse:
    """Send the user to Klaviyo to authorize a new OAuth connection."""
    form = OAuthForm(request.POST, prefix="oauth", presets=selectors.scope_presets())
    app = oauth.oauth_app(redirect_uri(request))
    if not app.configured or not form.is_valid():
        return _render_add(request, "oauth2", form)
    return oauth_begin(request, app, form.cleaned_data["name"], form.chosen_scopes())


@require_POST
@workspace_required
def connection_add_sandbox(request: HttpRequest) -> HttpResponse:
    """Create a sandbox account with demo data and a connection to it."""
    form = SandboxForm(request.POST, prefix="sandbox")
    if "sandbox" not in _kinds():
        return _render_add(request, "api_key")
    if form.is_valid():
        try:
            connection = services.connection_create_sandbox(
                workspace=request.workspace, user=request.user, name=form.cleaned_data["name"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Sandbox ready: a private Klaviyo stand-in with demo data.")
            return redirect("connection_detail", pk=connection.pk)
    return _render_add(request, "sandbox", form)


# --- One connection -------------------------------------------------------------------------------


def _render_detail(request: HttpRequest, connection: Connection, **forms: Any) -> HttpResponse:
    """Render the connection page; bound `forms` (with errors) replace the blank ones."""
    context = {
        "connection": connection,
        "events": selectors.connection_events(connection),
        "rename_form": RenameForm(instance=connection, prefix="rename"),
        "key_form": ReplaceKeyForm(prefix="key"),
        "coverage": selectors.scope_coverage(connection),
        "oauth_app": oauth.oauth_app(redirect_uri(request)),
        "may_change": connection.change_refusal(request.user, request.membership) is None,
        **forms,
    }
    return render(request, "connections/detail.html", context)


@require_safe
@workspace_required
def connection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _connection(request, pk))


@require_POST
@workspace_required
def connection_rename(request: HttpRequest, pk: int) -> HttpResponse:
    connection = _connection(request, pk)
    form = RenameForm(request.POST, instance=connection, prefix="rename")
    if not form.is_valid():
        connection.refresh_from_db()  # the invalid name must not show as the page title
        return _render_detail(request, connection, rename_form=form)
    services.connection_rename(
        connection=connection, name=form.cleaned_data["name"], user=request.user
    )
    messages.success(request, "Connection renamed.")
    return redirect("connection_detail", pk=pk)


@require_POST
@workspace_required
def connection_replace_key(request: HttpRequest, pk: int) -> HttpResponse:
    """Test a new private key and keep it, if it reaches the same Klaviyo account."""
    connection = _connection(request, pk)
    _check_may_change(request, connection)
    form = ReplaceKeyForm(request.POST, prefix="key")
    if not connection.has_replaceable_key:
        return redirect("connection_detail", pk=pk)
    if form.is_valid():
        try:
            services.connection_replace_key(
                connection=connection, api_key=form.cleaned_data["api_key"], user=request.user
            )
        except KlaviyoError as error:
            form.add_error("api_key", f"Klaviyo did not accept this key: {error.message}")
        except ValidationError as error:
            form.add_error("api_key", error)
        else:
            messages.success(request, "New key saved; the connection is healthy.")
            return redirect("connection_detail", pk=pk)
    return _render_detail(request, connection, key_form=form)


@require_POST
@workspace_required
def connection_test(request: HttpRequest, pk: int) -> HttpResponse:
    connection = services.connection_test(connection=_connection(request, pk), user=request.user)
    if request.htmx:
        return render(
            request,
            "connections/_status.html",
            {"connection": connection, "events": selectors.connection_events(connection)},
        )
    if connection.is_healthy:
        messages.success(request, f"Klaviyo answered: {connection.account_name} is reachable.")
    else:
        messages.error(request, connection.status_message)
    return redirect("connection_detail", pk=pk)


@require_POST
@workspace_required
def connection_reconnect(request: HttpRequest, pk: int) -> HttpResponse:
    """Start a new OAuth authorization for an existing connection, with the same scopes."""
    connection = _connection(request, pk)
    _check_may_change(request, connection)
    app = oauth.oauth_app(redirect_uri(request))
    if not connection.is_oauth or connection.is_revoked or not app.configured:
        return redirect("connection_detail", pk=pk)
    scopes = connection.scopes or list(selectors.scope_presets()["full"])
    return oauth_begin(request, app, connection.name, scopes, reconnect=connection)


@require_POST
@workspace_required
def connection_sandbox_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """Put a sandbox connection's demo store back as it was seeded."""
    connection = _connection(request, pk)
    _check_may_change(request, connection)
    if connection.is_sandbox and not connection.is_revoked:
        try:
            services.connection_sandbox_reset(connection=connection, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "The sandbox has its demo data back; your changes are gone.")
    return redirect("connection_detail", pk=pk)


@require_POST
@workspace_required
def connection_disconnect(request: HttpRequest, pk: int) -> HttpResponse:
    connection = _connection(request, pk)
    _check_may_change(request, connection)
    if not connection.is_revoked:
        services.connection_disconnect(connection=connection, user=request.user)
        messages.success(request, f"{connection.name} is disconnected; its secrets are deleted.")
    return redirect("connection_detail", pk=pk)
