"""Built-in steps beside the 225 Klaviyo actions: wait, stop the run, compose values.

Each has input and output schemas in the same shape as a catalog action's (the output is the
`{successful, error, data}` envelope), so the validator, the editor and the run pages treat every
step alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The longest a delay step may wait (Klaviyo flows allow similar horizons).
MAX_DELAY_SECONDS = 30 * 24 * 3600


def envelope(data: dict[str, Any]) -> dict[str, Any]:
    """Return an output schema `{successful, error, data}` around `data`'s schema."""
    return {
        "type": "object",
        "properties": {
            "successful": {"type": "boolean"},
            "error": {"type": ["string", "null"]},
            "data": data,
        },
        "required": ["successful", "error", "data"],
    }


@dataclass(frozen=True)
class Builtin:
    key: str
    title: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    side_effect: str = "read"
    category: str = "Built-in"


DELAY = Builtin(
    key="builtin.delay",
    title="Delay",
    description="Wait a number of seconds, or until a moment, before the next step. The run "
    "waits without holding a worker.",
    input_schema={
        "type": "object",
        "properties": {
            "seconds": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_DELAY_SECONDS,
                "description": "How long to wait.",
                "examples": [300],
            },
            "until": {
                "type": "string",
                "format": "date-time",
                "description": "Wait until this moment (ISO 8601; without an offset, UTC).",
                "examples": ["2026-12-24T09:00:00Z"],
            },
        },
        "additionalProperties": False,
        "anyOf": [{"required": ["seconds"]}, {"required": ["until"]}],
    },
    output_schema=envelope(
        {
            "type": "object",
            "properties": {
                "waited_seconds": {"type": "number"},
                "until": {"type": "string", "format": "date-time"},
            },
        }
    ),
)

STOP_IF = Builtin(
    key="builtin.stop_if",
    title="Stop if",
    description="End the run here, as succeeded or failed with a message, when a condition holds.",
    input_schema={
        "type": "object",
        "properties": {
            "condition": {
                "type": "object",
                # The editor shows a condition builder here (builder/forms/conditions.py).
                "x-widget": "condition",
                "description": "When this holds, the run stops: an all / any group of "
                "conditions, as in a step's run if.",
                "examples": [
                    {
                        "all": [
                            {
                                "left": "{{ steps.find.data.data | length }}",
                                "op": "equals",
                                "right": 0,
                            }
                        ]
                    }
                ],
            },
            "outcome": {
                "type": "string",
                "enum": ["succeeded", "failed"],
                "default": "succeeded",
                "description": "How the run ends when it stops here.",
            },
            "message": {
                "type": "string",
                "maxLength": 500,
                "description": "Shown on the run, e.g. why nothing more was done.",
                "examples": ["No matching profile"],
            },
        },
        "required": ["condition"],
        "additionalProperties": False,
    },
    output_schema=envelope(
        {"type": "object", "properties": {"stopped": {"type": "boolean"}}, "required": ["stopped"]}
    ),
)

SET = Builtin(
    key="builtin.set",
    title="Set values",
    description="Compose an object from literals and data from earlier steps, for later steps "
    "to map from (`steps.<key>.data.<name>`).",
    input_schema={
        "type": "object",
        "properties": {
            "values": {
                "type": "object",
                "description": "Names and their values; each value may map data from earlier.",
                "examples": [{"greeting": "Hello {{ trigger.first_name }}"}],
            }
        },
        "required": ["values"],
        "additionalProperties": False,
    },
    # The real `data` schema is the values' own: the validator infers it per step.
    output_schema=envelope({"type": "object"}),
)

BUILTINS: dict[str, Builtin] = {step.key: step for step in (DELAY, STOP_IF, SET)}


def is_builtin(action: str) -> bool:
    """Tell whether `action` names a built-in step (`builtin.*`)."""
    return action.startswith("builtin.")
