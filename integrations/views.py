"""Connection pages: list, add (API key, OAuth2, sandbox), detail, test, reconnect, disconnect."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from builder.workspaces import get_for_workspace_or_404, workspace_required
from integrations import access, selectors, services
from integrations.auth import oauth
from integrations.forms import ApiKeyForm, OAuthForm, RenameForm, ReplaceKeyForm, SandboxForm
from integrations.klaviyo.errors import KlaviyoError
from integrations.models import Connection

OAUTH_SESSION_KEY = "klaviyo_oauth"
KINDS = ("api_key", "oauth2", "sandbox")


def _connection(request: HttpRequest, pk: int) -> Connection:
    return get_for_workspace_or_404(Connection, request.workspace, pk=pk)


@workspace_required
def connection_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "connections/list.html",
        {"connections": selectors.connections_of_workspace(request.workspace)},
    )


def _redirect_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("connection_oauth_callback"))


@workspace_required
def connection_add(request: HttpRequest) -> HttpResponse:
    """Add a connection; `?kind=` picks the tab (API key, OAuth2 or sandbox)."""
    kind = request.POST.get("kind") or request.GET.get("kind") or "api_key"
    if kind not in KINDS or (kind == "sandbox" and not settings.KLAVIYO_SANDBOX_ENABLED):
        kind = "api_key"
    data = request.POST if request.method == "POST" else None
    app = oauth.oauth_app(_redirect_uri(request))
    forms = {
        "api_key": ApiKeyForm(data if kind == "api_key" else None, prefix="key"),
        "oauth2": OAuthForm(
            data if kind == "oauth2" else None, prefix="oauth", presets=selectors.scope_presets()
        ),
        "sandbox": SandboxForm(data if kind == "sandbox" else None, prefix="sandbox"),
    }
    if request.method == "POST":
        form = forms[kind]
        if form.is_valid():
            if kind == "api_key":
                response = _add_api_key(request, form)
                if response:
                    return response
            elif kind == "oauth2" and app.configured:
                return _oauth_begin(request, app, form.cleaned_data["name"], form.chosen_scopes())
            elif kind == "sandbox":
                try:
                    connection = services.connection_create_sandbox(
                        workspace=request.workspace,
                        user=request.user,
                        name=form.cleaned_data["name"],
                    )
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    messages.success(
                        request, "Sandbox ready: a private Klaviyo stand-in with demo data."
                    )
                    return redirect("connection_detail", pk=connection.pk)
    return render(
        request,
        "connections/add.html",
        {
            "kind": kind,
            "forms": forms,
            "oauth_app": app,
            "sandbox_enabled": settings.KLAVIYO_SANDBOX_ENABLED,
        },
    )


def _add_api_key(request: HttpRequest, form: ApiKeyForm) -> HttpResponse | None:
    key = form.cleaned_data["api_key"]
    try:
        account = access.api_key_verify(api_key=key)
    except KlaviyoError as error:
        form.add_error("api_key", f"Klaviyo did not accept this key: {error.message}")
        return None
    connection = services.connection_create_api_key(
        workspace=request.workspace,
        user=request.user,
        name=form.cleaned_data["name"],
        api_key=key,
        public_key=form.cleaned_data["public_key"],
        account=account,
    )
    messages.success(request, f"Connected to {connection.account_name}.")
    return redirect("connection_detail", pk=connection.pk)


def _oauth_begin(
    request: HttpRequest,
    app: oauth.OAuthApp,
    name: str,
    scopes: list[str],
    reconnect: Connection | None = None,
) -> HttpResponse:
    """Remember state and PKCE verifier in the session, then send the user to Klaviyo."""
    # Reading the account is how a connection knows which Klaviyo account it reaches.
    scopes = sorted({*scopes, "accounts:read"})
    start = oauth.authorization_start(app, scopes=scopes)
    request.session[OAUTH_SESSION_KEY] = {
        "state": start.state,
        "code_verifier": start.code_verifier,
        "name": name,
        "workspace_id": request.workspace.pk,
        "connection_id": reconnect.pk if reconnect else None,
    }
    return redirect(start.url)


@workspace_required
def connection_oauth_callback(request: HttpRequest) -> HttpResponse:
    """Finish the OAuth flow: check the state, exchange the code, store the tokens."""
    pending = request.session.get(OAUTH_SESSION_KEY)
    if pending is None or not oauth.state_matches(pending["state"], request.GET.get("state")):
        # Leave a pending flow alone: a stray or forged link must not cancel the real one.
        messages.error(
            request,
            "That answer from Klaviyo does not belong to a connection started in this browser, "
            "so it was ignored. Start the connection again.",
        )
        return redirect("connection_add")
    del request.session[OAUTH_SESSION_KEY]
    if pending["workspace_id"] != request.workspace.pk:
        messages.error(request, "You switched workspaces during the authorization; start again.")
        return redirect("connection_add")
    reconnect = None
    if pending["connection_id"]:
        reconnect = _connection(request, pending["connection_id"])
    if request.GET.get("error"):
        code = request.GET["error"]
        detail = request.GET.get("error_description") or code
        text = oauth.PLAIN_ERRORS.get(code) or f"Klaviyo did not authorize the connection: {detail}"
        messages.error(
            request, text if code == "access_denied" else f"{text} Nothing was connected."
        )
        return (
            redirect("connection_detail", pk=reconnect.pk)
            if reconnect
            else redirect(reverse("connection_add") + "?kind=oauth2")
        )
    app = oauth.oauth_app(_redirect_uri(request))
    try:
        token = oauth.authorization_finish(
            app, code=request.GET.get("code", ""), code_verifier=pending["code_verifier"]
        )
        connection = services.connection_save_oauth(
            workspace=request.workspace,
            user=request.user,
            name=pending["name"],
            token=token,
            connection=reconnect,
        )
    except (oauth.OAuthFlowError, KlaviyoError) as error:
        messages.error(request, f"Connecting with OAuth failed: {error}")
        return redirect(reverse("connection_add") + "?kind=oauth2")
    messages.success(request, f"Connected to {connection.account_name} with OAuth.")
    return redirect("connection_detail", pk=connection.pk)


@workspace_required
def connection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    connection = _connection(request, pk)
    rename_form = RenameForm(instance=connection, prefix="rename")
    key_form = ReplaceKeyForm(prefix="key")
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "rename":
            rename_form = RenameForm(request.POST, instance=connection, prefix="rename")
            if rename_form.is_valid():
                services.connection_rename(
                    connection=connection, name=rename_form.cleaned_data["name"], user=request.user
                )
                messages.success(request, "Connection renamed.")
                return redirect("connection_detail", pk=pk)
        elif action == "replace_key" and connection.kind == Connection.Kind.API_KEY:
            key_form = ReplaceKeyForm(request.POST, prefix="key")
            if key_form.is_valid():
                key = key_form.cleaned_data["api_key"]
                try:
                    account = access.api_key_verify(
                        api_key=key, base_url=access.base_url_for(connection)
                    )
                except KlaviyoError as error:
                    key_form.add_error(
                        "api_key", f"Klaviyo did not accept this key: {error.message}"
                    )
                else:
                    services.connection_replace_key(
                        connection=connection, api_key=key, account=account, user=request.user
                    )
                    messages.success(request, "New key saved; the connection is healthy.")
                    return redirect("connection_detail", pk=pk)
    coverage = selectors.scope_coverage(connection)
    return render(
        request,
        "connections/detail.html",
        {
            "connection": connection,
            "events": selectors.connection_events(connection),
            "rename_form": rename_form,
            "key_form": key_form,
            "coverage": coverage,
            "oauth_app": oauth.oauth_app(_redirect_uri(request)),
        },
    )


@workspace_required
@require_POST
def connection_test(request: HttpRequest, pk: int) -> HttpResponse:
    connection = services.connection_test(connection=_connection(request, pk), user=request.user)
    if request.htmx:
        return render(
            request,
            "connections/_status.html",
            {"connection": connection, "events": selectors.connection_events(connection)},
        )
    if connection.status == Connection.Status.HEALTHY:
        messages.success(request, f"Klaviyo answered: {connection.account_name} is reachable.")
    else:
        messages.error(request, connection.status_message)
    return redirect("connection_detail", pk=pk)


@workspace_required
@require_POST
def connection_reconnect(request: HttpRequest, pk: int) -> HttpResponse:
    """Start a new OAuth authorization for an existing connection, with the same scopes."""
    connection = _connection(request, pk)
    app = oauth.oauth_app(_redirect_uri(request))
    if connection.kind != Connection.Kind.OAUTH2 or not app.configured:
        return redirect("connection_detail", pk=pk)
    scopes = connection.scopes or list(selectors.scope_presets()["full"])
    return _oauth_begin(request, app, connection.name, scopes, reconnect=connection)


def _check_can_manage(request: HttpRequest, connection: Connection) -> None:
    """Only the workspace owner or whoever added the connection may remove or wipe it."""
    if not (request.membership.is_owner or connection.created_by_id == request.user.pk):
        raise PermissionDenied(
            "Only the workspace owner or the person who added this connection can do that."
        )


@workspace_required
@require_POST
def connection_sandbox_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """Put a sandbox connection's demo store back as it was seeded."""
    connection = _connection(request, pk)
    _check_can_manage(request, connection)
    if (
        connection.kind == Connection.Kind.SANDBOX
        and connection.status != Connection.Status.REVOKED
    ):
        services.connection_sandbox_reset(connection=connection, user=request.user)
        messages.success(request, "The sandbox has its demo data back; your changes are gone.")
    return redirect("connection_detail", pk=pk)


@workspace_required
@require_POST
def connection_disconnect(request: HttpRequest, pk: int) -> HttpResponse:
    connection = _connection(request, pk)
    _check_can_manage(request, connection)
    if connection.status != Connection.Status.REVOKED:
        services.connection_disconnect(connection=connection, user=request.user)
        messages.success(request, f"{connection.name} is disconnected; its secrets are deleted.")
    return redirect("connection_detail", pk=pk)
