"""Assemble one catalog entry from the seed, the spec operation(s) and the overrides."""

from __future__ import annotations

import copy
import re
from typing import Any

from ...ratelimit import nearest_tier
from ..examples import example_value, generate_input
from .enrich import enrich_field, enrich_query
from .flatten import Field, Flattener
from .naming import title_from_key
from .outputs import data_schema, envelope, merge
from .overrides import OVERRIDES
from .seedmatch import match
from .sources import MappedOperation, SeedAction
from .spec import Operation, Spec, one_line
from .vocabulary import FIELD_DESCRIPTIONS, ID_EXAMPLES

_CONSENT_WORDS = ("SUBSCRIBE", "SUPPRESS")
PROFILE_IDENTIFIERS = ("email", "phone_number", "external_id", "profile_id", "anonymous_id")


def build_action(spec: Spec, seed: SeedAction, mapped: list[MappedOperation]) -> dict[str, Any]:
    """Return the catalog entry (plain JSON data) of one action."""
    override = OVERRIDES.get(seed.key, {})
    operations = [spec.operations[m.operation_id] for m in mapped]
    for m, op in zip(mapped, operations, strict=True):
        if (m.method, m.path) != (op.method, op.path):
            raise ValueError(f"{seed.key}: the map says {m.method} {m.path}, the spec {op.path}")
    variants_config = override.get("variants")
    if variants_config:
        fields, templates, operations = _variants(spec, operations, variants_config)
    else:
        fields, template = Flattener(spec, operations[0]).run()
        templates = {"": template}
    fields = _restructure(fields, override)
    _enrich(fields, operations, seed)
    _apply_changes(fields, override)
    if any(f.name == "page_cursor" for f in fields):
        fields.extend(_pagination_fields())
    for template in templates.values():
        template["bindings"] = {f.name: f.bindings for f in fields if _binds(f, template)}
        defaults = {
            f.name: f.schema["default"]
            for f in fields
            if f.bindings
            and "default" in f.schema
            and f.name in override.get("fields", {})
            and override["fields"][f.name].get("required") is False
        }
        if defaults:
            template["defaults"] = defaults
    input_schema = _input_schema(fields, override)
    entry: dict[str, Any] = {
        "key": seed.key,
        "title": title_from_key(seed.key),
        "description": seed.description,
        "category": operations[0].tag,
        "operation_ids": [op.operation_id for op in operations],
        "method": operations[0].method,
        "scopes": sorted({s for op in operations for s in op.raw.get("x-klaviyo-scopes", [])}),
        "rate_limit": _rate_limit(spec, operations),
        "side_effect": side_effect(seed.key, operations[0].method, override),
        "paginates": any(f.name == "page_cursor" for f in fields),
        "client_side": operations[0].path.startswith("/client/"),
        "composite": override.get("composite"),
        "input_schema": input_schema,
        "output_schema": envelope(_output(spec, operations, override)),
    }
    if variants_config:
        entry["path"] = operations[0].path.rsplit("/", 1)[0] + "/{" + variants_config["field"] + "}"
        entry["variant_field"] = variants_config["field"]
        entry["variants"] = templates
    else:
        entry["path"] = operations[0].path
        entry["request"] = templates[""]
    return entry


def share_id_examples(entries: list[dict[str, Any]]) -> None:
    """Give id fields without an example the one another action has (`list_id`: `Y6nRLr`).

    Klaviyo's spec shows example ids on some operations only; realistic ids everywhere make the
    generated example inputs (and the editor's suggestions) read like real ones.
    """
    known: dict[str, Any] = dict(ID_EXAMPLES)
    for entry in sorted(entries, key=lambda e: e["key"]):
        for name, schema in entry["input_schema"]["properties"].items():
            if name.endswith("_id") and schema.get("examples") and name not in known:
                known[name] = schema["examples"][0]
    for entry in entries:
        schema = entry["input_schema"]
        for name, sub in schema["properties"].items():
            single = name.removesuffix("s") if name.endswith("_ids") else name
            placeholder = sub.get("examples") in (None, ["example"], [["example"]])
            if single not in known or not placeholder or not single.endswith("_id"):
                continue
            sub["examples"] = [[known[single]] if name.endswith("_ids") else known[single]]
        schema["examples"] = [generate_input({**schema, "examples": []})]


def _binds(field: Field, template: dict[str, Any]) -> bool:
    """Whether `field`'s bindings belong to this variant's template (all, for plain actions)."""
    variant = field.origin.split("@", 1)[1] if "@" in field.origin else None
    return bool(field.bindings) and (variant is None or variant == template["operation_id"])


def _variants(
    spec: Spec, operations: list[Operation], config: dict[str, Any]
) -> tuple[list[Field], dict[str, dict[str, Any]], list[Operation]]:
    by_key = {op.path.rstrip("/").rsplit("/", 1)[-1]: op for op in operations}
    allowed = config["allowed"]
    chosen = [by_key[key] for key in allowed]
    merged: dict[str, Field] = {}
    seen_in: dict[str, list[str]] = {}
    per_variant: dict[str, list[Field]] = {}
    templates: dict[str, dict[str, Any]] = {}
    for key, op in zip(allowed, chosen, strict=True):
        fields, template = Flattener(spec, op).run()
        templates[key] = template
        for f in fields:
            if config.get("ids_field") and f.bindings and f.bindings[0].get("body") == ["data"]:
                f.name = config["ids_field"]
        per_variant[key] = fields
        for f in fields:
            seen_in.setdefault(f.name, []).append(key)
            if f.name not in merged:
                merged[f.name] = Field(f.name, f.schema, f.required, [], f.origin)
            merged[f.name].required = merged[f.name].required and f.required
    result: list[Field] = []
    for name, f in merged.items():
        keys = seen_in[name]
        if len(keys) < len(allowed):
            f.required = False
            # Appended once descriptions are final (the seed's wording may replace the spec's).
            f.schema["x-note"] = f"Only used when {config['field']} is {' or '.join(keys)}."
        result.append(f)
    # Each variant keeps its own bindings: store them per operation id on a shadow field.
    for key, fields in per_variant.items():
        op_id = templates[key]["operation_id"]
        for f in fields:
            result.append(Field(f.name, f.schema, False, f.bindings, f"{f.origin}@{op_id}"))
    selector = {
        "type": "string",
        "enum": list(allowed),
        "description": config.get("description", ""),
    }
    if len(allowed) == 1:
        selector["default"] = allowed[0]
    result.insert(0, Field(config["field"], selector, len(allowed) > 1, [], "variant"))
    return result, templates, chosen


def _restructure(fields: list[Field], override: dict[str, Any]) -> list[Field]:
    """Rename, drop and add fields as the override says (before descriptions are chosen)."""
    renames = override.get("rename", {})
    for f in fields:
        f.name = renames.get(f.name, f.name)
    dropped = set(override.get("drop_fields", []))
    fields = [f for f in fields if f.name not in dropped]
    for name, extra in override.get("add_fields", {}).items():
        schema = copy.deepcopy(extra["schema"])
        bindings = copy.deepcopy(extra.get("bindings", []))
        fields.append(Field(name, schema, extra.get("required", False), bindings, "override"))
    return fields


def _apply_changes(fields: list[Field], override: dict[str, Any]) -> None:
    """Apply per-field changes last, so they win over the spec and the seed."""
    for name in override.get("items_identify_profile", []):
        for f in fields:
            if f.name == name:
                items = f.schema["items"]
                present = [n for n in (*PROFILE_IDENTIFIERS, "id") if n in items["properties"]]
                items["description"] = _identify_note(present, "Each item")
    for name, change in override.get("fields", {}).items():
        matching = [f for f in fields if f.name == name]
        if not matching:
            raise ValueError(f"override names unknown field {name!r}")
        for f in matching:
            if "required" in change:
                f.required = change["required"]
            f.schema = {**f.schema, **copy.deepcopy(change.get("schema", {}))}
            if "description" in change:
                f.schema["description"] = change["description"]


def _enrich(fields: list[Field], operations: list[Operation], seed: SeedAction) -> None:
    raw = operations[0].raw
    for f in fields:
        f.schema = enrich_field(f.name, f.schema)
        if f.origin.startswith("query:"):
            enrich_query(f.name, f.schema, raw)
    public = {}
    for f in fields:
        public.setdefault(f.name, f.schema)
    matched = match(seed.params, public)
    for f in fields:
        if f.name in matched and f.origin != "variant":
            f.schema["description"] = matched[f.name]
        if not f.schema.get("description"):
            f.schema["description"] = _fallback_description(f)
        description = f.schema["description"].rstrip()
        note = f.schema.pop("x-note", "")
        if note:
            description = description.rstrip(".") + ". " + note
        f.schema["description"] = one_line(description)


def _fallback_description(f: Field) -> str:
    if f.name in FIELD_DESCRIPTIONS:
        return FIELD_DESCRIPTIONS[f.name]
    words = f.name.removesuffix("_ids").removesuffix("_id").replace("_", " ")
    if f.name.endswith("_ids"):
        plural = words[:-1] + "ies" if words.endswith("y") else words + "s"
        return f"Ids of the {plural}."
    if f.name.endswith("_id"):
        return f"Id of the {words}."
    return words.capitalize() + "."


def _input_schema(fields: list[Field], override: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for f in fields:
        if "@" in f.origin:
            continue
        if f.name in properties:
            raise ValueError(f"field {f.name!r} defined twice")
        properties[f.name] = f.schema
        if f.required:
            required.append(f.name)
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    alternatives = _alternatives(properties, override)
    if alternatives:
        schema["anyOf"] = [{"required": names} for names in alternatives]
    if override.get("identify_profile"):
        present = [name for name in PROFILE_IDENTIFIERS if name in properties]
        schema["description"] = _identify_note(present, "The profile")
    for name, sub in properties.items():
        # Required structured fields carry an example the editor and outside checks can use.
        wanted = name in required or any(name in alt for alt in alternatives)
        kinds = sub.get("type") if isinstance(sub.get("type"), list) else [sub.get("type")]
        structured = "object" in kinds or "array" in kinds or "anyOf" in sub
        if (wanted and structured or name == "timeframe") and "examples" not in sub:
            sub["examples"] = [example_value(sub)]
    schema["examples"] = [generate_input(schema)]
    return schema


def _pagination_fields() -> list[Field]:
    """Return the fields that make a list action follow `links.next` (run_action reads them)."""
    return [
        Field(
            "fetch_all",
            {
                "type": "boolean",
                "default": False,
                "description": "Follow every page of results instead of returning only the first.",
            },
            False,
            [],
            "pagination",
        ),
        Field(
            "max_items",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": 100000,
                "default": 1000,
                "description": "With fetch_all, stop after this many items.",
            },
            False,
            [],
            "pagination",
        ),
    ]


def _alternatives(properties: dict[str, Any], override: dict[str, Any]) -> list[list[str]]:
    return [list(names) for names in override.get("any_of", [])]


def _identify_note(identifiers: list[str], subject: str) -> str:
    """Say that Klaviyo needs an identifier, without making the schema demand one.

    Klaviyo rejects a profile it cannot identify, but its spec marks no identifier as
    required; a spec-valid request stays buildable and Klaviyo's own 400 explains the rest.
    """
    return f"{subject} needs at least one of: {', '.join(identifiers)}."


def _output(spec: Spec, operations: list[Operation], override: dict[str, Any]) -> Any:
    if "output" in override:
        return copy.deepcopy(override["output"])
    shapes = []
    for op in operations:
        node = spec.success_schema(op)
        shapes.append(data_schema(spec, node) if node is not None else None)
    if all(shape is None for shape in shapes):
        return None
    return merge([shape or {"type": "null"} for shape in shapes])


def _per(text: str) -> int:
    return int(text.split("/", 1)[0])


_CONDITIONAL_LIMIT = re.compile(
    r"Rate limits when using the `([^`=]+)=([^`]+)` parameter in your API request: "
    r"Burst: `(\d+)/s` Steady: `(\d+)/m`"
)


def _allowed_value(param: dict[str, Any] | None, value: str) -> str:
    """Return `value` as the parameter's enum spells it (the prose says `include=list`)."""
    schema = (param or {}).get("schema", {})
    allowed = schema.get("items", schema).get("enum") or []
    return f"{value}s" if value not in allowed and f"{value}s" in allowed else value


def _rate_limit(spec: Spec, operations: list[Operation]) -> dict[str, Any]:
    limits = []
    conditions: dict[tuple[str, str], dict[str, Any]] = {}
    for op in operations:
        spec_params = {p["name"]: p for p in spec.parameters(op)}
        raw = op.raw.get("x-klaviyo-ratelimit", {})
        limits.append(
            (
                _per(raw["burst"]),
                _per(raw["steady"]),
                _per(raw["daily"]) if "daily" in raw else None,
            )
        )
        # Some parameters cost more (`additional-fields[list]=profile_count` drops get_list to
        # 1/s): the spec says so only in prose, so read it from there.
        description = one_line(op.raw.get("description"))
        for param, value, burst, steady in _CONDITIONAL_LIMIT.findall(description):
            value = _allowed_value(spec_params.get(param), value)
            conditions[(param, value)] = {
                "param": param,
                "value": value,
                "tier": nearest_tier(int(burst)),
                "burst": int(burst),
                "steady": int(steady),
            }
    # Variants of one action may differ: budget for the strictest.
    burst, steady, daily = min(limits, key=lambda limit: (limit[0], limit[1]))
    limit: dict[str, Any] = {
        "tier": nearest_tier(burst),
        "burst": burst,
        "steady": steady,
        "daily": daily,
    }
    if conditions:
        limit["conditions"] = [conditions[key] for key in sorted(conditions)]
    return limit


def side_effect(key: str, method: str, override: dict[str, Any]) -> str:
    """Classify what running the action does: read, write, destructive, send or consent."""
    if "side_effect" in override:
        return override["side_effect"]
    if method == "GET" or key.startswith("KLAVIYO_QUERY_"):
        return "read"
    if any(word in key for word in _CONSENT_WORDS):
        return "consent"
    if method == "DELETE":
        return "destructive"
    return "write"
