"""What a request may carry, checked before any of it reaches the database or a recursive function.

PostgreSQL refuses NUL in text columns (`\\x00`) and in jsonb (`\\u0000`), and neither SQLite nor
PostgreSQL can store a lone UTF-16 surrogate (`\\ud800`, valid JSON but not UTF-8). Python's JSON
decoder and the schema validator recurse once per level of nesting. So the texts of a request
(path parameters, query parameters, form fields) are checked here, and JSON bodies are decoded
strictly: at most MAX_DEPTH levels deep, integers within the signed 64-bit range, finite numbers
only (no NaN or Infinity, which jsonb cannot hold), and no unstorable text in any key or string.
Every refusal is Klaviyo's 400 `invalid` naming the parameter or the body member.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.utils.datastructures import MultiValueDict

from integrations.klaviyo_sandbox.api.errors import ApiError, invalid

# The deepest body any Klaviyo operation's schema describes is 16 levels (a template); free-form
# members (profile properties) may nest further. 64 is generous and keeps the validator, which
# recurses a few frames per level, far from Python's recursion limit.
MAX_DEPTH = 64
INT_RANGE = range(-(2**63), 2**63)


def text_problem(value: str) -> str | None:
    """Return why a text cannot be stored ("contains a NUL character", ...), or None if it can."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not UTF-8)"
    return None


def check_params(path_params: dict[str, str], query: MultiValueDict[str, str]) -> None:
    """Raise a 400 when a path or query parameter (name or value) holds unstorable text."""
    for name, value in path_params.items():
        _check_field(name, [value], "path parameter")
    for name, values in query.lists():
        _check_field(name, values, "parameter")


def check_form(fields: MultiValueDict[str, str], files: MultiValueDict[str, UploadedFile]) -> None:
    """Raise a 400 when a multipart field (name or value) or a file name holds unstorable text."""
    for name, values in fields.lists():
        _check_field(name, values, "field")
    for name, uploads in files.lists():
        _check_field(name, [upload.name or "" for upload in uploads], "file field")


def _check_field(name: str, values: Iterable[str], what: str) -> None:
    for text in (name, *values):
        problem = text_problem(text)
        if problem:
            raise invalid(f"The {what} {name[:100]!r} {problem}.", parameter=name[:100])


class _Refused(ValueError):
    """A JSON number the sandbox does not take (raised from the decoder's hooks)."""


def _integer(text: str) -> int:
    # Checked before int(), which refuses (and is quadratic on) literals past 4300 digits.
    if len(text.lstrip("-")) <= 19 and (number := int(text)) in INT_RANGE:
        return number
    raise _Refused(f"the integer {_short(text)} is outside the 64-bit range")


def _float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _Refused(f"the number {_short(text)} is too large")
    return number


def _short(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:20]}...({len(text)} characters)"


def _constant(text: str) -> float:
    raise _Refused(f"{text} is not a JSON number")


def load_json(raw: bytes) -> Any:
    """Decode a JSON request body strictly (see the module docstring); raise a 400 otherwise."""
    try:
        document = json.loads(raw, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except RecursionError as exc:
        raise _too_deep("/") from exc
    except _Refused as exc:
        raise invalid(f"The request body is not accepted: {exc}.", pointer="/") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(f"The request body is not valid JSON: {exc}.", pointer="/") from exc
    check_document(document)
    return document


def check_document(document: Any) -> None:
    """Raise a 400 for a member nested past MAX_DEPTH or a key or string with unstorable text.

    The walk uses its own stack, so it never recurses however deep the document is.
    """
    stack: list[tuple[Any, tuple[str, ...]]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            _check_string(value, path)
            continue
        if not isinstance(value, dict | list):
            continue
        if len(path) >= MAX_DEPTH:
            raise _too_deep(pointer(path))
        members = value.items() if isinstance(value, dict) else enumerate(value)
        for key, member in members:
            inner = (*path, str(key))
            if isinstance(key, str):
                _check_string(key, inner, "member name")
            stack.append((member, inner))


def _check_string(value: str, path: tuple[str, ...], what: str = "text") -> None:
    problem = text_problem(value)
    if problem:
        at = pointer(path)
        raise invalid(f"Invalid input at {at}: the {what} {problem}.", pointer=at)


def _too_deep(at: str) -> ApiError:
    return invalid(f"The request body is nested more than {MAX_DEPTH} levels deep.", pointer=at)


def pointer(path: tuple[str, ...]) -> str:
    """Return the JSON pointer (RFC 6901) of a path of member names and indexes."""
    escaped = (part.replace("~", "~0").replace("/", "~1") for part in path)
    return "/" + "/".join(escaped) if path else "/"
