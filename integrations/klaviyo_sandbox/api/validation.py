"""Validate request bodies against the operation's JSON Schema, answering like Klaviyo.

The first (most relevant) violation becomes a 400 whose `source.pointer` names the member
(`/data/attributes/email`; for a missing member, the member that is missing) and whose `detail`
says what is wrong with it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from integrations.klaviyo_sandbox.api.errors import ApiError, invalid
from integrations.klaviyo_sandbox.api.operations import defs, operation

_formats = FormatChecker(formats=())


@_formats.checks("date-time", raises=(ValueError, OverflowError))
def _is_datetime(value: object) -> bool:
    # Klaviyo accepts ISO 8601 with or without an offset ("2024-05-01T10:00:00"). The moment
    # must exist in UTC too (not "0001-01-01T00:00:00+14:00"): it is stored and served in UTC.
    if isinstance(value, str):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            moment.astimezone(UTC)
    return True


@_formats.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if isinstance(value, str):
        date.fromisoformat(value)
    return True


@cache
def validator(op_id: str) -> Draft202012Validator | None:
    """Return the (cached) validator for an operation's request body, or None if it has none."""
    body = operation(op_id)["body"]
    if not body:
        return None
    schema = {**body["schema"], "$defs": defs()}
    return Draft202012Validator(schema, format_checker=_formats)


def validate_body(op_id: str, document: Any) -> None:
    """Raise ApiError(400) describing the first way `document` breaks the operation's schema."""
    checker = validator(op_id)
    if checker is None:
        return
    error = best_match(checker.iter_errors(document))
    if error is None:
        return
    raise _as_api_error(error)


def _as_api_error(error: ValidationError) -> ApiError:
    path = [str(part) for part in error.absolute_path]
    detail = error.message
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            path.append(missing[0])
            detail = f"'{missing[0]}' is a required property"
    elif error.validator == "format":
        detail = f"{error.instance!r} is not a valid {error.validator_value}"
    elif error.validator == "anyOf":
        detail = f"{_short(error.instance)} does not match any of the accepted shapes"
    pointer = "/" + "/".join(path) if path else "/"
    where = f" at {pointer}" if path else ""
    return invalid(f"Invalid input{where}: {detail}.", pointer=pointer)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
