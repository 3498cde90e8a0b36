"""Models of the builder app, one module per concept."""

from .accounts import Membership, User, Workspace
from .health import WorkerHeartbeat
from .invitations import Invitation
from .scoping import WorkspaceScopedModel

__all__ = [
    "Invitation",
    "Membership",
    "User",
    "Workspace",
    "WorkerHeartbeat",
    "WorkspaceScopedModel",
]
