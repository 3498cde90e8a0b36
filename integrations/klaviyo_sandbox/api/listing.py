"""Filter, sort and paginate lists of resources, and answer collection documents.

Field names in `filter` and `sort` resolve, in order, to: the resource id (`id`, `ids`); a
per-request virtual value (a member's `joined_group_at`); a per-type alias registered by the
handlers (`messages.channel` of a campaign); a relationship (`metric_id`, `item.id`); or a dotted
attribute path (`location.city`, `integration.name`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict

from integrations.klaviyo_sandbox.api import filters, relations
from integrations.klaviyo_sandbox.api.context import Call, Reply, iso
from integrations.klaviyo_sandbox.api.jsonapi import attributes_of, serialize
from integrations.klaviyo_sandbox.api.query import encode_cursor
from integrations.klaviyo_sandbox.models import SandboxResource

SERVED = {"joined_group_at"}  # virtual fields that are also attributes of the served object


def dotted(value: Any, path: str) -> Any:
    """Return the value at a dotted path of nested dicts (None when any step is missing).

    A step through a list of objects collects that member of each (`suppression.reason`).
    """
    for part in path.split("."):
        if isinstance(value, list):
            value = [item.get(part) for item in value if isinstance(item, dict)]
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def getter(
    res: SandboxResource, attrs: dict[str, Any], virtual: dict[str, Any]
) -> Callable[[str], Any]:
    """Return `get(field)` resolving filter/sort field names for one resource."""
    from integrations.klaviyo_sandbox.api.handlers import filter_field

    def get(field: str) -> Any:
        if field in ("id", "ids") or field == f"{res.type}_id":
            return res.resource_id
        if field in virtual:
            return virtual[field]
        alias = filter_field(res.type, field)
        if alias is not None:
            return alias(res, attrs)
        names = [field]
        for suffix in (".id", "_id"):
            if field.endswith(suffix):
                name = field[: -len(suffix)]
                plural = f"{name[:-1]}ies" if name.endswith("y") else f"{name}s"
                names += [name, plural, name.replace("_", "-")]
        for candidate in names:
            rel = relations.relation(res.type, candidate)
            if rel is not None:
                ids = list(relations.related_ids(res, candidate))
                return ids if rel.many else (ids[0] if ids else None)
        return dotted(attrs, field)

    return get


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (3, "")
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float):
        return (0, value)
    parsed = filters.parse_datetime(value)
    if parsed is not None:
        return (1, parsed.timestamp())
    return (2, str(value).lower())


def select(
    call: Call,
    resources: list[SandboxResource] | QuerySet[SandboxResource],
    virtual: dict[str, dict[str, Any]] | None = None,
) -> tuple[list[SandboxResource], dict[int, dict[str, Any]], int | None]:
    """Filter, sort and cut one page; return `(page, served attributes by pk, next offset)`.

    `resources` may be a QuerySet: without filter and sort the page is cut in SQL, so a long
    list (thousands of events) costs only one page of work.
    """
    virtual = virtual or {}
    query = call.query
    if isinstance(resources, QuerySet) and query.filter is None and query.sort is None:
        if query.page_size is None:
            rows = list(resources)
            more = None
        else:
            rows = list(resources[query.offset : query.offset + query.page_size + 1])
            more = query.offset + query.page_size if len(rows) > query.page_size else None
            rows = rows[: query.page_size]
        return rows, {res.pk: attributes_of(res, call.now) for res in rows}, more
    resources = list(resources)
    attrs = {res.pk: attributes_of(res, call.now) for res in resources}
    getters = {
        res.pk: getter(res, attrs[res.pk], virtual.get(res.resource_id, {})) for res in resources
    }
    if query.filter is not None:
        resources = [r for r in resources if filters.evaluate(query.filter, getters[r.pk])]
    if query.sort:
        field = query.sort.lstrip("-")
        resources = sorted(
            resources,
            key=lambda r: _sort_key(getters[r.pk](field)),
            reverse=query.sort.startswith("-"),
        )
    if query.page_size is None:
        return resources, attrs, None
    start, end = query.offset, query.offset + query.page_size
    more = end if end < len(resources) else None
    return resources[start:end], attrs, more


def page_links(call: Call, next_offset: int | None) -> dict[str, str]:
    """Return `links` with `self`, and `next`/`prev` cursors when there are more pages."""
    links = {"self": call.self_link()}
    base = call.request.build_absolute_uri(call.request.path)
    for name, offset in (("next", next_offset), ("prev", _previous(call))):
        if offset is None:
            continue
        params: QueryDict = call.request.GET.copy()
        params["page[cursor]"] = encode_cursor(offset)
        links[name] = f"{base}?{params.urlencode()}"
    return links


def _previous(call: Call) -> int | None:
    if not call.query.offset or not call.query.page_size:
        return None
    return max(0, call.query.offset - call.query.page_size)


def collection(
    call: Call,
    resources: list[SandboxResource] | QuerySet[SandboxResource],
    virtual: dict[str, dict[str, Any]] | None = None,
) -> Reply:
    """Answer a list of resources: filtered, sorted, paginated, with includes."""
    page, attrs, more = select(call, resources, virtual)
    for res in page:
        # Members of a list or segment also carry when they joined (`joined_group_at`).
        served = {k: v for k, v in (virtual or {}).get(res.resource_id, {}).items() if k in SERVED}
        attrs[res.pk].update(served)
    data, included = serialize(call, page, attrs)
    document: dict[str, Any] = {"data": data, "links": page_links(call, more)}
    if call.query.include:
        document["included"] = included
    return Reply(200, document)


def identifiers(
    call: Call,
    target: str,
    resources: list[SandboxResource],
    virtual: dict[str, dict[str, Any]] | None = None,
) -> Reply:
    """Answer a relationship as resource identifiers (`[{"type", "id"}]`), paginated."""
    page, _, more = select(call, resources, virtual)
    data = [{"type": target, "id": res.resource_id} for res in page]
    return Reply(200, {"data": data, "links": page_links(call, more)})


def joined(ids: dict[str, datetime | None]) -> dict[str, dict[str, Any]]:
    """Return per-id virtual fields for link memberships (`joined_group_at`)."""
    return {key: {"joined_group_at": iso(at)} for key, at in ids.items() if at is not None}
