"""The OAuth round trip: remember the flow in the session, send the user to Klaviyo, come back."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_safe

from builder.workspaces import get_for_workspace_or_404, workspace_required
from integrations import services
from integrations.auth import oauth
from integrations.klaviyo.errors import OAUTH_PLAIN_ERRORS, KlaviyoError
from integrations.models import Connection

OAUTH_SESSION_KEY = "klaviyo_oauth"


def redirect_uri(request: HttpRequest) -> str:
    """Return the callback URL Klaviyo sends the user back to."""
    return request.build_absolute_uri(reverse("connection_oauth_callback"))


def oauth_begin(
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


@require_safe
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
        reconnect = get_for_workspace_or_404(
            Connection, request.workspace, pk=pending["connection_id"]
        )
    if request.GET.get("error"):
        code = request.GET["error"]
        detail = request.GET.get("error_description") or code
        text = OAUTH_PLAIN_ERRORS.get(code) or f"Klaviyo did not authorize the connection: {detail}"
        messages.error(
            request, text if code == "access_denied" else f"{text} Nothing was connected."
        )
        return (
            redirect("connection_detail", pk=reconnect.pk)
            if reconnect
            else redirect(reverse("connection_add") + "?kind=oauth2")
        )
    app = oauth.oauth_app(redirect_uri(request))
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
    except KlaviyoError as error:
        messages.error(request, f"Connecting with OAuth failed: {error}")
        return redirect(reverse("connection_add") + "?kind=oauth2")
    messages.success(request, f"Connected to {connection.account_name} with OAuth.")
    return redirect("connection_detail", pk=connection.pk)
