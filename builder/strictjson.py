"""Decode JSON that will be stored: nothing a database refuses, nothing that recurses forever.

PostgreSQL refuses NUL in text and jsonb (`\\u0000`); neither SQLite nor PostgreSQL can store a
lone UTF-16 surrogate (`\\ud800`, valid JSON but not UTF-8); jsonb holds no NaN or Infinity;
Python's decoder and every recursive walk give up past some nesting depth. `loads` refuses all of
these with a `JsonRefused` naming where (a JSON pointer), so an API answers 400, never 500.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64
INT_RANGE = range(-(2**63), 2**63)


class JsonRefused(ValueError):
    """The document cannot be taken: `str()` says why, `path` where (`pointer` as RFC 6901).

    `kind` is "syntax", "number", "depth" or "text", for callers that word refusals their way.
    """

    def __init__(self, message: str, *, kind: str, path: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.kind = kind
        self.path = path

    @property
    def pointer(self) -> str:
        return pointer(self.path)


def text_problem(value: str) -> str | None:
    """Return why a text cannot be stored ("contains a NUL character", ...), or None if it can."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not UTF-8)"
    return None


def _short(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:20]}...({len(text)} characters)"


def _integer(text: str) -> int:
    # Checked before int(), which refuses (and is quadratic on) literals past 4300 digits.
    if len(text.lstrip("-")) <= 19 and (number := int(text)) in INT_RANGE:
        return number
    raise JsonRefused(f"the integer {_short(text)} is outside the 64-bit range", kind="number")


def _float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise JsonRefused(f"the number {_short(text)} is too large", kind="number")
    return number


def _constant(text: str) -> float:
    raise JsonRefused(f"{text} is not a JSON number", kind="number")


def loads(raw: bytes | str) -> Any:
    """Decode `raw` strictly (see the module docstring); raise JsonRefused otherwise."""
    try:
        document = json.loads(raw, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except RecursionError as exc:
        raise JsonRefused(f"nested more than {MAX_DEPTH} levels deep", kind="depth") from exc
    except JsonRefused:
        raise
    except (ValueError, UnicodeDecodeError) as exc:
        raise JsonRefused(f"not valid JSON: {exc}", kind="syntax") from exc
    check_document(document)
    return document


def check_document(document: Any) -> None:
    """Raise JsonRefused for a member nested past MAX_DEPTH or unstorable text in a key or string.

    The walk keeps its own stack, so it never recurses however deep the document is.
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
            raise JsonRefused(f"nested more than {MAX_DEPTH} levels deep", kind="depth", path=path)
        members = value.items() if isinstance(value, dict) else enumerate(value)
        for key, member in members:
            inner = (*path, str(key))
            if isinstance(key, str):
                _check_string(key, inner, "member name")
            stack.append((member, inner))


def _check_string(value: str, path: tuple[str, ...], what: str = "text") -> None:
    problem = text_problem(value)
    if problem:
        raise JsonRefused(f"the {what} {problem}", kind="text", path=path)


def pointer(path: tuple[str, ...]) -> str:
    """Return the JSON pointer (RFC 6901) of a path of member names and indexes."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in path)
