"""Models of the builder app, one module per concept."""

from .accounts import Membership, User, Workspace
from .api import ApiToken
from .health import WorkerHeartbeat
from .invitations import Invitation
from .runs import Run, RunSearchTerm, StepAttempt, StepRun
from .scoping import WorkspaceScopedModel
from .triggers import TriggerEvent, TriggerState
from .workflows import Workflow, WorkflowVersion

__all__ = [
    "ApiToken",
    "Invitation",
    "Membership",
    "Run",
    "RunSearchTerm",
    "StepAttempt",
    "StepRun",
    "TriggerEvent",
    "TriggerState",
    "User",
    "WorkerHeartbeat",
    "Workflow",
    "WorkflowVersion",
    "Workspace",
    "WorkspaceScopedModel",
]
