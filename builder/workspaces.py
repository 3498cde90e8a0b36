"""The one mechanism that scopes every request to the current workspace.

- `CurrentWorkspaceMiddleware` sets `request.membership` and `request.workspace` from the session
  (falling back to the user's first workspace); both are None for anonymous users.
- `workspace_required` (views) and `WorkspaceRequiredMixin` (class-based views) demand a logged-in
  member; `owner_required` / `OwnerRequiredMixin` demand the owner role.
- `get_for_workspace_or_404(queryset, request.workspace, ...)` fetches a row only if it belongs to
  the current workspace, so another workspace's objects answer 404, never 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from .models import Membership, Workspace

SESSION_KEY = "workspace_id"


def current_membership(request: HttpRequest) -> Membership | None:
    """Return the user's membership in the workspace chosen in the session, or their first one."""
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=user).select_related("workspace")
    chosen = request.session.get(SESSION_KEY)
    membership = None
    if chosen is not None:
        membership = memberships.filter(workspace_id=chosen).first()
    if membership is None:
        membership = memberships.order_by("created_at", "id").first()
        if membership is not None:
            request.session[SESSION_KEY] = membership.workspace_id
    return membership


def switch_workspace(request: HttpRequest, workspace: Workspace) -> None:
    """Make `workspace` the current one for this session (membership already checked)."""
    request.session[SESSION_KEY] = workspace.pk


class CurrentWorkspaceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = current_membership(request)
        request.workspace = request.membership.workspace if request.membership else None
        return self.get_response(request)


def workspace_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Require a logged-in user with a current workspace; send others to create one."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.workspace is None:
            messages.info(request, "Create a workspace to get started.")
            return redirect("workspace_list")
        return view(request, *args, **kwargs)

    return wrapper


def owner_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Require the owner role in the current workspace (403 for members)."""

    @workspace_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.membership.is_owner:
            raise PermissionDenied("Only the workspace owner can do this.")
        return view(request, *args, **kwargs)

    return wrapper


class WorkspaceRequiredMixin(LoginRequiredMixin):
    """Class-based view version of `workspace_required`."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and request.workspace is None:
            messages.info(request, "Create a workspace to get started.")
            return redirect("workspace_list")
        return super().dispatch(request, *args, **kwargs)


def get_for_workspace_or_404(
    queryset: QuerySet | type[Model], workspace: Workspace, **lookup: Any
) -> Any:
    """Return the object matching `lookup` in `workspace`; 404 when it is elsewhere or absent."""
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    return get_object_or_404(queryset.filter(workspace=workspace), **lookup)


def workspace_context(request: HttpRequest) -> dict[str, Any]:
    """Template context: the current workspace and membership, and the switcher's choices."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}

    from .selectors import memberships_of_user

    return {
        "current_workspace": membership.workspace,
        "current_membership": membership,
        # A callable: the query runs only when a template shows the switcher.
        "my_memberships": lambda: list(memberships_of_user(request.user)),
    }
