"""Workspaces: list and create, switch, rename, add and remove members."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from builder.forms import AddMemberForm, WorkspaceForm
from builder.models import Membership
from builder.selectors import memberships_of_user, workspace_memberships
from builder.services.accounts import (
    membership_add,
    membership_remove,
    workspace_create,
    workspace_rename,
)
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
        workspace = workspace_create(owner=request.user, name=form.cleaned_data["name"])
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
        target = "dashboard"
    return redirect(target)


@workspace_required
def workspace_settings(request: HttpRequest) -> HttpResponse:
    """Show the current workspace's name and members; owners can rename and manage members."""
    workspace = request.workspace
    rename_form = WorkspaceForm(instance=workspace)
    add_form = AddMemberForm()
    if request.method == "POST":
        if not request.membership.is_owner:
            messages.error(request, "Only the workspace owner can change its settings.")
            return redirect("workspace_settings")
        action = request.POST.get("action")
        if action == "rename":
            rename_form = WorkspaceForm(request.POST, instance=workspace)
            if rename_form.is_valid():
                workspace_rename(workspace=workspace, name=rename_form.cleaned_data["name"])
                messages.success(request, "Workspace renamed.")
                return redirect("workspace_settings")
        elif action == "add_member":
            add_form = AddMemberForm(request.POST)
            if add_form.is_valid():
                try:
                    membership = membership_add(
                        workspace=workspace, email=add_form.cleaned_data["email"]
                    )
                except ValidationError as error:
                    add_form.add_error(None, error)
                else:
                    messages.success(request, f"{membership.user.email} can now use {workspace}.")
                    return redirect("workspace_settings")
    return render(
        request,
        "workspaces/settings.html",
        {
            "memberships": workspace_memberships(workspace),
            "rename_form": rename_form,
            "add_form": add_form,
        },
    )


@owner_required
@require_POST
def member_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Remove a member from the current workspace (404 for other workspaces' members)."""
    membership = get_for_workspace_or_404(
        Membership.objects.select_related("user"), request.workspace, pk=membership_id
    )
    try:
        membership_remove(membership=membership)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{membership.user.email} was removed from {request.workspace}.")
    return redirect("workspace_settings")
