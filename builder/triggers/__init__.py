"""Triggers on the Django side: arming a workflow's trigger when it is enabled, and turning what
comes in (a schedule's fire, a webhook delivery, a Klaviyo poll) into queued runs.

The trigger's settings and data schema are read by `builder/engine/triggers.py`; each armable
type has a module here with `arm(state, trigger)` and `disarm(state)` (`kinds.ARMERS`).
"""
