"""Read the catalog's JSON Schemas (2020-12) the way the mapping checks need them.

Only the keywords the catalog uses matter here: `type` (a name or a list with "null"),
`properties`, `additionalProperties`, `items`, `anyOf`/`oneOf`/`allOf`, `enum`, `const`,
`format`, `required` and the numeric and length bounds. `$ref` never occurs in the catalog.
"""

from __future__ import annotations

from typing import Any

_ALTERNATIVES = ("anyOf", "oneOf")
_TYPE_ORDER = ("object", "array", "string", "integer", "number", "boolean")
_KIND_NAMES = {
    "string": "text",
    "integer": "a number",
    "number": "a number",
    "boolean": "true/false",
    "array": "a list",
    "object": "an object",
}
_EXPECTED_NAMES = {**_KIND_NAMES, "integer": "a whole number", "boolean": "true or false"}
_FORMAT_NAMES = {
    "email": "an email address",
    "date-time": "a date-time",
    "date": "a date",
    "time": "a time",
    "uri": "a web address",
}


def json_type(value: Any) -> str:
    """Return the JSON Schema type name of a Python value (`True` is "boolean", not a number)."""
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
    if isinstance(value, list | tuple):
        return "array"
    return "object"


def literal_schema(value: Any) -> dict:
    """Return the schema of one literal value (a filter argument, a condition's right side)."""
    return {"type": json_type(value)}


def is_null(schema: dict) -> bool:
    """Return whether the schema only allows null."""
    kind = schema.get("type")
    if kind == "null" or kind == ["null"]:
        return True
    if "const" in schema:
        return schema["const"] is None
    return "enum" in schema and all(value is None for value in schema["enum"])


def _merge(base: dict, extra: dict) -> dict:
    if not base:
        return dict(extra)
    merged = {**base, **extra}
    if "properties" in base and "properties" in extra:
        merged["properties"] = {**base["properties"], **extra["properties"]}
    if "required" in base and "required" in extra:
        merged["required"] = list(dict.fromkeys([*base["required"], *extra["required"]]))
    return merged


def branches(schema: Any) -> list[dict]:
    """Return the non-null alternatives of `schema`, anyOf/oneOf flattened and allOf merged.

    Each alternative carries the keywords around the `anyOf` too (an object's `properties` with
    a branch that only adds `required`). An empty list means the value is always null; `{}`
    (anything) is returned as `[{}]`.
    """
    if not isinstance(schema, dict):
        return [{}]
    base = {key: value for key, value in schema.items() if key not in (*_ALTERNATIVES, "allOf")}
    for part in schema.get("allOf", ()):
        for alternative in branches(part)[:1]:
            base = _merge(base, alternative)
    alternatives = next((schema[key] for key in _ALTERNATIVES if key in schema), None)
    if not alternatives:
        return [] if is_null(base) else [base]
    out: list[dict] = []
    for alternative in alternatives:
        for branch in branches(alternative):
            merged = _merge(base, branch)
            if not is_null(merged) and merged not in out:
                out.append(merged)
    return out


def without_null(branch: dict) -> dict:
    """Return one alternative with null taken out of its `type` list and its `enum`."""
    kind = branch.get("type")
    out = dict(branch)
    if isinstance(kind, list) and "null" in kind:
        rest = [name for name in kind if name != "null"]
        out["type"] = rest[0] if len(rest) == 1 else rest
    if isinstance(branch.get("enum"), list) and None in branch["enum"]:
        out["enum"] = [value for value in branch["enum"] if value is not None]
    return out


def kinds(branch: dict) -> set[str] | None:
    """Return the non-null types one alternative allows, or None when any type fits."""
    kind = branch.get("type")
    if kind is not None:
        names = {kind} if isinstance(kind, str) else set(kind)
        names.discard("null")
        return names
    if "properties" in branch or "additionalProperties" in branch:
        return {"object"}
    if "items" in branch:
        return {"array"}
    if "const" in branch:
        return {json_type(branch["const"])}
    if "enum" in branch:
        return {json_type(value) for value in branch["enum"] if value is not None}
    return None


def schema_kinds(schema: Any) -> set[str] | None:
    """Return the non-null types `schema` allows over all alternatives; None when unknown.

    An empty set means the value is always null.
    """
    out: set[str] = set()
    for branch in branches(schema):
        found = kinds(branch)
        if found is None:
            return None
        out |= found
    return out


def describe_kinds(names: set[str], expected: bool = False) -> str:
    """Say `text`, `a number or a list`; with `expected`, the words for a field's type."""
    words = _EXPECTED_NAMES if expected else _KIND_NAMES
    ordered = [words[name] for name in _TYPE_ORDER if name in names]
    ordered = list(dict.fromkeys(ordered))
    if not ordered:
        return "empty (null)"
    if len(ordered) == 1:
        return ordered[0]
    return ", ".join(ordered[:-1]) + " or " + ordered[-1]


def describe_format(format_name: str) -> str:
    """Say what a string format means: `an email address`, `a date-time`."""
    return _FORMAT_NAMES.get(format_name, f'text in the format "{format_name}"')


def object_name(branch: dict) -> str | None:
    """Name what an object schema describes, `a profile`, from its title or resource type."""
    title = branch.get("title")
    if isinstance(title, str) and title:
        return _with_article(title[0].lower() + title[1:])
    type_schema = (branch.get("properties") or {}).get("type")
    if isinstance(type_schema, dict):
        values = type_schema.get("enum")
        if "const" in type_schema:
            values = [type_schema["const"]]
        if isinstance(values, list) and len(values) == 1 and isinstance(values[0], str):
            return _with_article(values[0].replace("-", " ").replace("_", " "))
    return None


def _with_article(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def property_schema(schema: Any, name: str) -> dict | None:
    """Return the schema of field `name` of an object schema, or None when it is not described."""
    found: list[dict] = []
    for branch in branches(schema):
        properties = branch.get("properties") or {}
        if name in properties:
            found.append(properties[name])
        elif isinstance(branch.get("additionalProperties"), dict):
            found.append(branch["additionalProperties"])
    if not found:
        return None
    return found[0] if len(found) == 1 else {"anyOf": found}


def items_schema(schema: Any, index: int = 0) -> dict | None:
    """Return the schema of item `index` of an array schema, or None when it is not described."""
    found: list[dict] = []
    for branch in branches(schema):
        prefix = branch.get("prefixItems")
        if isinstance(prefix, list) and index < len(prefix):
            found.append(prefix[index])
        elif isinstance(branch.get("items"), dict):
            found.append(branch["items"])
    if not found:
        return None
    return found[0] if len(found) == 1 else {"anyOf": found}


def enum_values(schema: dict) -> list | None:
    """Return the allowed string values when every string alternative is an enum or const."""
    values: list = []
    for branch in branches(schema):
        if "string" not in (kinds(branch) or {"string"}):
            continue
        if "const" in branch:
            values.append(branch["const"])
        elif "enum" in branch:
            values.extend(value for value in branch["enum"] if value is not None)
        else:
            return None
    return values or None


def string_format(schema: dict) -> str | None:
    """Return the one format all string alternatives share, or None."""
    formats = {
        branch.get("format")
        for branch in branches(schema)
        if "string" in (kinds(branch) or {"string"})
    }
    return formats.pop() if len(formats) == 1 else None
