"""Check a built request against Klaviyo's OpenAPI spec, as an outside reviewer would.

The operation is found from method + path alone; then every query parameter must be one the
operation declares (with a valid value: enums of `fields[...]`, integer bounds, a plausible
filter expression over the fields `x-klaviyo-filters` allows), every required one present, and
the body must validate against the operation's request schema (`$ref`s resolved, `oneOf` kept).
Used by the tests and by `klaviyo_codegen --check`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft202012Validator

from ..types import KlaviyoRequest
from ..validation import FORMAT_CHECKER, field_path
from .spec import Operation, Spec

_COMPARISON = {
    "equals",
    "less-than",
    "less-or-equal",
    "greater-than",
    "greater-or-equal",
    "contains",
    "contains-any",
    "contains-all",
    "ends-with",
    "starts-with",
    "any",
    "has",
}
_LOGICAL = {"and", "or", "not"}
_CLAUSE = re.compile(r"^([a-z-]+)\((.*)\)$", re.DOTALL)


def split_top_level(text: str) -> list[str]:
    """Split on commas outside parentheses, brackets and quotes."""
    parts, depth, quote, current = [], 0, "", []
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def filter_problems(expression: str, allowed: dict[str, Any]) -> list[str]:
    """Return what is wrong with a filter expression (empty when it is plausible)."""
    problems = []
    for clause in split_top_level(expression):
        match = _CLAUSE.match(clause.strip())
        if not match:
            problems.append(f"not a filter clause: {clause!r}")
            continue
        operator, inner = match.groups()
        if operator in _LOGICAL:
            problems += filter_problems(inner, allowed)
            continue
        if operator not in _COMPARISON:
            problems.append(f"unknown filter operator {operator!r}")
            continue
        args = split_top_level(inner)
        if len(args) != 2 or not args[1].strip():
            problems.append(f"{operator} takes a field and a value: {clause!r}")
            continue
        field, value = args[0].strip(), args[1].strip()
        if allowed and field not in allowed:
            problems.append(f"field {field!r} cannot be filtered here")
        elif allowed:
            operators = allowed[field].get("operators", {})
            permitted = set(operators.get("single", [])) | set(operators.get("list", []))
            if operator not in permitted:
                problems.append(f"{operator} is not allowed on {field!r}")
        if value[0] not in "\"'[" and not re.match(r"^[\w.:+-]+$", value):
            problems.append(f"value {value!r} should be quoted")
    return problems


class SpecChecker:
    """Validate `KlaviyoRequest`s against the spec."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._routes = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "([^/]+)", op.path) + "$"), op)
            for op in spec.operations.values()
        ]
        self._body_validators: dict[str, Draft202012Validator] = {}

    def operation_for(self, method: str, path: str) -> Operation | None:
        """Return the operation serving `method path` (path parameters substituted)."""
        for pattern, op in self._routes:
            if op.method == method and pattern.match(path):
                return op
        return None

    def problems(
        self, request: KlaviyoRequest, operation_ids: tuple[str, ...] | list[str] = ()
    ) -> list[str]:
        """Return every way `request` breaks the spec (empty list when it is valid)."""
        op = self.operation_for(request.method, request.path)
        if op is None:
            return [f"no spec operation for {request.method} {request.path}"]
        problems = []
        if operation_ids and op.operation_id not in operation_ids:
            problems.append(f"{op.operation_id} is not one of {list(operation_ids)}")
        for part in request.path.split("/"):
            if "{" in unquote(part) and "}" in part:
                problems.append(f"path parameter left unfilled: {part}")
        problems += self._query_problems(op, dict(request.query))
        problems += self._body_problems(op, request)
        return problems

    def _query_problems(self, op: Operation, query: dict[str, str]) -> list[str]:
        problems = []
        params = {p["name"]: p for p in self.spec.parameters(op) if p["in"] == "query"}
        for name, param in params.items():
            if param.get("required") and name not in query:
                problems.append(f"required query parameter {name} is missing")
        for name, value in query.items():
            param = params.get(name)
            if param is None:
                problems.append(f"unknown query parameter {name}")
                continue
            schema = self.spec.deref(param["schema"])
            problems += self._query_value(op, name, schema, value)
        return problems

    def _query_value(
        self, op: Operation, name: str, schema: dict[str, Any], value: str
    ) -> list[str]:
        kind = schema.get("type")
        if kind == "array":
            items = self.spec.deref(schema.get("items", {}))
            values = value.split(",")
            enum = items.get("enum")
            bad = [v for v in values if enum and v not in enum]
            return [f"{name}: {v!r} is not allowed" for v in bad]
        if kind == "integer":
            if not re.fullmatch(r"-?\d+", value):
                return [f"{name}: {value!r} is not an integer"]
            number = int(value)
            low, high = schema.get("minimum"), schema.get("maximum")
            if (low is not None and number < low) or (high is not None and number > high):
                return [f"{name}: {number} is out of bounds"]
            return []
        if schema.get("enum") and value not in schema["enum"]:
            return [f"{name}: {value!r} is not one of the allowed values"]
        if name == "filter":
            allowed = op.raw.get("x-klaviyo-filters") or {}
            return [f"filter: {p}" for p in filter_problems(value, allowed)]
        if not value:
            return [f"{name} is empty"]
        return []

    def _body_problems(self, op: Operation, request: KlaviyoRequest) -> list[str]:
        body = self.spec.request_body(op)
        if body is None:
            has_body = request.body is not None or request.form or request.files
            return ["the operation takes no body"] if has_body else []
        content_type, schema = body
        if content_type == "multipart/form-data":
            sent = set(request.form or {}) | set(request.files or {})
            problems = [f"unknown form field {n}" for n in sent - set(schema["properties"])]
            missing = set(schema.get("required", [])) - sent
            return problems + [f"form field {n} is missing" for n in sorted(missing)]
        if request.body is None:
            return ["the operation needs a JSON:API body"]
        validator = self._body_validators.get(op.operation_id)
        if validator is None:
            converted = self.spec.to_json_schema(schema, describe=False, strict=True)
            validator = Draft202012Validator(converted, format_checker=FORMAT_CHECKER)
            self._body_validators[op.operation_id] = validator
        return [
            f"body {field_path(error.absolute_path) or '(root)'}: {error.message[:200]}"
            for error in validator.iter_errors(request.body)
        ]
