"""The condition builder's form: an all / any group of rows (left value, operator, right value),
or the group as JSON when it nests deeper than the builder shows (docs/mapping.md).

Used by a step's run if and by the Stop if step's condition.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from builder.engine.conditions import OPERATORS
from builder.strictjson import JsonRefused, loads

OPERATOR_CHOICES = [(name, op.holds) for name, op in OPERATORS.items()]


@dataclass(frozen=True)
class ConditionError:
    pointer: str
    message: str


def posted(data: Mapping[str, Any], name: str) -> str:
    """Return the posted text of `name` ("" when absent)."""
    value = data.get(name, "")
    return value if isinstance(value, str) else str(value)


# --- conditions ----------------------------------------------------------------------------------


@dataclass
class ConditionRow:
    left: str = ""
    op: str = "equals"
    right: str = ""


@dataclass
class ConditionForm:
    """A condition group as the builder shows it: all / any of rows; or JSON when nested."""

    mode: str = ""  # "" (no condition), "all" or "any"
    rows: list[ConditionRow] = field(default_factory=list)
    json: str = ""


def _right_text(value: Any) -> str:
    """Show a right-hand value so reading it back gives the same value and type."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value  # plain text shows as it is
        return json.dumps(value)  # "123" stays text: it shows with its quotes
    return json.dumps(value)


def _right_value(text: str) -> Any:
    stripped = text.strip()
    if not stripped or "{{" in stripped:
        return text
    try:
        return json.loads(stripped)
    except ValueError:
        return text


def condition_form(group: Any) -> ConditionForm:
    if not isinstance(group, dict) or not group:
        return ConditionForm()
    mode = "all" if "all" in group else "any" if "any" in group else ""
    children = group.get(mode) if mode else None
    simple = (
        mode
        and len(group) == 1
        and isinstance(children, list)
        and all(
            isinstance(c, dict)
            and "op" in c
            and set(c) <= {"left", "op", "right"}
            and isinstance(c.get("left", ""), str)
            for c in children
        )
    )
    if not simple:
        return ConditionForm(mode="json", json=json.dumps(group, indent=2, ensure_ascii=False))
    rows = [
        ConditionRow(
            left=c.get("left", ""),
            op=str(c.get("op", "")),
            right=_right_text(c["right"]) if "right" in c else "",
        )
        for c in children
    ]
    return ConditionForm(mode=mode, rows=rows)


def read_condition(
    data: Mapping[str, Any], prefix: str, pointer: str
) -> tuple[dict[str, Any] | None, list[ConditionError]]:
    """Return the condition group posted under `prefix` (`s/run_if`), or None for none."""
    mode = posted(data, f"{prefix}/mode")
    if mode == "json":
        text = posted(data, f"{prefix}/~json")
        if not text.strip():
            return None, []
        try:
            value = loads(text)
        except JsonRefused as error:
            return None, [ConditionError(pointer, f"Fix the JSON here: {error}.")]
        return value, []
    if mode not in ("all", "any"):
        return None, []
    indexes = sorted(
        {
            int(key[len(prefix) + 1 :].split("/")[0])
            for key in data
            if key.startswith(prefix + "/")
            and key[len(prefix) + 1 :].split("/")[0].isdigit()
            and len(key[len(prefix) + 1 :].split("/")[0]) < 5
        }
    )
    conditions = []
    for index in indexes:
        left = posted(data, f"{prefix}/{index}/left")
        op = posted(data, f"{prefix}/{index}/op") or "equals"
        if not left.strip():
            continue
        condition: dict[str, Any] = {"left": left, "op": op}
        operator = OPERATORS.get(op)
        if operator is None or operator.takes_right:
            condition["right"] = _right_value(posted(data, f"{prefix}/{index}/right"))
        conditions.append(condition)
    if not conditions:
        return None, []
    return {mode: conditions}, []


def _row(prefix: str, ident: str, pointer: str, index: Any, row: ConditionRow | None) -> str:
    left, op, right = (row.left, row.op, row.right) if row else ("", "", "")
    base = f"{ident}-{index}"
    name = f"{prefix}/{index}"
    options = "".join(
        f'<option value="{key}"{" selected" if key == op else ""}>{escape(words)}</option>'
        for key, words in OPERATOR_CHOICES
    )
    return (
        f'<li class="row condition-row" data-pointer="{escape(pointer)}/{index}">'
        f'<label class="visually-hidden" for="{base}-left">Value</label>'
        f'<input type="text" id="{base}-left" name="{escape(name)}/left" value="{escape(left)}" '
        'placeholder="{{ steps.find.data.data | length }}" autocomplete="off">'
        f'<button type="button" class="btn btn-small btn-insert" data-insert-for="{base}-left">'
        "Insert data</button>"
        f'<label class="visually-hidden" for="{base}-op">Comparison</label>'
        f'<select id="{base}-op" name="{escape(name)}/op">{options}</select>'
        f'<label class="visually-hidden" for="{base}-right">Compared with</label>'
        f'<input type="text" id="{base}-right" name="{escape(name)}/right" value="{escape(right)}" '
        'placeholder="0" autocomplete="off">'
        '<button type="button" class="btn btn-small" data-remove-row>Remove</button></li>'
    )


def render_condition(
    group: Any, *, prefix: str, ident: str, pointer: str, legend: str, always: str = ""
) -> SafeString:
    """Return the condition builder's HTML for `group`, its controls named below `prefix`.

    `always` names the choice of no condition ("Always run"); without it one is needed. Built
    with f-strings, like `builder.forms.schema`: every step card of the editor has one.
    """
    cond = condition_form(group)
    mode = cond.mode or ("" if always else "all")
    verb = ("Only when all", "Only when any") if always else ("When all", "When any")
    choices = [("", always)] if always else []
    choices += [("all", f"{verb[0]} of these hold"), ("any", f"{verb[1]} of these holds")]
    if mode == "json":
        choices.append(("json", "As written (JSON)"))
    select = "".join(
        f'<option value="{key}"{" selected" if key == mode else ""}>{escape(words)}</option>'
        for key, words in choices
    )
    prefix_e, ident_e = escape(prefix), escape(ident)
    if mode == "json":
        body = (
            f'<label for="{ident_e}-json">Condition group (JSON)</label>'
            f'<textarea id="{ident_e}-json" name="{prefix_e}/~json" rows="5" class="json-box">'
            f"{escape(cond.json)}</textarea>"
        )
    else:
        rows_pointer = f"{pointer}/{mode or 'all'}"
        rows = "".join(
            _row(prefix, ident_e, rows_pointer, i, row) for i, row in enumerate(cond.rows)
        )
        rows += _row(prefix, ident_e, rows_pointer, len(cond.rows), None)
        body = (
            f'<div class="condition-rows"{" hidden" if not mode else ""}>'
            f'<ol class="rows" data-next="{len(cond.rows) + 1}">{rows}</ol>'
            f"<template>{_row(prefix, ident_e, rows_pointer, '__i__', None)}</template>"
            '<button type="button" class="btn btn-small" data-add-row>Add condition</button></div>'
        )
    return mark_safe(  # noqa: S308 - every value is escaped above
        f'<fieldset class="field condition" data-pointer="{escape(pointer)}" id="{ident_e}">'
        f"<legend>{escape(legend)}</legend>"
        f'<div class="control"><label class="visually-hidden" for="{ident_e}-mode">When to run'
        f'</label><select id="{ident_e}-mode" name="{prefix_e}/mode" data-condition-mode>'
        f"{select}</select></div>{body}"
        '<p class="field-problem" role="alert" hidden></p></fieldset>'
    )
