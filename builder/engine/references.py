"""The mapping language: parse text with `{{ ... }}` references into a `Template`.

A reference names a value of the run and may pipe it through filters:

    {{ trigger.email }}
    {{ steps.find.data.data[0].id }}
    {{ steps.find.data.data | length }}
    {{ trigger.name | default("friend") | upper }}
    {{ item["$value"] }}   {{ item['weird key'] }}   {{ trigger.tags[-1] }}

Grammar (whitespace is allowed between tokens inside the braces, not inside a path):

    template  := (text | "\\{{" | reference)*
    reference := "{{" path ("|" filter)* "}}"
    path      := root segment*
    root      := "trigger" | "steps" | "item" | "item_index" | "run"
    segment   := "." name | "[" integer "]" | "[" quoted "]"
    name      := [A-Za-z_][A-Za-z0-9_-]*
    filter    := name ["(" [literal ("," literal)*] ")"]
    literal   := quoted | number | "true" | "false" | "null"

Text outside the braces is literal; `\\{{` writes a literal `{{` (the backslash is dropped).
A value that is exactly one reference, with nothing around it (not even spaces), keeps the
referenced value's type; anything else is text. The parser is ours: no `eval`, no templates.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

ROOTS = ("trigger", "steps", "item", "item_index", "run")
RUN_FIELDS = ("id", "started_at", "workflow_id", "version")
ESCAPE = "\\{{"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_WHITESPACE = " \t\r\n"
_STRING_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
_KEYWORDS = {"true": True, "false": False, "null": None}


@dataclass(frozen=True)
class FilterSpec:
    """What a filter accepts: how many arguments, of which type, and how to write it."""

    name: str
    min_args: int
    max_args: int
    usage: str
    summary: str
    text_args: bool = False


FILTERS: dict[str, FilterSpec] = {
    spec.name: spec
    for spec in (
        FilterSpec("default", 1, 1, 'default("friend")', "the value, or this one when missing"),
        FilterSpec("lower", 0, 0, "lower", "text in lower case"),
        FilterSpec("upper", 0, 0, "upper", "text in upper case"),
        FilterSpec("length", 0, 0, "length", "the number of characters, items or fields"),
        FilterSpec("first", 0, 0, "first", "the first item of a list"),
        FilterSpec("last", 0, 0, "last", "the last item of a list"),
        FilterSpec("join", 0, 1, 'join(", ")', "the items of a list as one text", text_args=True),
        FilterSpec("json", 0, 0, "json", "the value written as JSON"),
    )
}


def format_literal(value: Any) -> str:
    """Write a filter argument back the way the language spells it (`"text"`, `1`, `null`)."""
    return json.dumps(value, ensure_ascii=False)


def format_path(root: str, path: tuple[str | int, ...]) -> str:
    """Write a path as `root.name[0]["odd key"]`, the canonical spelling of a reference."""
    out = [root]
    for segment in path:
        if isinstance(segment, int):
            out.append(f"[{segment}]")
        elif _NAME.fullmatch(segment):
            out.append(f".{segment}")
        else:
            out.append(f"[{format_literal(segment)}]")
    return "".join(out)


@dataclass(frozen=True)
class Filter:
    """One `| name(args)` step of a reference."""

    name: str
    args: tuple[Any, ...] = ()

    def __str__(self) -> str:
        if not self.args:
            return self.name
        return f"{self.name}({', '.join(format_literal(arg) for arg in self.args)})"


@dataclass(frozen=True)
class Reference:
    """A parsed `{{ ... }}`: a root, a path below it and the filters applied in order.

    `source` is the text between the braces, stripped; `start` and `end` are the offsets of the
    opening `{{` and just past the closing `}}` in the template.
    """

    root: str
    path: tuple[str | int, ...]
    filters: tuple[Filter, ...]
    source: str
    start: int
    end: int

    @property
    def dotted(self) -> str:
        """Return the path in canonical spelling, filters left out: `steps.find.data.data[0].id`."""
        return format_path(self.root, self.path)

    @property
    def step_key(self) -> str | None:
        """Return the step key of a `steps.<key>...` reference, else None."""
        if self.root == "steps":
            return str(self.path[0])
        return None


class TemplateSyntaxError(ValueError):
    """A template that cannot be parsed; `position` is the character offset of the problem.

    `pointer` is the JSON pointer of the string within a step's input when the error was found
    by `iter_references` (None otherwise).
    """

    def __init__(self, message: str, position: int, pointer: str | None = None) -> None:
        self.message = message
        self.position = position
        self.pointer = pointer
        super().__init__(message, position)

    def __str__(self) -> str:
        return f"position {self.position}: {self.message}"


@dataclass(frozen=True)
class Template:
    """A parsed text: literal strings and references, in order, adjacent text merged."""

    parts: tuple[str | Reference, ...]

    @property
    def references(self) -> tuple[Reference, ...]:
        """Return the references in order of appearance."""
        return tuple(part for part in self.parts if isinstance(part, Reference))

    @property
    def is_single_reference(self) -> bool:
        """Return whether the text is one reference and nothing else (spaces around make text)."""
        return len(self.parts) == 1 and isinstance(self.parts[0], Reference)

    @property
    def is_literal(self) -> bool:
        """Return whether the text holds no reference (escapes may still have changed it)."""
        return not any(isinstance(part, Reference) for part in self.parts)


def _did_you_mean(word: str, choices: tuple[str, ...] | list[str], fallback: str) -> str:
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f'; did you mean "{match[0]}"?' if match else fallback


class _ReferenceParser:
    """Parse one reference starting at the `{{` at `start`; `parse` returns it and its end."""

    def __init__(self, text: str, start: int) -> None:
        self.text = text
        self.start = start
        self.pos = start + 2
        self.key_span: tuple[int, int] | None = None

    def fail(self, message: str, position: int | None = None) -> TemplateSyntaxError:
        return TemplateSyntaxError(message, self.pos if position is None else position)

    def not_closed(self) -> TemplateSyntaxError:
        return self.fail('"{{" is not closed; add "}}" after the reference', self.start)

    def skip_whitespace(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        self.pos = pos

    def peek(self, width: int = 1) -> str:
        return self.text[self.pos : self.pos + width]

    def unexpected(self, expected: str) -> TemplateSyntaxError:
        if self.pos >= len(self.text):
            return self.not_closed()
        match = _NAME.match(self.text, self.pos)
        token = match.group() if match else self.text[self.pos]
        return self.fail(f'unexpected "{token}"; expected {expected}')

    def parse(self) -> tuple[Reference, int]:
        if self.text.find("}}", self.pos) < 0:
            raise self.not_closed()
        self.skip_whitespace()
        if self.peek(2) == "}}":
            raise self.fail(
                "empty reference; write a name such as trigger.email between the braces"
            )
        root, path = self.parse_path()
        filters: list[Filter] = []
        while True:
            self.skip_whitespace()
            if self.peek(2) == "}}":
                break
            if self.peek() != "|":
                raise self.unexpected('"|" or "}}"')
            self.pos += 1
            filters.append(self.parse_filter())
        end = self.pos + 2
        source = self.text[self.start + 2 : self.pos].strip()
        return Reference(root, tuple(path), tuple(filters), source, self.start, end), end

    def parse_path(self) -> tuple[str, list[str | int]]:
        match = _NAME.match(self.text, self.pos)
        if not match:
            raise self.unexpected("a name such as trigger, steps, item or run")
        root = match.group()
        if root not in ROOTS:
            hint = "; a reference starts with trigger, steps, item, item_index or run"
            raise self.fail(f'unknown name "{root}"{_did_you_mean(root, ROOTS, hint)}')
        self.pos = match.end()
        path: list[str | int] = []
        while self.peek() in (".", "["):
            segment_start = self.pos
            path.append(self.parse_segment())
            if root == "steps" and len(path) == 1:
                self.key_span = (segment_start, self.pos)
        if root == "steps" and (not path or not isinstance(path[0], str)):
            raise self.fail('"steps" needs a step key, e.g. steps.find_profile.data', match.start())
        return root, path

    def parse_segment(self) -> str | int:
        if self.peek() == ".":
            self.pos += 1
            match = _NAME.match(self.text, self.pos)
            if not match:
                raise self.fail(
                    'expected a field name after "."; write ["odd key"] for names with '
                    "spaces or other characters"
                )
            self.pos = match.end()
            return match.group()
        self.pos += 1  # "["
        self.skip_whitespace()
        if self.peek() in ('"', "'"):
            segment: str | int = self.parse_string()
        else:
            match = _INTEGER.match(self.text, self.pos)
            if not match or (self.text[match.end() : match.end() + 1] in (".", "e", "E")):
                raise self.fail('expected a whole number or a quoted name inside "[ ]"')
            self.pos = match.end()
            segment = int(match.group())
        self.skip_whitespace()
        if self.peek() != "]":
            raise self.unexpected('"]"')
        self.pos += 1
        return segment

    def parse_string(self) -> str:
        quote_at = self.pos
        quote = self.text[quote_at]
        out: list[str] = []
        pos = quote_at + 1
        text = self.text
        while pos < len(text):
            char = text[pos]
            if char == quote:
                self.pos = pos + 1
                return "".join(out)
            if char == "\\":
                escaped = text[pos + 1 : pos + 2]
                if escaped not in _STRING_ESCAPES:
                    raise self.fail(
                        f'unknown escape "\\{escaped}" in quotes; use \\" \\\' \\\\ \\n or \\t',
                        pos,
                    )
                out.append(_STRING_ESCAPES[escaped])
                pos += 2
                continue
            out.append(char)
            pos += 1
        raise self.fail("text in quotes is not closed", quote_at)

    def parse_filter(self) -> Filter:
        self.skip_whitespace()
        name_at = self.pos
        match = _NAME.match(self.text, self.pos)
        if not match:
            if self.pos >= len(self.text):
                raise self.not_closed()
            raise self.fail('expected a filter name after "|"')
        name = match.group()
        spec = FILTERS.get(name)
        if spec is None:
            hint = f"; filters are {', '.join(FILTERS)}"
            raise self.fail(f'unknown filter "{name}"{_did_you_mean(name, list(FILTERS), hint)}')
        self.pos = match.end()
        self.skip_whitespace()
        args: list[Any] = []
        if self.peek() == "(":
            self.pos += 1
            args = self.parse_arguments()
        self.check_arguments(spec, args, name_at)
        return Filter(name, tuple(args))

    def parse_arguments(self) -> list[Any]:
        args: list[Any] = []
        self.skip_whitespace()
        if self.peek() == ")":
            self.pos += 1
            return args
        while True:
            self.skip_whitespace()
            args.append(self.parse_literal())
            self.skip_whitespace()
            if self.peek() == ")":
                self.pos += 1
                return args
            if self.peek() != ",":
                raise self.unexpected('"," or ")"')
            self.pos += 1

    def parse_literal(self) -> Any:
        if self.peek() in ('"', "'"):
            return self.parse_string()
        match = _NUMBER.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            number = match.group()
            return float(number) if match.group(1) or match.group(2) else int(number)
        match = _NAME.match(self.text, self.pos)
        if match and match.group() in _KEYWORDS:
            self.pos = match.end()
            return _KEYWORDS[match.group()]
        if match:
            raise self.fail(f'put text in quotes: "{match.group()}"')
        raise self.fail("expected a value: text in quotes, a number, true, false or null")

    def check_arguments(self, spec: FilterSpec, args: list[Any], name_at: int) -> None:
        count = len(args)
        if spec.max_args == 0 and count:
            raise self.fail(f'the filter "{spec.name}" takes no arguments', name_at)
        if not spec.min_args <= count <= spec.max_args:
            raise self.fail(
                f'the filter "{spec.name}" needs one value, e.g. {spec.usage}'
                if count < spec.min_args
                else f'the filter "{spec.name}" takes one value, e.g. {spec.usage}',
                name_at,
            )
        if spec.text_args and any(not isinstance(arg, str) for arg in args):
            raise self.fail(
                f'the filter "{spec.name}" takes text in quotes, e.g. {spec.usage}', name_at
            )


def _parse(
    text: str,
) -> tuple[tuple[str | Reference, ...], list[tuple[Reference, tuple[int, int]]]]:
    """Parse `text`; return its parts and, for each `steps` reference, the span of its key."""
    parts: list[str | Reference] = []
    key_spans: list[tuple[Reference, tuple[int, int]]] = []
    pending: list[str] = []
    pos = 0
    while True:
        opening = text.find("{{", pos)
        if opening < 0:
            pending.append(text[pos:])
            break
        if opening > pos and text[opening - 1] == "\\":
            pending.append(text[pos : opening - 1])
            pending.append("{{")
            pos = opening + 2
            continue
        pending.append(text[pos:opening])
        parser = _ReferenceParser(text, opening)
        reference, pos = parser.parse()
        literal = "".join(pending)
        if literal:
            parts.append(literal)
        pending = []
        parts.append(reference)
        if parser.key_span is not None:
            key_spans.append((reference, parser.key_span))
    literal = "".join(pending)
    if literal:
        parts.append(literal)
    return tuple(parts), key_spans


@functools.lru_cache(maxsize=4096)
def parse_template(text: str) -> Template:
    """Parse `text` into a Template; raise TemplateSyntaxError with the offending position.

    Results are cached (templates repeat across runs and items) and immutable, so share them.
    """
    if "{{" not in text:  # the common literal: skip the scanner
        return Template((text,) if text else ())
    parts, _ = _parse(text)
    return Template(parts)


def escape_pointer_token(token: str | int) -> str:
    """Escape one JSON pointer token (RFC 6901: `~` as `~0`, `/` as `~1`)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def iter_references(value: Any, pointer: str = "") -> Iterator[tuple[str, Reference]]:
    """Yield (JSON pointer of the string, reference) for every reference in a nested value.

    Walk dicts (values only, not keys), lists and strings. Raise TemplateSyntaxError with
    `.pointer` set to the string's pointer when a string cannot be parsed.
    """
    if isinstance(value, str):
        if "{{" not in value:
            return
        try:
            template = parse_template(value)
        except TemplateSyntaxError as error:
            error.pointer = pointer
            raise
        for reference in template.references:
            yield pointer, reference
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from iter_references(item, f"{pointer}/{escape_pointer_token(key)}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from iter_references(item, f"{pointer}/{index}")


def referenced_steps(value: Any) -> set[str]:
    """Return the keys of the steps a value refers to; strings that do not parse are skipped."""
    keys: set[str] = set()
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            stack.extend(current.values())
        elif isinstance(current, list | tuple):
            stack.extend(current)
        elif isinstance(current, str) and "{{" in current:
            try:
                template = parse_template(current)
            except TemplateSyntaxError:
                continue
            keys.update(ref.step_key for ref in template.references if ref.step_key is not None)
    return keys


def _rename_in_text(text: str, old: str, new: str) -> str:
    if "{{" not in text:
        return text
    try:
        _, key_spans = _parse(text)
    except TemplateSyntaxError:
        return text  # left as written; the validator reports it
    replacement = f".{new}" if _NAME.fullmatch(new) else f"[{format_literal(new)}]"
    out: list[str] = []
    pos = 0
    for reference, (start, end) in key_spans:
        if reference.step_key == old:
            out.append(text[pos:start])
            out.append(replacement)
            pos = end
    out.append(text[pos:])
    return "".join(out)


def rename_step(value: Any, old: str, new: str) -> Any:
    """Return a copy of `value` with every `steps.<old>` reference pointing at `steps.<new>`.

    Only the step key is rewritten; spacing, filters and the rest of the text stay as written.
    Strings that do not parse are returned unchanged.
    """
    if isinstance(value, str):
        return _rename_in_text(value, old, new)
    if isinstance(value, dict):
        return {key: rename_step(item, old, new) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [rename_step(item, old, new) for item in value]
    return value
