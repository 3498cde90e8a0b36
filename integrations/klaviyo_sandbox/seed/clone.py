"""Create resources with given ids as copies of the demo store's (for `seed_showcase`).

A copy keeps the template's attributes, links (list members, tags) and children (a campaign's
message, a flow's actions and messages, an item's variants, a coupon's codes), so it reads and
behaves like the demo resource it came from. Values Klaviyo keeps unique (emails, external ids,
tag names) are rewritten from the new id. Types the demo store has none of (finished bulk jobs)
are written from scratch.
"""

from __future__ import annotations

import copy
import uuid
from datetime import datetime, timedelta
from typing import Any

from integrations.klaviyo_sandbox import ids
from integrations.klaviyo_sandbox.api.relations import RELATIONS
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxLink, SandboxResource

# Children copied along with their parent (a few of each is enough to read them).
_CLONED_CHILDREN = {
    "campaign-message",
    "flow-action",
    "flow-message",
    "catalog-variant",
    "coupon-code",
    "form-version",
}
_CHILDREN: dict[str, list[tuple[str, str]]] = {}
_PARENT: dict[str, tuple[str, str]] = {}
for (_owner, _name), _rel in RELATIONS.items():
    if _rel.mode == "children" and _rel.target in _CLONED_CHILDREN and _rel.via:
        _CHILDREN.setdefault(_owner, []).append((_rel.target, _rel.via))
        _PARENT[_rel.target] = (_owner, _rel.via)
_CATALOG_TYPES = {"catalog-item", "catalog-variant", "catalog-category"}
_CATALOG_PREFIX = "$custom:::$default:::"
_CHILDREN_PER_PARENT = 2
_EVENTS_PER_METRIC = 50
_SCHEDULE_AHEAD = timedelta(days=30)


class Cloner:
    """Queue copies of demo resources under new ids, then write them in bulk."""

    def __init__(self, account: SandboxAccount, now: datetime) -> None:
        self.account = account
        self.now = now
        self.resources: list[SandboxResource] = []
        self.links: list[SandboxLink] = []
        self.taken: set[tuple[str, str]] = set()

    # -- entry point ---------------------------------------------------------------------------

    def ensure(self, kind: str, resource_id: str, states: set[str]) -> None:
        """Make sure a `kind` resource with this id exists, in the states asked for."""
        if not self._exists(kind, resource_id):
            template = self._template(kind)
            if template is None:
                self._synthesize(kind, resource_id)
            elif kind in _PARENT:
                self._clone_under_new_root(template, resource_id)
            else:
                self._clone_tree(template, resource_id, None, {})
        if kind == "campaign":
            self._campaign_states(resource_id, states)

    def save(self) -> int:
        """Write every queued row; return how many resources were created."""
        SandboxResource.objects.bulk_create(self.resources, batch_size=500)
        SandboxLink.objects.bulk_create(self.links, batch_size=500, ignore_conflicts=True)
        return len(self.resources)

    # -- finding templates ---------------------------------------------------------------------

    def _exists(self, kind: str, resource_id: str) -> bool:
        if (kind, resource_id) in self.taken:
            return True
        return SandboxResource.objects.filter(
            account=self.account, type=kind, resource_id=resource_id
        ).exists()

    def _demo(self, kind: str) -> list[SandboxResource]:
        rows = SandboxResource.objects.filter(account=self.account, type=kind)
        return list(rows.order_by("created", "pk")[:200])

    def _template(self, kind: str) -> SandboxResource | None:
        candidates = self._demo(kind)
        preferred = [c for c in candidates if self._suits(self._root(c))]
        return (preferred or candidates or [None])[0]

    def _suits(self, res: SandboxResource) -> bool:
        """Whether a demo resource can stand for any action: unsent, non-default, with parts."""
        if res.type == "campaign":
            return not res.internal.get("send")
        if res.type == "tag-group":
            return not res.attributes.get("default")
        if res.type == "tag":
            group = self._get("tag-group", res.relationships.get("tag-group"))
            return group is not None and not group.attributes.get("default")
        if res.type == "flow-action":
            return bool(self._children_of(res, "flow-message", "flow-action"))
        return True

    def _root(self, res: SandboxResource) -> SandboxResource:
        while res.type in _PARENT:
            parent_kind, via = _PARENT[res.type]
            parent = self._get(parent_kind, res.relationships.get(via))
            if parent is None:
                break
            res = parent
        return res

    def _get(self, kind: str, resource_id: Any) -> SandboxResource | None:
        if not resource_id:
            return None
        return SandboxResource.objects.filter(
            account=self.account, type=kind, resource_id=str(resource_id)
        ).first()

    def _children_of(self, res: SandboxResource, kind: str, via: str) -> list[SandboxResource]:
        rows = SandboxResource.objects.filter(account=self.account, type=kind)
        return list(rows.filter(**{f"relationships__{via}": res.resource_id}).order_by("pk"))

    # -- copying -------------------------------------------------------------------------------

    def _clone_under_new_root(self, template: SandboxResource, resource_id: str) -> None:
        """Copy a child's whole family under a fresh root, the child taking `resource_id`."""
        root = self._root(template)
        root_id = self._new_id(root.type)
        if template.type == "coupon-code":
            root_id = resource_id.partition("-")[0]  # a code's id starts with its coupon's
        self._clone_tree(root, root_id, None, {template.resource_id: resource_id})

    def _clone_tree(
        self,
        template: SandboxResource,
        resource_id: str,
        parent: tuple[str, str] | None,
        overrides: dict[str, str],
    ) -> None:
        relationships = copy.deepcopy(template.relationships)
        if parent:
            relationships[parent[0]] = parent[1]
        res = self._queue(
            template.type,
            copy.deepcopy(template.attributes),
            resource_id,
            relationships=relationships,
            internal=copy.deepcopy(template.internal),
        )
        _make_unique(res)
        self._copy_links(template, res)
        if template.type == "metric":
            self._copy_events(template, resource_id)
        for kind, via in _CHILDREN.get(template.type, []):
            kids = self._children_of(template, kind, via)
            chosen = kids[:_CHILDREN_PER_PARENT] + [
                k for k in kids[_CHILDREN_PER_PARENT:] if k.resource_id in overrides
            ]
            for kid in chosen:
                kid_id = overrides.get(kid.resource_id) or self._child_id(kid, resource_id)
                self._clone_tree(kid, kid_id, (via, resource_id), overrides)

    def _copy_events(self, metric: SandboxResource, metric_id: str) -> None:
        """Give a metric copy the template's latest events, so aggregates and reports count."""
        rows = SandboxResource.objects.filter(
            account=self.account, type="event", relationships__metric=metric.resource_id
        )
        for event in rows.order_by("-created")[:_EVENTS_PER_METRIC]:
            attributes = {**event.attributes, "uuid": str(uuid.uuid4())}
            relationships = {**event.relationships, "metric": metric_id}
            self._queue(
                "event",
                attributes,
                ids.new_id("event"),
                relationships=relationships,
                internal={"showcase": True},
                created=event.created,
            )

    def _child_id(self, kid: SandboxResource, parent_id: str) -> str:
        if kid.type == "coupon-code":
            return f"{parent_id}-{kid.attributes.get('unique_code')}"
        return self._new_id(kid.type)

    def _new_id(self, kind: str) -> str:
        if kind in _CATALOG_TYPES:
            return f"{_CATALOG_PREFIX}SHOWCASE-{ids.short_id(8).upper()}"
        if kind == "coupon":
            return f"SHOWCASE{ids.short_id(4).upper()}"
        return ids.new_id(kind)

    def _copy_links(self, template: SandboxResource, res: SandboxResource) -> None:
        rows = SandboxLink.objects.filter(account=self.account)
        for row in rows.filter(src_type=template.type, src_id=template.resource_id):
            self._link(res.type, res.resource_id, row.rel, row.dst_type, row.dst_id)
        for row in rows.filter(dst_type=template.type, dst_id=template.resource_id):
            self._link(row.src_type, row.src_id, row.rel, res.type, res.resource_id)

    def _link(self, src_type: str, src_id: str, rel: str, dst_type: str, dst_id: str) -> None:
        self.links.append(
            SandboxLink(
                account=self.account,
                src_type=src_type,
                src_id=src_id,
                rel=rel,
                dst_type=dst_type,
                dst_id=dst_id,
                created=self.now,
            )
        )

    def _queue(
        self,
        kind: str,
        attributes: dict[str, Any],
        resource_id: str,
        *,
        relationships: dict[str, Any] | None = None,
        internal: dict[str, Any] | None = None,
        created: datetime | None = None,
    ) -> SandboxResource:
        res = SandboxResource(
            account=self.account,
            type=kind,
            resource_id=resource_id,
            attributes=attributes,
            relationships=relationships or {},
            internal=internal or {},
            created=created or self.now,
            updated=created or self.now,
        )
        self.resources.append(res)
        self.taken.add((kind, resource_id))
        return res

    # -- states and made-up resources ----------------------------------------------------------

    def _campaign_states(self, campaign_id: str, states: set[str]) -> None:
        queued = (r for r in self.resources if (r.type, r.resource_id) == ("campaign", campaign_id))
        campaign = next(queued, None)
        if campaign is None:  # a demo campaign: leave it as it is
            return
        if "scheduled" in states:
            # A send far ahead: still cancellable whenever the action runs.
            at = self.now + _SCHEDULE_AHEAD
            campaign.internal["send"] = {"at": at.isoformat(), "seconds": 1, "scheduled": True}
            seconds = _SCHEDULE_AHEAD.total_seconds() + 1
            self._job("campaign-send-job", campaign_id, seconds=seconds, created=self.now)
        if "send-job" in states:
            sent = self.now - timedelta(hours=1)
            campaign.internal["send"] = {"at": sent.isoformat(), "seconds": 1, "scheduled": False}
            self._job("campaign-send-job", campaign_id, created=sent)
        if "estimation-job" in states:
            self._job("campaign-recipient-estimation-job", campaign_id)

    def _job(
        self,
        kind: str,
        resource_id: str,
        *,
        seconds: float = 0,
        created: datetime | None = None,
        relationships: dict[str, Any] | None = None,
        failed: int = 0,
    ) -> SandboxResource:
        internal = {"seconds": seconds, "total": 1, "failed": failed, "skipped": 0, "errors": []}
        return self._queue(
            kind,
            {},
            resource_id,
            relationships=relationships,
            internal=internal,
            created=created or self.now - timedelta(hours=1),
        )

    def _synthesize(self, kind: str, resource_id: str) -> None:
        """Write a finished bulk job (the demo store holds none) with what its reads follow."""
        if kind != "profile-bulk-import-job":
            self._job(kind, resource_id)
            return
        lists = self._demo("list")[:1]
        profiles = [p for lst in lists for p in self._members(lst)][:3]
        error = self._queue(
            "import-error",
            {
                "code": "invalid",
                "title": "Invalid input.",
                "detail": "Invalid email address",
                "source": {"pointer": "/data/attributes/profiles/data/1/attributes/email"},
                "original_payload": {"email": "not-an-email"},
            },
            ids.new_id("import-error"),
        )
        relationships = {
            "lists": [lst.resource_id for lst in lists],
            "profiles": profiles,
            "import-errors": [error.resource_id],
        }
        self._job(kind, resource_id, relationships=relationships, failed=1)

    def _members(self, lst: SandboxResource) -> list[str]:
        rows = SandboxLink.objects.filter(
            account=self.account, src_type="list", src_id=lst.resource_id, rel="profiles"
        )
        return list(rows.order_by("pk").values_list("dst_id", flat=True)[:3])


def _make_unique(res: SandboxResource) -> None:
    """Rewrite the values Klaviyo keeps unique from the copy's id, and mark it as a copy."""
    attrs = res.attributes
    if res.type == "profile":
        attrs.update(email=f"{res.resource_id.lower()}@showcase.example.com", phone_number=None)
        attrs["external_id"] = None
    elif res.type in _CATALOG_TYPES:
        attrs["external_id"] = res.resource_id.removeprefix(_CATALOG_PREFIX)
        if "sku" in attrs:
            attrs["sku"] = attrs["external_id"]
    elif res.type == "coupon":
        attrs["external_id"] = res.resource_id
    elif res.type == "coupon-code":
        attrs["unique_code"] = res.resource_id.partition("-")[2]
    if res.type in ("tag", "tag-group"):
        # Tag names are unique within their group, tag-group names within the account.
        attrs["name"] = f"{attrs.get('name', 'Tag')} (example {res.resource_id[:8]})"
        if res.type == "tag-group":
            attrs["default"] = False
    elif isinstance(attrs.get("name"), str):
        # Marked, so the demo store still reads as itself (and metric names stay unambiguous).
        attrs["name"] = f"{attrs['name']} (example)"
    res.internal["showcase"] = True
