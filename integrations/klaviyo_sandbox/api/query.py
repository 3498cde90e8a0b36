"""Parse and check a request's query string against its operation, the way Klaviyo does.

`fields[type]`, `additional-fields[type]`, `include`, `sort` and `filter` are checked against
the operation table (unknown values answer 400 with `source.parameter`), `page[size]` against the
operation's maximum, and `page[cursor]` is decoded. Other parameters are ignored, like Klaviyo.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from integrations.klaviyo_sandbox.api import filters
from integrations.klaviyo_sandbox.api.errors import invalid
from integrations.klaviyo_sandbox.api.operations import table

MAX_OFFSET = 2**31 - 1  # the largest 32-bit signed integer


@dataclass
class Query:
    """The checked query of one request."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    additional: dict[str, set[str]] = field(default_factory=dict)
    include: list[str] = field(default_factory=list)
    sort: str | None = None
    filter: filters.Node | None = None
    page_size: int | None = None
    offset: int = 0


def encode_cursor(offset: int) -> str:
    """Return the opaque `page[cursor]` value for a position in a result list."""
    raw = json.dumps({"o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Return the position a cursor names; raise a 400 for a cursor we did not issue.

    The position becomes a SQL OFFSET (plus a LIMIT), so it must fit a database integer; no
    sandbox list holds MAX_OFFSET resources, so a larger one was never issued.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded.encode()))["o"]
        if isinstance(offset, int) and not isinstance(offset, bool) and 0 <= offset <= MAX_OFFSET:
            return offset
    except (ValueError, KeyError, TypeError, RecursionError):  # json.loads recurses on [[[...
        pass
    raise invalid("Invalid page cursor.", parameter="page[cursor]")


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_query(op: dict[str, Any], params: QueryDict) -> Query:
    """Return the checked query for operation `op`; raise ApiError(400) on a bad parameter."""
    spec = op["query"]
    for name in spec["required"]:
        if name != "company_id" and not params.get(name):
            raise invalid(f"'{name}' is a required parameter.", parameter=name)
    query = Query()
    allowed_fields = table()["fields"]
    for name, value in params.items():
        if name.startswith("fields[") and name.endswith("]"):
            kind = name[len("fields[") : -1]
            if kind not in spec["fields"]:
                raise invalid(
                    f"'{name}' is not a valid field type for this endpoint.", parameter=name
                )
            wanted = _csv(value)
            unknown = [f for f in wanted if f not in allowed_fields.get(kind, [])]
            if unknown:
                raise invalid(f"'{unknown[0]}' is not a valid field for '{name}'.", parameter=name)
            query.fields[kind] = wanted
        elif name.startswith("additional-fields[") and name.endswith("]"):
            kind = name[len("additional-fields[") : -1]
            choices = spec["additional_fields"].get(kind)
            wanted = _csv(value)
            if choices is None or any(f not in choices for f in wanted):
                raise invalid(f"Invalid value for '{name}': {value}.", parameter=name)
            query.additional[kind] = set(wanted)
    if "include" in params:
        query.include = _csv(params["include"])
        unknown = [i for i in query.include if i not in spec["include"]]
        if unknown:
            raise invalid(f"'{unknown[0]}' is not a valid include.", parameter="include")
    if params.get("sort"):
        if params["sort"] not in spec["sort"]:
            raise invalid(f"'{params['sort']}' is not a valid sort.", parameter="sort")
        query.sort = params["sort"]
    if params.get("filter"):
        if spec["filters"] is None:
            raise invalid("This endpoint does not support filtering.", parameter="filter")
        query.filter = _parse_filter(params["filter"], spec["filters"])
    if spec["page"]:
        query.page_size = _page_size(params.get("page[size]"), spec["page"])
        if params.get("page[cursor]"):
            query.offset = decode_cursor(params["page[cursor]"])
    return query


def _page_size(value: str | None, page: dict[str, int]) -> int:
    if value in (None, ""):
        return page["default"]
    try:
        size = int(value)
    except ValueError:
        size = 0
    if not 1 <= size <= page["max"]:
        raise invalid(
            f"page[size] must be an integer between 1 and {page['max']}.", parameter="page[size]"
        )
    return size


def _parse_filter(text: str, allowed: dict[str, Any]) -> filters.Node:
    try:
        node = filters.parse(text)
    except filters.FilterSyntaxError as exc:
        raise invalid(f"Invalid filter provided: {exc}.", parameter="filter") from exc
    if not allowed:
        return node  # the spec documents no field list: accept any field
    for comparison in filters.comparisons(node):
        spec = allowed.get(comparison.field)
        if spec is None:
            raise invalid(
                f"'{comparison.field}' is not a valid field for filtering. "
                f"Allowed fields: {', '.join(sorted(allowed))}.",
                parameter="filter",
            )
        if comparison.operator not in spec["operators"]:
            raise invalid(
                f"'{comparison.operator}' is not a valid operator for '{comparison.field}'. "
                f"Allowed operators: {', '.join(spec['operators'])}.",
                parameter="filter",
            )
        _check_value(comparison, spec)
    return node


def _check_value(comparison: filters.Comparison, spec: dict[str, Any]) -> None:
    values = comparison.value if isinstance(comparison.value, list) else [comparison.value]
    kind = "date-time" if spec.get("format") == "date-time" else spec.get("type")
    for value in values:
        if value is None:
            continue
        ok = {
            "boolean": isinstance(value, bool),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, int | float) and not isinstance(value, bool),
            "date-time": filters.parse_datetime(value) is not None,
        }.get(kind, True)
        if not ok:
            raise invalid(
                f"Invalid value for '{comparison.field}': expected a {kind}, got {value!r}.",
                parameter="filter",
            )
