"""OAuth pages and endpoints of the sandbox: authorize (consent page), token, revoke."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.klaviyo_sandbox.ids import digest
from integrations.klaviyo_sandbox.models import SandboxAccount
from integrations.klaviyo_sandbox.oauth import server as oauth
from integrations.klaviyo_sandbox.services import sandbox_account_create

PASSED_ON = ("response_type", "client_id", "redirect_uri", "scope", "state")
PASSED_ON += ("code_challenge", "code_challenge_method")


class GrantForm(forms.Form):
    """Which sandbox account the user lets the app into."""

    account = forms.ChoiceField(
        choices=[
            ("new", "A new sandbox account with demo data"),
            ("existing", "An existing sandbox account"),
        ],
        initial="new",
        widget=forms.RadioSelect,
    )
    private_key = forms.CharField(
        required=False,
        label="Private API key of the sandbox account",
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "placeholder": "pk_sandbox_…"}),
        help_text="Printed by `manage.py sandbox_seed`, or by whoever created the account.",
    )

    def clean(self) -> dict[str, Any]:
        """Resolve the existing account from its private key (like logging into Klaviyo).

        A key typed in means "this account", even if the radio button was left on "new".
        """
        data = super().clean()
        if (data.get("private_key") or "").strip():
            data["account"] = "existing"
        if data.get("account") == "existing":
            key = (data.get("private_key") or "").strip()
            found = SandboxAccount.objects.filter(api_key_hash=digest(key)).first() if key else None
            if found is None:
                self.add_error("private_key", "No sandbox account has this private key.")
            data["existing"] = found
        return data


def _redirect(uri: str, **params: str) -> HttpResponseRedirect:
    parts = urlsplit(uri)
    query = "&".join(
        p for p in (parts.query, urlencode({k: v for k, v in params.items() if v})) if p
    )
    response = HttpResponseRedirect(urlunsplit(parts._replace(query=query)))
    response["Cache-Control"] = "no-store"
    return response


def _error_page(request: HttpRequest, message: str) -> HttpResponse:
    context = {"error": message}
    return render(request, "klaviyo_sandbox/authorize.html", context, status=400)


@never_cache
@login_required  # like Klaviyo's consent page: only someone signed in may grant access
def authorize(request: HttpRequest) -> HttpResponse:
    """Show the consent page (GET) and answer Approve / Deny (POST) with a redirect."""
    source = request.POST if request.method == "POST" else request.GET
    params = {name: source.get(name, "") for name in PASSED_ON}
    client = oauth.oauth_client_get(params["client_id"])
    # Never redirect to an unverified URI: a bad client or redirect_uri is shown, not followed.
    if client is None:
        return _error_page(
            request, "Unknown client_id: this app is not registered with the sandbox."
        )
    if not client.allows_redirect(params["redirect_uri"]):
        return _error_page(request, "The redirect_uri is not registered for this app.")
    back = params["redirect_uri"]
    state = params["state"]
    if params["response_type"] != "code":
        return _redirect(back, error="unsupported_response_type", state=state)
    if params["code_challenge_method"] != "S256" or not params["code_challenge"]:
        description = "PKCE with code_challenge_method=S256 is required."
        return _redirect(back, error="invalid_request", error_description=description, state=state)
    try:
        oauth.check_pkce("code_challenge", params["code_challenge"])
        scopes = oauth.parse_scopes(params["scope"])
    except oauth.OAuthError as exc:
        return _redirect(back, error=exc.error, error_description=exc.description, state=state)
    form = GrantForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if request.POST.get("decision") != "approve":
            return _redirect(back, error="access_denied", state=state)
        if form.is_valid():
            account = form.cleaned_data.get("existing")
            if account is None:
                try:
                    account, _ = sandbox_account_create(
                        name=f"{client.name} sandbox", created_by_id=request.user.pk
                    )
                except ValidationError as error:
                    form.add_error(None, error)
            if account is not None:
                code = oauth.grant_create(
                    client=client,
                    account=account,
                    redirect_uri=back,
                    scopes=scopes,
                    code_challenge=params["code_challenge"],
                )
                return _redirect(back, code=code, state=state)
    context = {"client": client, "scopes": scopes, "params": params, "form": form}
    return render(
        request, "klaviyo_sandbox/authorize.html", context, status=400 if form.errors else 200
    )


def _client_credentials(request: HttpRequest) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() == "basic" and encoded:
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise oauth.OAuthError("invalid_client", "Malformed Basic credentials.", 401) from exc
        # RFC 6749 section 2.3.1: both parts are form-urlencoded before base64.
        return unquote_plus(client_id), unquote_plus(secret)
    return request.POST.get("client_id", ""), request.POST.get("client_secret", "")


def _oauth_json(document: dict[str, Any], status: int = 200) -> JsonResponse:
    response = JsonResponse(document, status=status)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="klaviyo-sandbox"'
    return response


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> JsonResponse:
    """Exchange a code or a refresh token for an access token (RFC 6749 section 4.1.3, 6)."""
    try:
        client = oauth.oauth_client_authenticate(*_client_credentials(request))
        grant_type = request.POST.get("grant_type", "")
        if grant_type == "authorization_code":
            answer = oauth.token_from_code(
                client=client,
                code=request.POST.get("code", ""),
                redirect_uri=request.POST.get("redirect_uri", ""),
                code_verifier=request.POST.get("code_verifier", ""),
            )
        elif grant_type == "refresh_token":
            answer = oauth.token_from_refresh(
                client=client, refresh_token=request.POST.get("refresh_token", "")
            )
        else:
            raise oauth.OAuthError(
                "unsupported_grant_type", f"Unsupported grant_type {grant_type!r}."
            )
    except oauth.OAuthError as exc:
        return _oauth_json(exc.document(), exc.status)
    return _oauth_json(answer)


@csrf_exempt
@require_POST
def revoke(request: HttpRequest) -> JsonResponse:
    """Revoke an access or refresh token (RFC 7009); 200 even for unknown tokens."""
    try:
        client = oauth.oauth_client_authenticate(*_client_credentials(request))
        value = request.POST.get("token", "")
        if not value:
            raise oauth.OAuthError("invalid_request", "token is required.")
        oauth.token_revoke(client=client, token=value, hint=request.POST.get("token_type_hint"))
    except oauth.OAuthError as exc:
        return _oauth_json(exc.document(), exc.status)
    return _oauth_json({})
