"""Run an action's request(s): one rendered request, or a composite handler's several.

Above `requests` (which builds one request) and `composites` (handlers built from requests), so
neither needs the other's module to load first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .composites import COMPOSITES
from .registry import Action
from .requests import Send, render, resolve, validate_params


def execute(action: Action | str, params: Mapping[str, Any], send: Send) -> Any:
    """Run the action: validate, send its request(s) through `send`, return the action's data.

    Plain actions return Klaviyo's parsed answer (so later steps map `data.data.id`);
    composite actions return what their handler documents in the output schema. Raise
    InvalidInput (nothing sent) when `params` do not fit the input schema.
    """
    action = resolve(action)
    validate_params(action, params)
    if action.composite:
        return COMPOSITES[action.composite](dict(params), send)
    return send(render(action, params))
