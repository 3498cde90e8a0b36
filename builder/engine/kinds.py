"""What a step's action is: a built-in step or one of the catalog's Klaviyo actions.

One lookup for the editor (forms, picker, cards) and the services that add steps, so an unknown
action is handled the same way everywhere: as None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from builder.engine.builtins import BUILTINS, is_builtin
from integrations.klaviyo.catalog import UnknownAction, get_action

BUILTIN_CATEGORY = "Built-in steps"


@dataclass(frozen=True)
class StepKind:
    key: str
    title: str
    description: str
    category: str
    #: read, write, destructive, send or consent
    side_effect: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    #: The OAuth scopes a Klaviyo action needs (none for a built-in step).
    scopes: tuple[str, ...] = ()
    builtin: bool = False


def step_kind(action: str) -> StepKind | None:
    """Return what `action` names, or None when it is neither built in nor in the catalog."""
    if is_builtin(action):
        builtin = BUILTINS.get(action)
        if builtin is None:
            return None
        return StepKind(
            key=builtin.key,
            title=builtin.title,
            description=builtin.description,
            category=BUILTIN_CATEGORY,
            side_effect=builtin.side_effect,
            input_schema=builtin.input_schema,
            output_schema=builtin.output_schema,
            builtin=True,
        )
    try:
        found = get_action(action)
    except UnknownAction:
        return None
    return StepKind(
        key=found.key,
        title=found.title,
        description=found.description,
        category=found.category,
        side_effect=found.side_effect,
        input_schema=found.input_schema,
        output_schema=found.output_schema,
        scopes=found.scopes,
    )


def step_title(action: str) -> str:
    """Return a step's action in words ("Get Profiles", "Delay"); unknown ones as written."""
    kind = step_kind(action)
    return kind.title if kind is not None else action
