"""Workspaces: list and create, switch; the settings page and one POST view per change."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timeuntil
from django.views.decorators.http import require_POST, require_safe

from builder.forms import ApiTokenForm, InvitationForm, RetentionForm, WorkspaceForm
from builder.models import ApiToken, Invitation, Membership, Workspace
from builder.selectors import (
    memberships_of_user,
    workspace_api_tokens,
    workspace_invitations,
    workspace_memberships,
)
from builder.services import accounts as account_service
from builder.services import api_tokens as token_service
from builder.services import invitations as invitation_service
from builder.workspaces import (
    get_for_workspace_or_404,
    owner_required,
    switch_workspace,
    workspace_required,
)


@login_required
def workspace_list(request: HttpRequest) -> HttpResponse:
    """List the user's workspaces and create a new one."""
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        workspace = account_service.workspace_create(
            owner=request.user, name=form.cleaned_data["name"]
        )
        switch_workspace(request, workspace)
        messages.success(request, f"Workspace “{workspace}” created; you are now working in it.")
        return redirect("dashboard")
    return render(
        request,
        "workspaces/list.html",
        {"form": form, "memberships": memberships_of_user(request.user)},
    )


@login_required
@require_POST
def workspace_switch(request: HttpRequest, workspace_id: int) -> HttpResponse:
    """Make another of the user's workspaces the current one (404 if not a member)."""
    membership = get_object_or_404(
        Membership.objects.select_related("workspace"), user=request.user, workspace_id=workspace_id
    )
    switch_workspace(request, membership.workspace)
    messages.success(request, f"Switched to {membership.workspace}.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("dashboard")
    # A URL, never a view name: redirect("🙂") would try to reverse it (NoReverseMatch, a 500).
    return HttpResponseRedirect(target)


NEW_INVITATION = "workspace_new_invitation"  # session key: the link shown once after sending
NEW_TOKEN = "workspace_new_api_token"  # noqa: S105 - a session key: the token shown once


def _settings_page(
    request: HttpRequest,
    *,
    rename_form: WorkspaceForm | None = None,
    retention_form: RetentionForm | None = None,
    invite_form: InvitationForm | None = None,
    token_form: ApiTokenForm | None = None,
) -> HttpResponse:
    """Render the settings page; the POST views pass their form back when it has errors."""
    workspace = request.workspace
    is_owner = request.membership.is_owner
    now = timezone.now()
    return render(
        request,
        "workspaces/settings.html",
        {
            "memberships": workspace_memberships(workspace),
            "invitations": workspace_invitations(workspace) if is_owner else [],
            "rename_form": rename_form or WorkspaceForm(instance=workspace),
            "retention_form": retention_form or RetentionForm(instance=workspace),
            "invite_form": invite_form or InvitationForm(),
            "new_invitation": request.session.pop(NEW_INVITATION, None) if is_owner else None,
            "invitation_lifetime": timeuntil(now + timedelta(seconds=settings.INVITATION_TTL), now),
            "api_tokens": workspace_api_tokens(workspace) if is_owner else [],
            "token_form": token_form or ApiTokenForm(),
            "new_token": request.session.pop(NEW_TOKEN, None) if is_owner else None,
        },
    )


@workspace_required
@require_safe
def workspace_settings(request: HttpRequest) -> HttpResponse:
    """Show the current workspace's name and members; owners also see pending invitations."""
    return _settings_page(request)


@owner_required
@require_POST
def workspace_rename(request: HttpRequest) -> HttpResponse:
    """Rename the current workspace; a bad name re-renders the settings page with the error."""
    # A copy: a ModelForm writes what it was given into its instance, even when it is invalid.
    form = WorkspaceForm(request.POST, instance=Workspace.objects.get(pk=request.workspace.pk))
    if not form.is_valid():
        return _settings_page(request, rename_form=form)
    account_service.workspace_rename(workspace=request.workspace, name=form.cleaned_data["name"])
    messages.success(request, "Workspace renamed.")
    return redirect("workspace_settings")


@owner_required
@require_POST
def workspace_retention(request: HttpRequest) -> HttpResponse:
    """Set how many days the workspace keeps finished runs."""
    form = RetentionForm(request.POST, instance=Workspace.objects.get(pk=request.workspace.pk))
    if not form.is_valid():
        return _settings_page(request, retention_form=form)
    days = form.cleaned_data["run_retention_days"]
    account_service.workspace_retention_set(workspace=request.workspace, days=days)
    messages.success(request, f"Runs are now kept for {days} day{'s' * (days != 1)}.")
    return redirect("workspace_settings")


@owner_required
@require_POST
def invitation_create(request: HttpRequest) -> HttpResponse:
    """Invite an email address; the owner sees its link once, and the address gets it by email.

    The answer is the same whether or not the address has an account here (only an address that
    is a member already gets its own message, and only owners see this page).
    """
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, invite_form=form)
    try:
        invitation, token = invitation_service.invitation_create(
            workspace=request.workspace,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            invited_by=request.user,
        )
    except ValidationError as error:
        form.add_error(None, error)
        return _settings_page(request, invite_form=form)
    link = request.build_absolute_uri(reverse("invitation_detail", args=[token]))
    if invitation_service.invitation_send(invitation=invitation, link=link):
        messages.success(request, f"Invitation emailed to {invitation.email}.")
    else:
        messages.warning(
            request,
            f"The invitation to {invitation.email} could not be emailed; send them the link.",
        )
    request.session[NEW_INVITATION] = {"email": invitation.email, "link": link}
    return redirect("workspace_settings")


@owner_required
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """Withdraw a pending invitation (404 for other workspaces' invitations)."""
    invitation = get_for_workspace_or_404(Invitation, request.workspace, pk=invitation_id)
    try:
        invitation_service.invitation_revoke(invitation=invitation)
    except ValidationError:
        messages.info(request, f"The invitation to {invitation.email} was no longer pending.")
    else:
        messages.success(request, f"The invitation to {invitation.email} was revoked.")
    return redirect("workspace_settings")


@owner_required
@require_POST
def member_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Remove a member from the current workspace (404 for other workspaces' members)."""
    membership = get_for_workspace_or_404(
        Membership.objects.select_related("user"), request.workspace, pk=membership_id
    )
    try:
        account_service.membership_remove(membership=membership)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{membership.user.email} was removed from {request.workspace}.")
    return redirect("workspace_settings")


@owner_required
@require_POST
def api_token_create(request: HttpRequest) -> HttpResponse:
    """Make a workspace API token; its secret is shown once on the settings page."""
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, token_form=form)
    token, secret = token_service.api_token_create(
        workspace=request.workspace, name=form.cleaned_data["name"], user=request.user
    )
    request.session[NEW_TOKEN] = {"name": token.name, "secret": secret}
    messages.success(request, f"API token “{token.name}” created; copy it now.")
    return redirect(reverse("workspace_settings") + "#api-tokens")


@owner_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Stop an API token from working (404 for other workspaces' tokens)."""
    token = get_for_workspace_or_404(ApiToken, request.workspace, pk=token_id)
    token_service.api_token_revoke(token=token)
    messages.success(request, f"API token “{token.name}” revoked; it no longer works.")
    return redirect(reverse("workspace_settings") + "#api-tokens")
