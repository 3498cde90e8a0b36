"""The catalog of Klaviyo actions: load the generated data once, look actions up, search them.

The data files in `data/` are written by `python manage.py klaviyo_codegen`; this module only
reads them (no Django needed), so the worker, the sandbox and scripts share one loader.
"""

from __future__ import annotations

import difflib
import json
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .types import UnknownAction

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True, slots=True)
class RateLimitCondition:
    """A stricter limit Klaviyo applies when a query parameter holds a value."""

    param: str
    value: str
    tier: str
    burst: int
    steady: int


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Klaviyo's limits for an action: `burst` per second, `steady` per minute, `daily` per day.

    `tier` names the closest published tier (XS, S, M, L, XL); the numbers are the action's own.
    `conditions` are stricter limits for costly parameters (`additional-fields[list]=
    profile_count` takes get_list from 75/s to 1/s); see `for_query`.
    """

    tier: str
    burst: int
    steady: int
    daily: int | None = None
    conditions: tuple[RateLimitCondition, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RateLimit:
        """Build the limits from catalog JSON."""
        conditions = tuple(RateLimitCondition(**c) for c in data.get("conditions", ()))
        return cls(data["tier"], data["burst"], data["steady"], data.get("daily"), conditions)

    def for_query(self, query: Mapping[str, str]) -> RateLimit:
        """Return the limits that apply to a request with this query (the strictest that hold)."""
        applying = [c for c in self.conditions if c.value in query.get(c.param, "").split(",")]
        if not applying:
            return self
        strictest = min(applying, key=lambda c: (c.burst, c.steady))
        return RateLimit(strictest.tier, strictest.burst, strictest.steady, self.daily)

    def to_dict(self) -> dict[str, Any]:
        """Return the limits as plain JSON data."""
        data: dict[str, Any] = {
            "tier": self.tier,
            "burst": self.burst,
            "steady": self.steady,
            "daily": self.daily,
        }
        if self.conditions:
            data["conditions"] = [
                {
                    "param": c.param,
                    "value": c.value,
                    "tier": c.tier,
                    "burst": c.burst,
                    "steady": c.steady,
                }
                for c in self.conditions
            ]
        return data


@dataclass(frozen=True, slots=True)
class Action:
    """One catalog entry. Schemas and templates are shared data: treat them as read-only.

    `request` is the request template of a plain action; `{related_resource}`-style actions have
    `variant_field` and one template per allowed value in `variants` instead. `composite` names
    the handler in `composites.COMPOSITES` for inputs one request cannot serve.
    """

    key: str
    title: str
    description: str
    category: str
    method: str
    path: str
    operation_ids: tuple[str, ...]
    scopes: tuple[str, ...]
    rate_limit: RateLimit
    side_effect: str
    paginates: bool
    client_side: bool
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    composite: str | None = None
    request: dict[str, Any] | None = None
    variant_field: str | None = None
    variants: dict[str, dict[str, Any]] | None = None
    search_text: str = field(default="", repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Action:
        """Build an Action from its catalog JSON."""
        text = " ".join((data["key"], data["title"], data["category"], data["description"])).lower()
        return cls(
            key=data["key"],
            title=data["title"],
            description=data["description"],
            category=data["category"],
            method=data["method"],
            path=data["path"],
            operation_ids=tuple(data["operation_ids"]),
            scopes=tuple(data["scopes"]),
            rate_limit=RateLimit.from_dict(data["rate_limit"]),
            side_effect=data["side_effect"],
            paginates=data["paginates"],
            client_side=data["client_side"],
            input_schema=data["input_schema"],
            output_schema=data["output_schema"],
            composite=data.get("composite"),
            request=data.get("request"),
            variant_field=data.get("variant_field"),
            variants=data.get("variants"),
            search_text=text.replace("_", " "),
        )

    @property
    def required_fields(self) -> tuple[str, ...]:
        """Return the names of the input fields that must always be given."""
        return tuple(self.input_schema.get("required", ()))

    def templates(self) -> dict[str, dict[str, Any]]:
        """Return variant value -> request template (`{"": template}` for plain actions)."""
        if self.variants is not None:
            return self.variants
        return {"": self.request} if self.request is not None else {}

    def to_dict(self, *, schemas: bool = True) -> dict[str, Any]:
        """Return the action as JSON data (what `klaviyo_actions --json` prints)."""
        data: dict[str, Any] = {
            "key": self.key,
            "title": self.title,
            "description": self.description,
            "category": self.category,
            "method": self.method,
            "path": self.path,
            "operation_ids": list(self.operation_ids),
            "scopes": list(self.scopes),
            "rate_limit": self.rate_limit.to_dict(),
            "side_effect": self.side_effect,
            "paginates": self.paginates,
            "client_side": self.client_side,
            "composite": self.composite,
        }
        if self.variants is not None:
            data["variant_field"] = self.variant_field
            data["variants"] = {
                value: {"method": t["method"], "path": t["path"], "operation_id": t["operation_id"]}
                for value, t in self.variants.items()
            }
        if schemas:
            data["input_schema"] = self.input_schema
            data["output_schema"] = self.output_schema
        return data


class _Catalog:
    """Every action by key, loaded on first use and kept for the life of the process."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._actions: dict[str, Action] | None = None
        self._lock = threading.Lock()

    @property
    def actions(self) -> dict[str, Action]:
        """Return every action by key, loading the data files on first use."""
        if self._actions is None:
            with self._lock:
                if self._actions is None:
                    self._actions = self._load()
        return self._actions

    def _load(self) -> dict[str, Action]:
        files = sorted(self.data_dir.glob("*.json"))
        if not files:
            raise RuntimeError(
                f"The Klaviyo catalog is missing in {self.data_dir}; "
                "run `python manage.py klaviyo_codegen`"
            )
        actions: dict[str, Action] = {}
        for path in files:
            document = _share(json.loads(path.read_text(encoding="utf-8")))
            for entry in document["actions"]:
                action = Action.from_dict(entry)
                actions[action.key] = action
        return dict(sorted(actions.items()))


def _share(value: Any) -> Any:
    """Return `value` with every repeated string (keys, types, descriptions) held once.

    The 225 actions repeat the same schema words and descriptions many times: one copy of each
    takes the loaded catalog from about 10 MB to about 6 MB in every process. Only strings are
    shared; lists and objects stay apart, so changing a copy of one part never changes another.
    """
    if isinstance(value, str):
        return sys.intern(value)
    if isinstance(value, dict):
        return {sys.intern(key): _share(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_share(item) for item in value]
    return value


_CATALOG = _Catalog(DATA_DIR)


def _normalise(key: str) -> str:
    key = key.strip().upper().replace("-", "_").replace(" ", "_")
    return key if key.startswith("KLAVIYO_") else f"KLAVIYO_{key}"


def all_actions() -> dict[str, Action]:
    """Return key -> Action for the whole catalog (sorted by key)."""
    return _CATALOG.actions


def get_action(key: str) -> Action:
    """Return the action with this key (`KLAVIYO_ADD_PROFILE_TO_LIST`; case and prefix optional).

    Raise UnknownAction (a KeyError) naming close matches when there is none.
    """
    actions = _CATALOG.actions
    found = actions.get(key) or actions.get(_normalise(key))
    if found is None:
        close = difflib.get_close_matches(_normalise(key), list(actions), n=3, cutoff=0.75)
        raise UnknownAction(key, close)
    return found


def categories() -> list[str]:
    """Return the category names, sorted."""
    return sorted({action.category for action in _CATALOG.actions.values()})


def list_actions(category: str | None = None, query: str | None = None) -> list[Action]:
    """Return actions in `category` matching every word of `query`, best matches first.

    Both are case-insensitive; the query searches key, title, description and category, so
    "list" finds "Add Profile To List". The title itself sorts first, then titles that start
    with the query, then other title matches (shorter first), then description-only matches.
    """
    actions: list[Action] = list(_CATALOG.actions.values())
    if category:
        wanted = category.strip().lower().replace("_", " ")
        actions = [a for a in actions if a.category.lower() == wanted]
    words = (query or "").lower().replace("_", " ").split()
    if not words:
        return actions
    hits = [a for a in actions if all(word in a.search_text for word in words)]

    phrase = " ".join(words)

    def rank(action: Action) -> tuple[int, int, str]:
        title = action.title.lower()
        if title == phrase:
            tier = 0
        elif title.startswith(phrase):
            tier = 1
        elif all(word in title for word in words):
            tier = 2
        else:
            return (3, 0, action.key)
        return (tier, len(title), action.key)

    return sorted(hits, key=rank)
