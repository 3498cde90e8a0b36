"""What the editor's trigger card shows: the type, the settings form's values, the next runs
of a schedule, a webhook's URL, and whether the published trigger is armed and what came in.

Built for templates/editor/_trigger_card.html; what its forms post is read by
`builder.forms.triggers.read_trigger_settings`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from builder.engine.definition import WorkflowProblem
from builder.engine.triggers import (
    KLAVIYO_POLL,
    KLAVIYO_WEBHOOK,
    MANUAL,
    SCHEDULE,
    TITLES,
    TRIGGER_TYPES,
    WEBHOOK,
    Trigger,
)
from builder.forms.triggers import NextRun, SettingsForm, next_runs, settings_form, time_zones
from builder.models import TriggerEvent, TriggerState, Workflow
from builder.triggers.klaviyo import NO_WEBHOOK_ACCESS
from builder.triggers.services import published_trigger, recent_events, state_of, webhook_url

#: Words in a trigger's last error that say the Klaviyo account may not use webhooks (Klaviyo
#: answers 403 to webhook calls of accounts or keys without the feature or the webhooks scope).
_NO_WEBHOOKS = ("cannot use", "access", "permission", "not allowed", "not available", "403")
#: Problems of these fields leave a schedule whose times would be a guess.
_SCHEDULE_FIELDS = ("/trigger", "/trigger/cron", "/trigger/every_minutes", "/trigger/timezone")


def lacks_webhook_access(text: str) -> bool:
    """Tell whether an error message says the account cannot use Klaviyo webhooks."""
    if NO_WEBHOOK_ACCESS[:40] in text:  # what arming says (builder/triggers/klaviyo.py)
        return True
    lowered = text.lower()
    return "webhook" in lowered and any(word in lowered for word in _NO_WEBHOOKS)


@dataclass
class TriggerCard:
    """What the trigger card shows: the type, its settings form, and the armed state."""

    type: str
    title: str
    types: list[tuple[str, str]]
    form: SettingsForm
    may_edit: bool = True
    connections: list[str] = field(default_factory=list)
    zones: list[str] = field(default_factory=list)
    next_runs: list[NextRun] = field(default_factory=list)
    url: str = ""
    has_secret: bool = False
    #: A webhook secret just made by Regenerate URL: shown in this answer only.
    new_secret: str | None = None
    state: TriggerState | None = None
    events: list[TriggerEvent] = field(default_factory=list)
    #: Set when the next poll or fire is planned (`TriggerState.due_at`, when there is one).
    due_at: datetime | None = None
    lacks_webhook_access: bool = False
    #: Why what the card shows is not what runs (other settings published).
    published_note: str = ""
    #: What arms a trigger that is not armed: publishing and enabling, or enabling.
    arm_hint: str = ""
    #: Whether Regenerate URL can work: it acts on the published trigger, once there is one.

    @property
    def armable(self) -> bool:
        return self.type != MANUAL

    @property
    def unknown_connection(self) -> bool:
        return bool(self.form.connection) and self.form.connection not in self.connections

    @property
    def error_is_current(self) -> bool:
        """Whether the state's last error still holds: nothing was accepted after it (an
        accepted delivery, poll or fire clears it)."""
        if not getattr(self.state, "last_error", ""):
            return False
        return not (self.events and self.events[0].accepted)

    @property
    def can_look_up(self) -> bool:
        """Whether the pickers may load the account's choices (a connection of the workspace)."""
        return self.may_edit and bool(self.form.connection) and not self.unknown_connection


def trigger_card(
    workflow: Workflow,
    trigger: Trigger,
    *,
    problems: list[WorkflowProblem],
    connections: list[str],
    new_secret: str | None = None,
    may_edit: bool = True,
) -> TriggerCard:
    """Return the card of the draft's `trigger` (as read, with its `problems`), with the
    workflow's armed state; `connections` are the names of the workspace's connections."""
    card = TriggerCard(
        type=trigger.type,
        title=trigger.title,
        types=[(kind, TITLES[kind]) for kind in TRIGGER_TYPES],
        form=settings_form(trigger),
        may_edit=may_edit,
        new_secret=new_secret,
    )
    if trigger.type in (KLAVIYO_WEBHOOK, KLAVIYO_POLL):
        card.connections = connections
    if trigger.type == SCHEDULE:
        card.zones = time_zones()
        broken = any(p.severity == "error" and p.field in _SCHEDULE_FIELDS for p in problems)
        card.next_runs = [] if broken else next_runs(trigger, timezone.now())
    if trigger.type == MANUAL:
        return card
    if trigger.type == WEBHOOK:
        # The URL exists from the start (its token), so it can be shared before enabling.
        card.state = state_of(workflow)
        card.url = webhook_url(card.state)
        card.has_secret = bool((card.state.secret or {}).get("signing"))
    else:
        card.state = TriggerState.objects.filter(workflow=workflow).first()
    card.events = recent_events(workflow, limit=10)
    card.due_at = getattr(card.state, "due_at", None)
    last_error = getattr(card.state, "last_error", "") or ""
    card.lacks_webhook_access = trigger.type == KLAVIYO_WEBHOOK and lacks_webhook_access(last_error)
    published = published_trigger(workflow)
    if published is None:
        card.arm_hint = "Publish the workflow, then enable it, to arm this trigger."
        return card
    if not workflow.enabled:
        card.arm_hint = "Enable the workflow to arm this trigger."
    if published.type != trigger.type:
        card.published_note = (
            f"The published version still starts with a {published.title} trigger; publish "
            "to use this one."
        )
    elif published.to_document() != trigger.to_document():
        card.published_note = (
            "These settings differ from the published version's: publish to use them."
        )
    return card
