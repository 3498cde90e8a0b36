"""Resolve a step's input at run time: every `{{ ... }}` replaced by the value it names.

The context of a run is a plain mapping:

    {"trigger": {...payload...},
     "steps": {"find": {"successful": True, "error": None, "data": {...}}},
     "item": {...}, "item_index": 0,            # only inside a "for each"
     "run": {"id": "...", "started_at": "...", "workflow_id": 1, "version": 3}}

A string that is exactly one reference becomes the referenced value (its type kept); other
strings become text. A path that is not there is a ResolveError, never a silent null, unless a
later `default(...)` filter gives a value.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

from .references import Reference, format_path, parse_template

_ABSENT_ROOT = {
    "trigger": "the trigger sent no data",
    "item": 'this step has no "for each", so there is no item',
    "item_index": 'this step has no "for each", so there is no item_index',
    "run": "the run's details are not available",
}
_NEEDS = {
    "lower": "text",
    "upper": "text",
    "length": "text, a list or an object",
    "first": "a list",
    "last": "a list",
    "join": "a list",
}


class ResolveError(ValueError):
    """A reference that names nothing in the run, or a filter that cannot apply to its value.

    `str()` reads `steps.find.data.data[0].id: the list steps.find.data.data is empty`.
    """

    def __init__(self, reference: Reference, message: str) -> None:
        self.reference = reference
        self.message = message
        super().__init__(reference, message)

    def __str__(self) -> str:
        return f"{self.reference.dotted}: {self.message}"


class _Missing:
    """A value that is not there, with the sentence that says why; `default` replaces it."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def describe_type(value: Any) -> str:
    """Name a value's type the way a marketer would: `text`, `a number`, `a list`, ..."""
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def to_json(value: Any) -> str:
    """Write a value as compact JSON (no spaces, non-ASCII kept)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def to_text(value: Any) -> str:
    """Write a value into text: strings as is, None as "", others as compact JSON (`true`)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return to_json(value)


def _copy(value: Any) -> Any:
    """Copy the containers of a JSON value, so a step's input never aliases run data."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(item) for item in value]
    return value


def _failed_step_hint(reference: Reference, context: Mapping[str, Any]) -> str:
    output = (context.get("steps") or {}).get(reference.step_key)
    if isinstance(output, Mapping) and output.get("successful") is False:
        return f' (step "{reference.step_key}" failed: {output.get("error") or "no detail"})'
    return ""


def _walk_error(reference: Reference, index: int, current: Any) -> str:
    """Say why path segment `index` of `reference` cannot be taken from `current`."""
    where = format_path(reference.root, reference.path[:index])
    segment = reference.path[index]
    if isinstance(segment, str):
        if isinstance(current, Mapping):
            message = f'there is no field "{segment}" in {where}'
            close = difflib.get_close_matches(segment, [str(key) for key in current], n=1)
            return f'{message}; did you mean "{close[0]}"?' if close else message
        if isinstance(current, list | tuple):
            example = format_path(where, (0, *reference.path[index:]))
            return f"{where} is a list; pick an item first, e.g. {example}"
        return f'{where} is {describe_type(current)}, so it has no field "{segment}"'
    if isinstance(current, list | tuple):
        if not current:
            return f"the list {where} is empty"
        count = f"{len(current)} item" + ("" if len(current) == 1 else "s")
        return f"the list {where} has {count}, so there is no [{segment}]"
    if isinstance(current, Mapping):
        return f"{where} is an object, not a list; pick a field by name, e.g. {where}.id"
    return f"{where} is {describe_type(current)}, not a list, so it has no item [{segment}]"


def _lookup(reference: Reference, context: Mapping[str, Any]) -> Any:
    """Follow the reference's path; return the value found or a _Missing saying why not."""
    path = reference.path
    if reference.root == "steps":
        outputs = context.get("steps") or {}
        key = path[0]
        if key not in outputs:
            return _Missing(f'step "{key}" has no output; it was skipped or has not run yet')
        current = outputs[key]
        start = 1
    else:
        if reference.root not in context:
            return _Missing(_ABSENT_ROOT[reference.root])
        current = context[reference.root]
        start = 0
    for index in range(start, len(path)):
        segment = path[index]
        try:
            if isinstance(segment, str):
                if not isinstance(current, Mapping):
                    raise LookupError
            elif not isinstance(current, list | tuple):
                raise LookupError
            current = current[segment]
        except LookupError:
            message = _walk_error(reference, index, current)
            if reference.root == "steps":
                message += _failed_step_hint(reference, context)
            return _Missing(message)
    return current


def _subject(reference: Reference, index: int) -> str:
    """Name the value filter `index` receives: the path and the filters before it."""
    return " | ".join([reference.dotted, *(str(f) for f in reference.filters[:index])])


def _apply_filter(reference: Reference, index: int, value: Any) -> Any:
    """Apply filter `index`; return a _Missing for a missing or empty value, raise on a misfit."""
    filter_ = reference.filters[index]
    name = filter_.name
    if name == "default":
        if isinstance(value, _Missing) or value is None or value == "":
            return filter_.args[0]
        return value
    if isinstance(value, _Missing):
        return value
    if name == "json":
        return to_json(value)
    if value is None:
        subject = _subject(reference, index)
        return _Missing(f'the filter "{name}" needs {_NEEDS[name]}, but {subject} is empty (null)')
    is_list = isinstance(value, list | tuple)
    if name in ("lower", "upper") and isinstance(value, str):
        return value.lower() if name == "lower" else value.upper()
    if name == "length" and (is_list or isinstance(value, str | Mapping)):
        return len(value)
    if name in ("first", "last") and is_list:
        if not value:
            return _Missing(f"the list {_subject(reference, index)} is empty")
        return value[0] if name == "first" else value[-1]
    if name == "join" and is_list:
        for position, item in enumerate(value):
            if isinstance(item, list | tuple | Mapping):
                raise ResolveError(
                    reference,
                    f'the filter "join" needs a list of texts or numbers, but item '
                    f"{position} of {_subject(reference, index)} is {describe_type(item)}",
                )
        separator = filter_.args[0] if filter_.args else ","
        return separator.join(to_text(item) for item in value)
    raise ResolveError(
        reference,
        f'the filter "{name}" needs {_NEEDS[name]}, but {_subject(reference, index)} '
        f"is {describe_type(value)}",
    )


def resolve_reference(reference: Reference, context: Mapping[str, Any]) -> Any:
    """Return the value a reference names, filters applied; raise ResolveError if there is none.

    The value is the context's own object, not a copy.
    """
    value = _lookup(reference, context)
    for index in range(len(reference.filters)):
        value = _apply_filter(reference, index, value)
    if isinstance(value, _Missing):
        raise ResolveError(reference, value.message)
    return value


def resolve_text(text: str, context: Mapping[str, Any]) -> Any:
    """Resolve one string: a lone reference keeps its value's type, anything else is text."""
    parts = parse_template(text).parts
    if len(parts) == 1:
        part = parts[0]
        if isinstance(part, str):
            return part
        return _copy(resolve_reference(part, context))
    return "".join(
        part if isinstance(part, str) else to_text(resolve_reference(part, context))
        for part in parts
    )


def resolve(value: Any, context: Mapping[str, Any]) -> Any:
    """Return a deep copy of `value` with every string template resolved against `context`.

    Dicts and lists are copied, strings resolved (escapes applied), other values kept.
    Raise ResolveError for a reference that names nothing, TemplateSyntaxError for bad syntax.
    """
    if isinstance(value, str):
        return resolve_text(value, context)
    if isinstance(value, dict):
        return {key: resolve(item, context) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(item, context) for item in value]
    return value
