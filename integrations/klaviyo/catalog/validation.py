"""Validate action input against its JSON schema and phrase the problems per field.

Formats are checked by maintained checkers, as strictly as Klaviyo is and no stricter: an email
by Django's `EmailValidator` (`bob@` fails before anything is sent), an http(s) URL by Django's
`URLValidator` and any other URI (Klaviyo takes `data:` image URIs) by the RFC 3986 checker
jsonschema itself uses, a date and a date-time by the standard library's ISO 8601 parser.
Klaviyo reads a date-time without a UTC offset as UTC, so an offset is not required.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, URLValidator
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from rfc3986_validator import validate_rfc3986

from .types import InvalidInput

FORMAT_CHECKER = FormatChecker(formats=())
_email = EmailValidator()
_web_url = URLValidator(schemes=["http", "https"])


def _passes(check: Callable[[str], Any], value: str) -> bool:
    try:
        check(value)
    except DjangoValidationError:
        return False
    return True


@FORMAT_CHECKER.checks("email")
def is_email(value: object) -> bool:
    """Accept what Django's EmailValidator accepts (`name@domain.tld`, RFC lengths)."""
    return not isinstance(value, str) or _passes(_email, value)


@FORMAT_CHECKER.checks("date-time")
def is_date_time(value: object) -> bool:
    """Accept ISO 8601 date-times, with or without a UTC offset (`2025-01-01T09:30:00`)."""
    if not isinstance(value, str):
        return True
    if len(value) < 16 or value[10] not in "Tt ":
        return False  # a date alone, or garbage that fromisoformat might still read
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


@FORMAT_CHECKER.checks("date")
def is_date(value: object) -> bool:
    """Accept `YYYY-MM-DD` calendar dates."""
    if not isinstance(value, str):
        return True
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


@FORMAT_CHECKER.checks("uri")
def is_uri(value: object) -> bool:
    """Accept absolute http(s) URLs with a host, and other absolute URIs (`data:image/...`)."""
    if not isinstance(value, str):
        return True
    scheme = value.partition(":")[0].lower()
    if scheme in ("http", "https"):
        return _passes(_web_url, value)
    return validate_rfc3986(value, rule="URI") is not None


def make_validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    """Return a validator for `schema` that also checks formats."""
    return Draft202012Validator(schema, format_checker=FORMAT_CHECKER)


def field_path(parts: Iterable[Any]) -> str:
    """Render a JSON path as `profiles[0].email`."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(error: ValidationError) -> tuple[list[Any], str]:
    """Return (path, message) for one jsonschema error, in words a workflow author reads."""
    path = list(error.absolute_path)
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind == "required":
        missing = next((name for name in expected if name not in value), "")
        return [*path, missing], "this field is required"
    if kind == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        extra = sorted(set(value) - known)
        return [*path, extra[0] if extra else ""], "unknown field"
    if kind == "format":
        return path, f"{_short(value)} is not a valid {expected}"
    if kind == "type":
        types = " or ".join(expected) if isinstance(expected, list) else expected
        return path, f"expected {types}, got {_type_name(value)} {_short(value)}"
    if kind == "maxItems":
        return path, f"too many items: {len(value)} (at most {expected})"
    if kind == "minItems":
        return path, f"needs at least {expected} item{'s' if expected != 1 else ''}"
    if kind == "enum":
        allowed = ", ".join(_short(v) for v in expected)
        return path, f"{_short(value)} is not one of {allowed}"
    if kind == "minLength" and expected == 1:
        return path, "must not be empty"
    if kind == "pattern":
        example = (error.schema.get("examples") or [None])[0]
        hint = f" (e.g. {_short(example)})" if isinstance(example, str) else ""
        return path, f"{_short(value)} does not have the expected shape{hint}"
    if kind == "uniqueItems":
        return path, "items must be unique"
    if kind == "anyOf" and not path and all(set(branch) == {"required"} for branch in expected):
        names = ", ".join(" + ".join(branch["required"]) for branch in expected)
        return path, f"provide one of: {names}"
    if kind in ("anyOf", "oneOf") and error.context:
        # Sub-errors know their absolute path; report the branch that came closest.
        return _describe(best_match(error.context))
    return path, error.message


def errors_for(validator: Draft202012Validator, params: Any) -> dict[str, list[str]]:
    """Return field path -> messages for everything wrong with `params` (empty when valid)."""
    problems: dict[str, list[str]] = {}
    for error in validator.iter_errors(params):
        path, message = _describe(error)
        problems.setdefault(field_path(path), []).append(message)
    return problems


def validate(validator: Draft202012Validator, params: Any, action_key: str = "") -> None:
    """Raise InvalidInput with per-field messages unless `params` matches the schema."""
    if not isinstance(params, Mapping):
        raise InvalidInput({"": [f"expected an object of parameters, got {_type_name(params)}"]})
    problems = errors_for(validator, params)
    if problems:
        raise InvalidInput(problems, action_key)
