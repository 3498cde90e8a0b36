"""The commerce and marketing half of the demo store: catalog, templates, campaigns, flows,
tags, and three months of events that tie them together (see `seed`)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from integrations.klaviyo_sandbox.api.context import iso
from integrations.klaviyo_sandbox.api.handlers.account import default_tag_group
from integrations.klaviyo_sandbox.models import SandboxResource
from integrations.klaviyo_sandbox.seed.builder import Builder
from integrations.klaviyo_sandbox.seed.data import CAMPAIGNS, FLOWS, PRODUCTS, SIZES, TEMPLATES

SENDER = {"from_email": "hello@northwind.example.com", "from_label": "Northwind Outfitters"}
STORE_URL = "https://northwind.example.com"
TRACKING = {"add_tracking_params": False, "is_tracking_clicks": True, "is_tracking_opens": True}


def seed_catalog(b: Builder) -> list[SandboxResource]:
    """Queue categories, items (with category links) and variants; return the items."""
    items = []
    for category_name, products in PRODUCTS.items():
        external = category_name.upper()
        category = b.add(
            "catalog-category",
            {"external_id": external, "name": category_name},
            resource_id=f"$custom:::$default:::{external}",
            created=b.days_ago(150, 200),
        )
        for number, (title, price) in enumerate(products, start=1):
            external_id = f"NW-{external[:3]}-{number:03d}"
            slug = title.lower().replace(" ", "-").replace("(", "").replace(")", "")
            image = f"https://images.example.com/northwind/{slug}.jpg"
            item = b.add(
                "catalog-item",
                {
                    "external_id": external_id,
                    "title": title,
                    "description": f"{title} from Northwind Outfitters.",
                    "price": price,
                    "url": f"{STORE_URL}/products/{slug}",
                    "image_full_url": image,
                    "image_thumbnail_url": image.replace(".jpg", "-thumb.jpg"),
                    "images": [image],
                    "custom_metadata": {"category": category_name},
                    "published": True,
                },
                resource_id=f"$custom:::$default:::{external_id}",
                created=b.days_ago(100, 150),
            )
            b.link(category, "items", item, item.created)
            items.append(item)
            for size in SIZES.get(category_name, ["One Size"]):
                variant_id = f"{external_id}-{size.replace(' ', '').upper()}"
                b.add(
                    "catalog-variant",
                    {
                        "external_id": variant_id,
                        "title": f"{title} / {size}",
                        "description": f"{title}, size {size}.",
                        "sku": variant_id,
                        "inventory_policy": 0,
                        "inventory_quantity": b.rng.randint(0, 80),
                        "price": price,
                        "url": f"{STORE_URL}/products/{slug}?size={size}",
                        "image_full_url": image,
                        "image_thumbnail_url": None,
                        "images": [image],
                        "custom_metadata": {},
                        "published": True,
                    },
                    resource_id=f"$custom:::$default:::{variant_id}",
                    relationships={"item": item.resource_id},
                    created=item.created,
                )
    return items


class Events:
    """Queue events and keep each profile's `last_event_date` current."""

    def __init__(self, b: Builder, metrics: dict[str, SandboxResource]) -> None:
        self.b = b
        self.metrics = metrics
        self.latest: dict[str, datetime] = {}

    def add(
        self, metric: str, profile: SandboxResource, at: datetime, props: dict[str, Any]
    ) -> None:
        """Queue one event of `metric` for `profile` at `at`."""
        at = min(at, self.b.now)
        self.b.add(
            "event",
            {
                "timestamp": int(at.timestamp()),
                "event_properties": props,
                "datetime": iso(at),
                "uuid": str(uuid.UUID(int=self.b.rng.getrandbits(128))),
            },
            relationships={
                "metric": self.metrics[metric].resource_id,
                "profile": profile.resource_id,
            },
            created=at,
        )
        if at > self.latest.get(profile.resource_id, at - timedelta(1)):
            self.latest[profile.resource_id] = at

    def finish(self, profiles: list[SandboxResource]) -> None:
        """Write `last_event_date` onto the queued profiles."""
        for profile in profiles:
            if profile.resource_id in self.latest:
                profile.attributes["last_event_date"] = iso(self.latest[profile.resource_id])


def _order(b: Builder, products: list[SandboxResource]) -> dict[str, Any]:
    picked = b.rng.sample(products, b.rng.randint(1, 3))
    value = round(sum(p.attributes["price"] for p in picked), 2)
    return {
        "$value": value,
        "OrderId": f"NW{b.rng.randint(100000, 999999)}",
        "ItemNames": [p.attributes["title"] for p in picked],
        "Items": [
            {"ProductID": p.attributes["external_id"], "ProductName": p.attributes["title"],
             "Quantity": 1, "ItemPrice": p.attributes["price"]}
            for p in picked
        ],
    }  # fmt: skip


def _shopping(
    b: Builder, events: Events, profiles: list[SandboxResource], products: list[SandboxResource]
) -> None:
    for profile in profiles:
        start = max(profile.created, b.now - timedelta(days=90))
        span = max((b.now - start).total_seconds(), 3600)
        for _ in range(b.rng.randint(0, 9)):
            product = b.rng.choice(products)
            at = start + timedelta(seconds=b.rng.uniform(0, span))
            events.add("Viewed Product", profile, at, {
                "ProductName": product.attributes["title"],
                "ProductID": product.attributes["external_id"],
                "Price": product.attributes["price"],
                "URL": product.attributes["url"],
                "Categories": [product.attributes["custom_metadata"]["category"]],
            })  # fmt: skip
        for _ in range(b.rng.choices([0, 1, 2, 3], weights=[40, 35, 17, 8])[0]):
            at = start + timedelta(seconds=b.rng.uniform(0, span))
            order = _order(b, products)
            events.add("Started Checkout", profile, at - timedelta(minutes=20), dict(order))
            if b.rng.random() < 0.75:
                events.add("Placed Order", profile, at, order)


def _email_engagement(
    b: Builder,
    events: Events,
    audience: list[SandboxResource],
    sent: datetime,
    tracking: dict[str, Any],
    products: list[SandboxResource],
) -> None:
    for profile in audience:
        events.add("Received Email", profile, sent, dict(tracking))
        if b.rng.random() < 0.4:
            opened = sent + timedelta(hours=b.rng.uniform(0.1, 40))
            events.add("Opened Email", profile, opened, dict(tracking))
            if b.rng.random() < 0.3:
                clicked = opened + timedelta(minutes=b.rng.uniform(1, 30))
                events.add(
                    "Clicked Email", profile, clicked, {**tracking, "URL": f"{STORE_URL}/sale"}
                )
                if b.rng.random() < 0.35:
                    order = _order(b, products)
                    order["$attributed_message"] = tracking["$message"]
                    if "$flow" in tracking:
                        order["$attributed_flow"] = tracking["$flow"]
                    events.add("Placed Order", profile, clicked + timedelta(minutes=15), order)
        elif b.rng.random() < 0.02:
            events.add(
                "Unsubscribed from Email Marketing",
                profile,
                sent + timedelta(hours=3),
                dict(tracking),
            )


def _members(b: Builder, group: SandboxResource) -> list[SandboxResource]:
    ids = {
        link.dst_id
        for link in b.links
        if link.src_id == group.resource_id and link.rel == "profiles"
    }
    return [r for r in b.resources if r.type == "profile" and r.resource_id in ids]


def _subscribed(profile: SandboxResource) -> bool:
    return profile.attributes["subscriptions"]["email"]["marketing"]["can_receive_email_marketing"]


def seed_marketing(
    b: Builder,
    profiles: list[SandboxResource],
    lists: dict[str, SandboxResource],
    metrics: dict[str, SandboxResource],
    products: list[SandboxResource],
) -> None:
    """Queue templates, campaigns, flows, tags and every event."""
    events = Events(b, metrics)
    _shopping(b, events, profiles, products)
    templates = {
        name: b.add(
            "template",
            {"name": name, "editor_type": "CODE", "html": html, "text": None, "amp": None},
            created=b.days_ago(100, 170),
        )
        for name, html in TEMPLATES.items()
    }
    tags = _tags(b)
    for name, subject, audience_names, days_ago in CAMPAIGNS:
        audience_ids = [lists[n].resource_id for n in audience_names]
        sent = b.now - timedelta(days=days_ago, hours=b.rng.uniform(0, 6)) if days_ago else None
        campaign = _campaign(b, name, audience_ids, sent)
        definition = {
            "channel": "email",
            "label": name,
            "content": {
                "subject": subject,
                "preview_text": "Northwind Outfitters",
                **SENDER,
                "reply_to_email": None,
                "cc_email": None,
                "bcc_email": None,
            },
        }
        message = b.add(
            "campaign-message",
            {
                "definition": definition,
                "send_times": [{"datetime": iso(sent), "is_local": False}] if sent else [],
            },
            relationships={
                "campaign": campaign.resource_id,
                "template": templates["Spring Sale"].resource_id,
            },
            created=campaign.created,
        )
        b.link(tags["Promotional"], "campaigns", campaign, campaign.created)
        if name.startswith("Spring"):
            b.link(tags["Spring"], "campaigns", campaign, campaign.created)
        if not sent:
            continue
        audience = {
            p.resource_id: p
            for n in audience_names
            for p in _members(b, lists[n])
            if _subscribed(p)
        }
        b.add(
            "campaign-send-job",
            {},
            resource_id=campaign.resource_id,
            internal={"seconds": 1, "total": len(audience)},
            created=sent,
        )
        campaign.internal["recipients"] = len(audience)
        tracking = {
            "$message": message.resource_id,
            "Campaign Name": name,
            "Subject": subject,
            "$campaign_channel": "email",
        }
        _email_engagement(b, events, list(audience.values()), sent, tracking, products)
    _flows(b, events, profiles, lists, metrics, templates, tags, products)
    b.link(tags["Newsletter"], "lists", lists["Newsletter"], lists["Newsletter"].created)
    events.finish(profiles)


def _campaign(
    b: Builder, name: str, audience_ids: list[str], sent: datetime | None
) -> SandboxResource:
    internal: dict[str, Any] = {"channel": "email"}
    if sent:
        # A send that finished one second after it started: the campaign reads as Sent.
        internal["send"] = {"at": iso(sent), "seconds": 1, "scheduled": False}
    attributes = {
        "name": name,
        "status": "Draft",
        "archived": False,
        "audiences": {"included": audience_ids, "excluded": []},
        "send_options": {"use_smart_sending": True},
        "tracking_options": dict(TRACKING),
        "send_strategy": {"method": "immediate"},
        "scheduled_at": None,
        "send_time": None,
    }
    created = (sent or b.now) - timedelta(days=3)
    return b.add("campaign", attributes, internal=internal, created=created)


def _tags(b: Builder) -> dict[str, SandboxResource]:
    default = default_tag_group(b.account)
    season = b.add("tag-group", {"name": "Season", "exclusive": True, "default": False})
    groups = {"Promotional": default, "Automation": default, "Newsletter": default}
    groups.update({"Spring": season, "Summer": season})
    return {
        name: b.add("tag", {"name": name}, relationships={"tag-group": group.resource_id})
        for name, group in groups.items()
    }


def _flows(
    b: Builder,
    events: Events,
    profiles: list[SandboxResource],
    lists: dict[str, SandboxResource],
    metrics: dict[str, SandboxResource],
    templates: dict[str, SandboxResource],
    tags: dict[str, SandboxResource],
    products: list[SandboxResource],
) -> None:
    template_for = ["Welcome Email", "Abandoned Checkout", "Order Confirmation"]
    for index, (name, status, trigger_type, trigger, subjects) in enumerate(FLOWS):
        trigger_res = lists.get(trigger) or metrics[trigger]
        flow = b.add(
            "flow",
            {"name": name, "status": status, "archived": False, "trigger_type": trigger_type},
            internal={"trigger_id": trigger_res.resource_id},
            created=b.days_ago(120, 170),
        )
        b.link(tags["Automation"], "flows", flow, flow.created)
        template = templates[template_for[index]]
        for step, subject in enumerate(subjects):
            if step:
                delay = {
                    "id": None,
                    "type": "time-delay",
                    "links": {"next": None},
                    "data": {
                        "unit": "days",
                        "value": 3,
                        "secondary_value": None,
                        "timezone": "profile",
                    },
                }
                b.add(
                    "flow-action",
                    {"definition": delay},
                    relationships={"flow": flow.resource_id},
                    created=flow.created,
                )
            action = b.add(
                "flow-action",
                {"definition": None},
                relationships={"flow": flow.resource_id},
                created=flow.created,
            )
            message = b.add(
                "flow-message",
                {
                    "channel": "email",
                    "definition": {
                        **SENDER,
                        "subject_line": subject,
                        "preview_text": None,
                        "template_id": template.resource_id,
                        "smart_sending_enabled": True,
                        "transactional": False,
                        "add_tracking_params": False,
                        "reply_to_email": None,
                        "cc_email": None,
                        "bcc_email": None,
                    },
                },
                relationships={"flow-action": action.resource_id, "template": template.resource_id},
                internal={"name": subject},
                created=flow.created,
            )
            action.attributes["definition"] = {
                "id": action.resource_id,
                "type": "send-email",
                "links": {"next": None},
                "data": {"message": dict(message.attributes["definition"]), "status": status},
            }
            reached = [p for p in profiles if _subscribed(p) and b.rng.random() < 0.15]
            tracking = {
                "$message": message.resource_id,
                "$flow": flow.resource_id,
                "Subject": subject,
                "$flow_channel": "email",
            }
            for profile in reached:
                _email_engagement(b, events, [profile], b.days_ago(1, 88), tracking, products)
