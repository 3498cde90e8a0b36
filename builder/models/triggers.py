"""What an armed trigger keeps between events: its URL token and secret, its Klaviyo webhook, its
poll cursor, and a log of what came in (deliveries, polled items, schedule fires).

The trigger's settings are in the workflow's published version (the workflow format); this is
its state, one row per workflow, written when the workflow is enabled (armed) and as events come.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone

from integrations.crypto import EncryptedJSONField

from .runs import Run
from .workflows import Workflow


def new_token() -> str:
    """An unguessable part of a webhook URL (256 bits)."""
    return secrets.token_urlsafe(32)


class TriggerState(models.Model):
    """The armed state of a workflow's trigger."""

    workflow = models.OneToOneField(Workflow, on_delete=models.CASCADE, related_name="trigger")
    #: The trigger type it was armed as (the published version's), "" before the first arming.
    type = models.CharField(max_length=20, blank=True)
    armed = models.BooleanField(default=False)
    armed_at = models.DateTimeField(null=True, blank=True)
    #: The webhook URL's last part (inbound and Klaviyo webhooks); regenerated on request.
    token = models.CharField(max_length=64, unique=True, default=new_token)
    #: {"signing": "<hex>"} for an inbound webhook; {"klaviyo": "<secret>"} for a Klaviyo one.
    secret = EncryptedJSONField(default=dict, blank=True)
    #: The id Klaviyo gave the webhook registered for this workflow.
    external_id = models.CharField(max_length=100, blank=True)
    #: Where polling goes on from, e.g. {"after": "2026-12-01T10:00:00+00:00"}.
    cursor = models.JSONField(default=dict, blank=True)
    #: When a schedule fires or a poll runs next (the beat's `triggers_due` takes what is due).
    due_at = models.DateTimeField(null=True, blank=True)
    #: The last fire, poll or delivery, and what it found or why it failed.
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_found = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["due_at"], name="trigger_due", condition=models.Q(armed=True))
        ]

    def __str__(self) -> str:
        return (
            f"{self.type or 'trigger'} of {self.workflow_id} ({'armed' if self.armed else 'off'})"
        )


class TriggerEvent(models.Model):
    """One thing that came in: a delivery (accepted or refused, and why), a polled item, a fire.

    `external_id` makes redeliveries harmless: an item seen before is not run again.
    """

    class Kind(models.TextChoices):
        DELIVERY = "delivery", "Delivery"
        ITEM = "item", "Item"
        FIRE = "fire", "Schedule fire"
        POLL = "poll", "Poll"

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="trigger_events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    received_at = models.DateTimeField(default=timezone.now)
    accepted = models.BooleanField(default=True)
    #: Why it was refused, or what it did ("3 items, 1 seen before").
    detail = models.CharField(max_length=500, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["workflow", "-received_at"], name="trigger_event_recent")]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "external_id"],
                condition=~models.Q(external_id=""),
                name="trigger_event_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {'accepted' if self.accepted else 'refused'} for {self.workflow_id}"
