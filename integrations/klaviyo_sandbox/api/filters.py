"""Klaviyo's `filter` expression language: tokenizer, recursive-descent parser and evaluator.

Syntax (https://developers.klaviyo.com/en/reference/api_overview#filtering):

    filter     := expression ("," expression)*          top-level commas mean "and"
    expression := logical | comparison
    logical    := ("and" | "or") "(" expression ("," expression)* ")" | "not(" expression ")"
    comparison := operator "(" field ["," value] ")"     `has(field)` takes no value
    value      := 'text' | "text" | number | true | false | null | ISO date-time | list
    list       := "[" [value ("," value)*] "]"

Parsing never evaluates anything; `evaluate` takes a getter so the same tree filters resources,
list members or events. Parsing is bounded, so hostile text is a syntax error rather than a crash:
at most `MAX_DEPTH` open parentheses and brackets at once (the parser and `evaluate` recurse), and
numbers that fit a signed 64-bit integer or a finite double.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

COMPARISONS = {
    "equals",
    "any",
    "contains",
    "contains-any",
    "contains-all",
    "starts-with",
    "ends-with",
    "greater-than",
    "less-than",
    "greater-or-equal",
    "less-or-equal",
    "has",
}
LOGICAL = {"and", "or", "not"}

_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?")
_PUNCTUATION = "(),[]"
# Klaviyo documents no nesting limit; real filters nest two or three levels. 32 keeps the
# recursive parser and evaluator far from Python's recursion limit (about 1000 frames).
MAX_DEPTH = 32
INT_RANGE = range(-(2**63), 2**63)


class FilterSyntaxError(ValueError):
    """The filter text is not a valid expression; `str()` says what and where."""


@dataclass(frozen=True)
class Comparison:
    """`operator(field, value)`; `value` is a Python value (str, number, bool, None, datetime,
    or a list of those)."""

    operator: str
    field: str
    value: Any = None


@dataclass(frozen=True)
class Logical:
    """`and(...)`, `or(...)` or `not(...)` over sub-expressions."""

    operator: str
    operands: tuple[Comparison | Logical, ...]


Node = Comparison | Logical


@dataclass(frozen=True)
class _Token:
    kind: str  # "punct", "string" or "word"
    text: str
    position: int


def tokenize(text: str) -> list[_Token]:
    """Split filter text into punctuation, quoted strings and bare words."""
    tokens: list[_Token] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
        elif char in _PUNCTUATION:
            tokens.append(_Token("punct", char, index))
            index += 1
        elif char in "'\"":
            start, index, chars = index, index + 1, []
            while index < len(text) and text[index] != char:
                if text[index] == "\\" and index + 1 < len(text):
                    index += 1
                chars.append(text[index])
                index += 1
            if index >= len(text):
                raise FilterSyntaxError(f"unterminated string starting at position {start}")
            tokens.append(_Token("string", "".join(chars), start))
            index += 1
        else:
            start = index
            while (
                index < len(text)
                and not text[index].isspace()
                and text[index] not in _PUNCTUATION + "'\""
            ):
                index += 1
            tokens.append(_Token("word", text[start:index], start))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    def open(self, text: str) -> None:
        """Take an opening `(` or `[`, refusing to nest deeper than MAX_DEPTH."""
        token = self.take("punct", text)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterSyntaxError(
                f"the filter is nested more than {MAX_DEPTH} levels deep at position "
                f"{token.position}"
            )

    def close(self, text: str) -> None:
        """Take a closing `)` or `]`."""
        self.take("punct", text)
        self.depth -= 1

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, kind: str, text: str | None = None) -> _Token:
        token = self.peek()
        expected = repr(text) if text else kind
        if token is None:
            raise FilterSyntaxError(f"expected {expected} but the filter ended")
        if token.kind != kind or (text is not None and token.text != text):
            raise FilterSyntaxError(
                f"expected {expected} at position {token.position}, found {token.text!r}"
            )
        self.index += 1
        return token

    def at(self, text: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "punct" and token.text == text

    def parse(self) -> Node:
        if not self.tokens:
            raise FilterSyntaxError("the filter is empty")
        expressions = [self.expression()]
        while self.at(","):
            self.take("punct", ",")
            expressions.append(self.expression())
        if self.peek() is not None:
            token = self.peek()
            raise FilterSyntaxError(f"unexpected {token.text!r} at position {token.position}")
        return expressions[0] if len(expressions) == 1 else Logical("and", tuple(expressions))

    def expression(self) -> Node:
        name = self.take("word")
        operator = name.text.lower()
        self.open("(")
        if operator in LOGICAL:
            operands = [self.expression()]
            while self.at(","):
                self.take("punct", ",")
                operands.append(self.expression())
            self.close(")")
            if operator == "not" and len(operands) != 1:
                raise FilterSyntaxError("not() takes exactly one expression")
            return Logical(operator, tuple(operands))
        if operator not in COMPARISONS:
            raise FilterSyntaxError(f"unknown operator {name.text!r} at position {name.position}")
        field = self.take("word").text
        if operator == "has":
            self.close(")")
            return Comparison(operator, field)
        self.take("punct", ",")
        value = self.value()
        self.close(")")
        return Comparison(operator, field, value)

    def value(self) -> Any:
        if self.at("["):
            self.open("[")
            items = []
            if not self.at("]"):
                items.append(self.value())
                while self.at(","):
                    self.take("punct", ",")
                    items.append(self.value())
            self.close("]")
            return items
        token = self.peek()
        if token is not None and token.kind == "string":
            self.index += 1
            return token.text
        return literal(self.take("word"))


def literal(token: _Token) -> Any:
    """Turn a bare word into a number, boolean, null or date-time; refuse anything else."""
    text = token.text
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none"):
        return None
    if _NUMBER.fullmatch(text):
        return _number(token)
    if _DATE.fullmatch(text):
        moment = parse_datetime(text)
        if moment is None:
            raise FilterSyntaxError(
                f"{text!r} at position {token.position} is not a valid date-time"
            )
        return moment
    raise FilterSyntaxError(
        f"{text!r} at position {token.position} is not a value; quote text values"
    )


def _number(token: _Token) -> int | float:
    """Return a number literal that fits a 64-bit integer or a finite double; refuse others.

    The digit count is checked before `int()`, which refuses (and is slow on) huge literals.
    """
    text = token.text
    if any(c in text for c in ".eE"):
        number: int | float = float(text)
        if math.isfinite(number):
            return number
    elif len(text.lstrip("-")) <= 19 and (number := int(text)) in INT_RANGE:
        return number
    raise FilterSyntaxError(f"the number at position {token.position} is out of range")


def parse(text: str) -> Node:
    """Parse filter text into a tree; raise FilterSyntaxError with a readable reason."""
    return _Parser(text).parse()


def comparisons(node: Node) -> Iterator[Comparison]:
    """Yield every comparison in the tree (for validating fields and operators)."""
    if isinstance(node, Comparison):
        yield node
    else:
        for operand in node.operands:
            yield from comparisons(operand)


def parse_datetime(value: Any) -> datetime | None:
    """Return an aware datetime for ISO text (naive means UTC), or None if it is not one.

    A moment outside the UTC calendar (`0001-01-01T00:00:00+14:00` is in year 0 in UTC) is not
    one: converting it, as every comparison and answer does, would overflow.
    """
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str) or not _DATE.fullmatch(value.strip()):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "T"))
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return parsed


def evaluate(node: Node, get: Callable[[str], Any]) -> bool:
    """Tell whether the object `get(field)` describes matches the expression."""
    if isinstance(node, Logical):
        if node.operator == "and":
            return all(evaluate(operand, get) for operand in node.operands)
        if node.operator == "or":
            return any(evaluate(operand, get) for operand in node.operands)
        return not evaluate(node.operands[0], get)
    return matches(node.operator, get(node.field), node.value)


def matches(operator: str, actual: Any, expected: Any) -> bool:
    """Apply one comparison operator to an actual value (scalar or list) and the filter value."""
    if operator == "has":
        return actual not in (None, "", [], {})
    if isinstance(actual, list) and operator in ("equals", "any", "contains"):
        wanted = expected if isinstance(expected, list) else [expected]
        if operator == "equals" and isinstance(expected, list):
            return sorted(map(str, actual)) == sorted(map(str, expected))
        return any(_equal(item, want) for item in actual for want in wanted)
    if operator == "equals":
        if isinstance(expected, list):
            return any(_equal(actual, want) for want in expected)
        return _equal(actual, expected)
    if operator == "any":
        return any(_equal(actual, want) for want in _as_list(expected))
    if operator in ("contains-any", "contains-all"):
        check = any if operator == "contains-any" else all
        return check(matches("contains", actual, want) for want in _as_list(expected))
    if operator in ("contains", "starts-with", "ends-with"):
        if not isinstance(actual, str) or not isinstance(expected, str):
            return False
        test = {"contains": str.__contains__, "starts-with": str.startswith}
        return test.get(operator, str.endswith)(actual, expected)
    return _ordered(operator, actual, expected)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(expected, datetime):
        return parse_datetime(actual) == expected
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return actual == expected
    if expected is None:
        return actual is None
    return actual == expected or (actual is not None and str(actual) == str(expected))


def _ordered(operator: str, actual: Any, expected: Any) -> bool:
    if actual is None or expected is None:
        return False
    if isinstance(expected, str) and parse_datetime(expected) is not None:
        expected = parse_datetime(expected)  # a quoted date-time still compares as a date-time
    if isinstance(expected, datetime):
        actual = parse_datetime(actual)
        if actual is None:
            return False
    elif isinstance(expected, int | float) and not isinstance(expected, bool):
        if not isinstance(actual, int | float) or isinstance(actual, bool):
            return False
    elif type(actual) is not type(expected):
        return False
    if operator == "greater-than":
        return actual > expected
    if operator == "less-than":
        return actual < expected
    if operator == "greater-or-equal":
        return actual >= expected
    return actual <= expected
