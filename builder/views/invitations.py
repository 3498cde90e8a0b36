"""The invitee's side of an invitation: the link's page, Accept and Decline.

The link's token is the only key. Logged-out visitors learn nothing from it (they are asked to log
in or sign up first), and every link that cannot be answered any more, or never could, gets the
same "no longer valid" page.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from builder.models import Invitation
from builder.selectors import invitation_for_token
from builder.services import invitations as services
from builder.workspaces import switch_workspace


def _no_longer_valid(request: HttpRequest) -> HttpResponse:
    # 410 for every reason (unknown, expired, revoked, answered): one answer, nothing to tell apart.
    return render(request, "invitations/invalid.html", status=410)


def _page(
    request: HttpRequest, invitation: Invitation, token: str, status: int = 200
) -> HttpResponse:
    context = {"invitation": invitation, "token": token, "for_you": invitation.is_for(request.user)}
    return render(request, "invitations/detail.html", context, status=status)


@require_safe
def invitation_detail(request: HttpRequest, token: str) -> HttpResponse:
    """Show the invitation to the invited address: workspace, inviter, Accept and Decline.

    Someone logged in with another address is told which address it is for, and nothing else.
    """
    if not request.user.is_authenticated:
        return render(request, "invitations/log_in_first.html", {"next": request.path})
    invitation = invitation_for_token(token)
    if invitation is None or not invitation.is_pending:
        return _no_longer_valid(request)
    return _page(request, invitation, token)


def _refused(
    request: HttpRequest, invitation: Invitation, token: str, error: ValidationError
) -> HttpResponse:
    if error.code == "wrong_email":
        return _page(request, invitation, token, status=403)
    return _no_longer_valid(request)


@require_POST
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Join the workspace (as the invited address only) and switch to it."""
    if not request.user.is_authenticated:  # e.g. logged out in another tab meanwhile
        return redirect("invitation_detail", token=token)
    invitation = invitation_for_token(token)
    if invitation is None:
        return _no_longer_valid(request)
    try:
        membership = services.invitation_accept(invitation=invitation, user=request.user)
    except ValidationError as error:
        return _refused(request, invitation, token, error)
    switch_workspace(request, membership.workspace)
    messages.success(request, f"You joined {membership.workspace}; you are now working in it.")
    return redirect("dashboard")


@require_POST
def invitation_decline(request: HttpRequest, token: str) -> HttpResponse:
    """Turn the invitation down; its link stops working."""
    if not request.user.is_authenticated:
        return redirect("invitation_detail", token=token)
    invitation = invitation_for_token(token)
    if invitation is None:
        return _no_longer_valid(request)
    try:
        services.invitation_decline(invitation=invitation, user=request.user)
    except ValidationError as error:
        return _refused(request, invitation, token, error)
    messages.info(request, f"You declined the invitation to {invitation.workspace}.")
    return redirect("dashboard")
