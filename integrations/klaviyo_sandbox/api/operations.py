"""The generated operation table (operations.json), loaded once per process.

See `opsgen` for what each entry holds. Everything here is read-only data.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

OPERATIONS_PATH = Path(__file__).resolve().parent / "operations.json"


@cache
def table() -> dict[str, Any]:
    """Return the whole table: `operations`, `resources`, `$defs`, `revision`."""
    return json.loads(OPERATIONS_PATH.read_text())


def operations() -> dict[str, dict[str, Any]]:
    """Return every operation entry by operation id."""
    return table()["operations"]


def operation(op_id: str) -> dict[str, Any]:
    """Return one operation entry; raise KeyError for an unknown id."""
    return table()["operations"][op_id]


def resource(kind: str) -> dict[str, Any]:
    """Return the shape of a resource type (defaults, timestamps, relationships), or `{}`."""
    return table()["resources"].get(kind, {})


def relationship_target(kind: str, name: str) -> dict[str, Any] | None:
    """Return `{"type", "many"}` for relationship `name` of `kind` per the spec, or None."""
    return resource(kind).get("relationships", {}).get(name)


def single_path(kind: str) -> str | None:
    """Return the `/api/<collection>/{id}` path of a type, if Klaviyo serves single GETs."""
    return resource(kind).get("path")


def defs() -> dict[str, Any]:
    """Return the shared JSON Schema definitions request bodies refer to."""
    return table()["$defs"]
