"""Triggers on the Django side: arming a workflow's trigger when it is enabled, and turning what
comes in (a schedule's fire, a webhook delivery, a Klaviyo poll) into queued runs.

The trigger's settings and data schema are read by `builder/engine/triggers.py`. Here: `base`
(what every type shares: runs from items, once each; signatures; the armed state of a URL),
one module per armable type (`schedule`, `klaviyo` for Klaviyo's webhooks, `polling`), each
with its `arm(state, trigger)` and `disarm(state)`, `services` (enable/disable, the beat's tick,
the API's view of a trigger) and `choices` (the editor's pickers, read from Klaviyo).
"""
