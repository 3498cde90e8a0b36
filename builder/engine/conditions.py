"""`run if`: groups of conditions that decide whether a step runs.

    {"all": [
        {"left": "{{ steps.find.data.data | length }}", "op": "greater_than", "right": 0},
        {"any": [
            {"left": "{{ trigger.plan }}", "op": "equals", "right": "gold"},
            {"left": "{{ trigger.vip }}", "op": "is_true"},
        ]},
    ]}

A group has one key, "all" or "any", holding conditions or nested groups (at most MAX_DEPTH
levels). A condition has "left", "op" and, except for exists/not_exists/is_true/is_false,
"right"; both sides are mapping values, resolved with `mapping.resolve`.

Semantics, decided once for the whole product:
- `equals` compares a number with a number or with text holding one numerically ("1" equals 1,
  "01" equals 1); two texts compare as text, case-sensitively ("1.0" does not equal "1");
  true/false only equals true/false; lists and objects compare deeply.
- `greater_than` / `less_than` compare numbers (or numeric texts) and ISO 8601 dates or
  date-times (without an offset they are read as UTC); an empty (null) side is never greater or
  less. Other values cannot be compared and raise ConditionError.
- `contains`: text contains text, a list contains an item (equals semantics), an object contains a
  field name. `starts_with` is for text. Null contains and starts with nothing.
- `exists`: the value resolves and is not null (a missing path never raises); "" exists.
- `is_true` / `is_false`: true/false, or the texts "true"/"false" in any case.
- Evaluation stops at the first condition that settles a group, so a guard such as
  `exists` before a comparison protects it from a missing path.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from .mapping import ResolveError, resolve, to_json, to_text
from .references import Reference, TemplateSyntaxError, parse_template
from .schemas import branches, describe_kinds, kinds, literal_schema, schema_kinds
from .typecheck import Problem, Scope, infer

MAX_DEPTH = 3
GROUP_KEYS = ("all", "any")
CONDITION_KEYS = ("left", "op", "right")

_NUMERIC = re.compile(r"\s*-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?\s*")
_VALUE_WIDTH = 40


class ConditionError(ValueError):
    """A condition that cannot be evaluated, such as comparing text with a number."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class _Incomparable(Exception):
    """Raised by an operator's test when its sides do not fit; evaluate names them."""


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _NUMERIC.fullmatch(value):
        return float(value)
    return None


def _as_moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and len(value) >= 10 and value[:4].isdigit():
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _equals(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) or isinstance(right, int | float):
        left_number, right_number = _as_number(left), _as_number(right)
        if left_number is not None and right_number is not None:
            return left_number == right_number
    return bool(left == right)


def _compare(left: Any, right: Any) -> int | None:
    """Return -1, 0 or 1 for two numbers or two moments, None if a side is null."""
    if left is None or right is None:
        return None
    numbers = _as_number(left), _as_number(right)
    if numbers[0] is not None and numbers[1] is not None:
        return (numbers[0] > numbers[1]) - (numbers[0] < numbers[1])
    moments = _as_moment(left), _as_moment(right)
    if moments[0] is not None and moments[1] is not None:
        return (moments[0] > moments[1]) - (moments[0] < moments[1])
    raise _Incomparable("compares numbers or dates")


def _greater_than(left: Any, right: Any) -> bool:
    return _compare(left, right) == 1


def _less_than(left: Any, right: Any) -> bool:
    return _compare(left, right) == -1


def _contains(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    if isinstance(left, str):
        return to_text(right) in left
    if isinstance(left, list | tuple):
        return any(_equals(item, right) for item in left)
    if isinstance(left, Mapping):
        return to_text(right) in left
    raise _Incomparable("needs text, a list or an object on the left")


def _starts_with(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    if isinstance(left, str):
        return left.startswith(to_text(right))
    raise _Incomparable("needs text on the left")


def _is(flag: bool) -> Callable[[Any, Any], bool]:
    word = "true" if flag else "false"

    def test(left: Any, _right: Any) -> bool:
        return left is flag or (isinstance(left, str) and left.strip().lower() == word)

    return test


@dataclass(frozen=True)
class Operator:
    """One comparison: whether it takes a right side, how to say it, and how to test it."""

    name: str
    takes_right: bool
    holds: str
    fails: str
    test: Callable[[Any, Any], bool]


OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator("equals", True, "equals", "does not equal", _equals),
        Operator("not_equals", True, "does not equal", "equals", lambda a, b: not _equals(a, b)),
        Operator("contains", True, "contains", "does not contain", _contains),
        Operator("starts_with", True, "starts with", "does not start with", _starts_with),
        Operator("greater_than", True, "is greater than", "is not greater than", _greater_than),
        Operator("less_than", True, "is less than", "is not less than", _less_than),
        Operator("exists", False, "exists", "does not exist", lambda a, b: a is not None),
        Operator("not_exists", False, "does not exist", "exists", lambda a, b: a is None),
        Operator("is_true", False, "is true", "is not true", _is(True)),
        Operator("is_false", False, "is false", "is not false", _is(False)),
    )
}
_PRESENCE = ("exists", "not_exists")


# --- evaluation ---------------------------------------------------------------------------------


def _is_group(node: Any) -> bool:
    return isinstance(node, Mapping) and "op" not in node and any(k in node for k in GROUP_KEYS)


def _side_name(raw: Any) -> str:
    """Write one side as the user wrote it: a lone reference without braces, else JSON."""
    if isinstance(raw, str) and "{{" in raw:
        try:
            template = parse_template(raw)
        except TemplateSyntaxError:
            return to_json(raw)
        part = template.parts[0]
        if isinstance(part, Reference) and template.is_single_reference:
            return part.source
    return to_json(raw)


def _short_value(value: Any) -> str:
    text = to_json(value)
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"


def _operator(condition: Mapping) -> Operator | None:
    name = condition.get("op")
    return OPERATORS.get(name) if isinstance(name, str) else None


def _test(condition: Mapping, context: Mapping[str, Any]) -> tuple[bool, Any, Any]:
    """Evaluate one condition; return (outcome, left value, right value)."""
    op = _operator(condition)
    if op is None:
        raise ConditionError(f'unknown operator "{condition.get("op")}"')
    if op.name in _PRESENCE:
        try:
            left = resolve(condition.get("left"), context)
        except ResolveError:
            left = None
        return op.test(left, None), left, None
    left = resolve(condition.get("left"), context)
    right = resolve(condition.get("right"), context) if op.takes_right else None
    try:
        return op.test(left, right), left, right
    except _Incomparable as error:
        described = _side_with_value(condition.get("left"), left)
        if op.takes_right:
            described += f" with {_side_with_value(condition.get('right'), right)}"
        raise ConditionError(f"{op.name} {error}; cannot compare {described}") from None


def _evaluate(node: Mapping, context: Mapping[str, Any]) -> bool:
    if not _is_group(node):
        return _test(node, context)[0]
    if "all" in node:
        return all(_evaluate(child, context) for child in node["all"])
    return any(_evaluate(child, context) for child in node["any"])


def evaluate(group: Mapping | None, context: Mapping[str, Any]) -> bool:
    """Return whether a `run if` group holds in `context`; no group (None) always holds.

    Stop at the first condition that settles each group. Raise ResolveError when a side names
    a missing path (except for exists/not_exists), ConditionError when sides cannot be compared.
    """
    if group is None:
        return True
    return _evaluate(group, context)


# --- describing ---------------------------------------------------------------------------------


def _phrase(node: Any) -> str:
    if not isinstance(node, Mapping):
        return to_json(node)
    if _is_group(node):
        key = "all" if "all" in node else "any"
        joined = f" {'and' if key == 'all' else 'or'} ".join(
            f"({_phrase(child)})" if _is_group(child) else _phrase(child) for child in node[key]
        )
        return joined
    op = _operator(node)
    if op is None:
        return f"{_side_name(node.get('left'))} {node.get('op')} {_side_name(node.get('right'))}"
    text = f"{_side_name(node.get('left'))} {op.holds}"
    return f"{text} {_side_name(node.get('right'))}" if op.takes_right else text


def _side_with_value(raw: Any, value: Any) -> str:
    name = _side_name(raw)
    if isinstance(raw, str) and "{{" in raw:
        return f"{name} ({_short_value(value)})"
    return name


def _explain(node: Mapping, context: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """Evaluate like `evaluate` and return the facts that settled the outcome."""
    if _is_group(node):
        is_all = "all" in node
        passed: list[str] = []
        failed: list[str] = []
        for child in node["all" if is_all else "any"]:
            outcome, facts = _explain(child, context)
            (passed if outcome else failed).extend(facts)
            if outcome != is_all:  # settled: a failure in "all", a success in "any"
                return outcome, facts
        return is_all, passed if is_all else failed
    outcome, left, right = _test(node, context)
    op = OPERATORS[node["op"]]  # _test raised for an unknown one
    if op.name in _PRESENCE:
        fact = (
            f"{_side_name(node.get('left'))} {'exists' if left is not None else 'does not exist'}"
        )
        return outcome, [fact]
    fact = f"{_side_with_value(node.get('left'), left)} {op.holds if outcome else op.fails}"
    if op.takes_right:
        fact += f" {_side_with_value(node.get('right'), right)}"
    return outcome, [fact]


def describe(group: Mapping | None, context: Mapping | None = None) -> str:
    """Say a `run if` group in a sentence; with a run's context, say why the step ran or not.

    Without context: `runs if trigger.plan equals "gold"`. With context: `skipped because
    steps.find.data.data | length (0) is not greater than 0` or `ran because ...`. Never raise:
    a condition that cannot be evaluated is described as such.
    """
    if group is None:
        return "runs always"
    if context is None:
        return f"runs if {_phrase(group)}"
    try:
        outcome, facts = _explain(group, context)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        # ResolveError, ConditionError and TemplateSyntaxError are ValueErrors; the others
        # come from a group that was never validated. History must still get a sentence.
        return f"the condition could not be checked: {error}"
    return (
        f"{'ran' if outcome else 'skipped'} because {' and '.join(facts) or 'the group is empty'}"
    )


# --- validation ---------------------------------------------------------------------------------


@dataclass
class _Side:
    """What validation knows of one side: its schema and, for a literal, the value."""

    schema: dict | None
    literal: bool
    value: Any = None
    name: str = ""


def _did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


class _Validator:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.problems: list[Problem] = []

    def error(self, pointer: str, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(pointer, message, severity))

    def group(self, node: Any, pointer: str, depth: int) -> None:
        if not isinstance(node, Mapping):
            self.error(pointer, 'expected a group such as {"all": [...]} or {"any": [...]}')
            return
        keys = [key for key in GROUP_KEYS if key in node]
        if not keys:
            if depth == 1 and ("op" in node or "left" in node):
                self.error(pointer, 'wrap the condition in a group: {"all": [ ...condition... ]}')
            else:
                unknown = next(iter(node), "")
                self.error(
                    pointer, 'a group needs "all" or "any"' + _did_you_mean(unknown, GROUP_KEYS)
                )
            return
        if len(keys) > 1:
            self.error(pointer, 'a group has "all" or "any", not both; nest one in the other')
            return
        for key in node:
            if key not in GROUP_KEYS:
                self.error(f"{pointer}/{key}", f'unknown key "{key}"; a group has only "{keys[0]}"')
        children = node[keys[0]]
        pointer = f"{pointer}/{keys[0]}"
        if not isinstance(children, list):
            self.error(pointer, "expected a list of conditions")
            return
        if not children:
            self.error(pointer, "this group is empty; add a condition or remove the group")
        for index, child in enumerate(children):
            child_pointer = f"{pointer}/{index}"
            if _is_group(child):
                if depth >= MAX_DEPTH:
                    self.error(
                        child_pointer, f"groups nest at most {MAX_DEPTH} deep; flatten this one"
                    )
                else:
                    self.group(child, child_pointer, depth + 1)
            else:
                self.condition(child, child_pointer)

    def side(self, raw: Any, pointer: str) -> _Side:
        """Check one side's references; return what is known of its value."""
        if not isinstance(raw, str) or "{{" not in raw:
            return _Side(literal_schema(raw), literal=True, value=raw, name=to_json(raw))
        try:
            template = parse_template(raw)
        except TemplateSyntaxError as error:
            self.error(pointer, str(error))
            return _Side(None, literal=False)
        if template.is_literal:
            text = "".join(str(part) for part in template.parts)
            return _Side(literal_schema(text), literal=True, value=text, name=to_json(text))
        clean = True
        schema: dict | None = {"type": "string"}
        for reference in template.references:
            inferred, problems = infer(reference, self.scope)
            for problem in problems:
                self.error(pointer, problem.message, problem.severity)
            clean = clean and not any(p.severity == "error" for p in problems)
            if template.is_single_reference:
                schema = inferred
        return _Side(schema if clean else None, literal=False, name=_side_name(raw))

    def condition(self, node: Any, pointer: str) -> None:
        if not isinstance(node, Mapping):
            self.error(
                pointer, 'expected a condition such as {"left": ..., "op": ..., "right": ...}'
            )
            return
        for key in node:
            if key not in CONDITION_KEYS:
                self.error(
                    f"{pointer}/{key}",
                    f'unknown key "{key}"; a condition has left, op and right'
                    + _did_you_mean(str(key), CONDITION_KEYS),
                )
        name = node.get("op")
        op = OPERATORS.get(name) if isinstance(name, str) else None
        if "op" not in node:
            self.error(pointer, f'missing "op"; choose one of {", ".join(OPERATORS)}')
        elif op is None:
            hint = (
                _did_you_mean(str(name), list(OPERATORS))
                or f"; choose one of {', '.join(OPERATORS)}"
            )
            self.error(f"{pointer}/op", f'unknown operator "{name}"{hint}')
        if "left" not in node:
            self.error(pointer, 'missing "left": the value to test, e.g. "{{ trigger.email }}"')
        if op is not None and op.takes_right and "right" not in node:
            self.error(pointer, f'"{op.name}" needs a "right" value to compare with')
        if op is not None and not op.takes_right and "right" in node:
            self.error(f"{pointer}/right", f'"{op.name}" takes no "right" value; remove it')
        left = self.side(node["left"], f"{pointer}/left") if "left" in node else None
        right = self.side(node["right"], f"{pointer}/right") if "right" in node else None
        if op is not None and left is not None:
            self.types(op, left, right if op.takes_right else None, pointer)

    def types(self, op: Operator, left: _Side, right: _Side | None, pointer: str) -> None:
        if op.name in ("greater_than", "less_than"):
            sides = [(left, "left"), *([(right, "right")] if right else [])]
            orders = [self.order_kind(op, side, f"{pointer}/{key}") for side, key in sides]
            if len(orders) == 2 and None not in orders and orders[0] != orders[1]:
                self.error(pointer, f"{op.name} cannot compare a {orders[0]} with a {orders[1]}")
            return
        found = schema_kinds(left.schema) if left.schema is not None else None
        if not found:
            return
        needed = {
            "contains": ({"string", "array", "object"}, "text, a list or an object"),
            "starts_with": ({"string"}, "text"),
            "is_true": ({"boolean", "string"}, "true/false"),
            "is_false": ({"boolean", "string"}, "true/false"),
        }.get(op.name)
        if needed and not found & needed[0]:
            self.error(
                f"{pointer}/left",
                f"{op.name} needs {needed[1]}, but {left.name} is {describe_kinds(found)}",
            )
        if op.name in ("equals", "not_equals") and right is not None:
            self.never_equal(left, right, pointer)

    def order_kind(self, op: Operator, side: _Side, pointer: str) -> str | None:
        """Return "number" or "date" for a side of greater_than/less_than, None if unknown."""
        if side.literal:
            if side.value is None:
                return None
            if _as_number(side.value) is not None:
                return "number"
            if _as_moment(side.value) is not None:
                return "date"
            self.error(pointer, f"{op.name} compares numbers or dates, but {side.name} is neither")
            return None
        if side.schema is None:
            return None
        found = schema_kinds(side.schema)
        if found is None or not found:
            return None
        if found <= {"integer", "number"}:
            return "number"
        formats = {b.get("format") for b in branches(side.schema) if "string" in (kinds(b) or ())}
        if found == {"string"} and formats and formats <= {"date-time", "date"}:
            return "date"
        if found == {"string"}:
            self.error(
                pointer,
                f"cannot check that {side.name} holds a number or a date; make sure it does",
                "warning",
            )
            return None
        hint = f"; compare its length instead: {side.name} | length" if "array" in found else ""
        self.error(
            pointer,
            f"{op.name} compares numbers or dates, "
            f"but {side.name} is {describe_kinds(found)}{hint}",
        )
        return None

    def never_equal(self, left: _Side, right: _Side, pointer: str) -> None:
        """Warn when two sides can never be equal: disjoint types, or a value outside an enum."""
        if left.schema is None or right.schema is None:
            return
        found, other = schema_kinds(left.schema), schema_kinds(right.schema)
        if not found or not other:
            return
        numeric = {"integer", "number"}
        comparable = (
            found & other
            or (found & numeric and other & (numeric | {"string"}))
            or (other & numeric and found & (numeric | {"string"}))
        )
        if not comparable:
            self.error(
                pointer,
                f"{left.name} is {describe_kinds(found)} and {right.name} is "
                f"{describe_kinds(other)}, so they are never equal",
                "warning",
            )
            return
        values = [v for b in branches(left.schema) for v in b.get("enum", ()) if v is not None]
        if right.literal and values and right.value not in values:
            shown = ", ".join(to_json(v) for v in values[:6])
            self.error(
                f"{pointer}/right",
                f"{left.name} is one of {shown}; {right.name} never matches",
                "warning",
            )


def validate_condition(group: Any, scope: Scope, pointer: str = "/run_if") -> list[Problem]:
    """Return the problems of a `run if` group: its shape, operators, references and types.

    None (no condition) has no problems. Errors block saving; warnings point at what cannot be
    checked before the run.
    """
    if group is None:
        return []
    validator = _Validator(scope)
    validator.group(group, pointer, depth=1)
    return validator.problems


__all__ = [
    "MAX_DEPTH",
    "OPERATORS",
    "ConditionError",
    "Operator",
    "describe",
    "evaluate",
    "validate_condition",
]
