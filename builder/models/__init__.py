"""Models of the builder app, one module per concept."""

from .accounts import Membership, User, Workspace
from .health import WorkerHeartbeat
from .scoping import WorkspaceScopedModel

__all__ = ["Membership", "User", "Workspace", "WorkerHeartbeat", "WorkspaceScopedModel"]
