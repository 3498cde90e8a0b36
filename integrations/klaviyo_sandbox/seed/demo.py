"""Fill a sandbox account with a believable demo store, deterministically and fast.

Everything comes from one `random.Random(SEED)`, so two seeded accounts hold the same store
(only ids and "now" differ). Rows are written with `bulk_create`; a full store (300 profiles,
three months of events) takes well under ten seconds on SQLite.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.klaviyo_sandbox import ids
from integrations.klaviyo_sandbox.api.context import iso
from integrations.klaviyo_sandbox.api.handlers.account import DEFAULT_TAG_GROUP
from integrations.klaviyo_sandbox.api.handlers.consent import default_subscriptions
from integrations.klaviyo_sandbox.api.handlers.events import API_INTEGRATION
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxResource
from integrations.klaviyo_sandbox.seed.builder import Builder
from integrations.klaviyo_sandbox.seed.data import (
    CITIES,
    COUPONS,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    LISTS,
    LOYALTY_TIERS,
    METRICS,
    SOURCES,
    STREETS,
    WEBHOOK_TOPICS,
)  # fmt: skip
from integrations.klaviyo_sandbox.seed.showcase import seed_showcase
from integrations.klaviyo_sandbox.seed.store import seed_catalog, seed_marketing
from integrations.klaviyo_sandbox.webhooks import metric_topics_sync

SEED = 20260715
PROFILE_COUNT = 300


def account_basics(account: SandboxAccount) -> None:
    """Create what every Klaviyo account has: webhook topics and the default tag group."""
    builder = Builder(account, timezone.now(), random.Random(SEED))  # noqa: S311 - demo data
    for topic in WEBHOOK_TOPICS:
        builder.add("webhook-topic", {}, resource_id=topic)
    builder.add("tag-group", {"name": DEFAULT_TAG_GROUP, "exclusive": False, "default": True})
    builder.save()


def _subscriptions(b: Builder, email_state: str, sms: bool, at: datetime) -> dict[str, Any]:
    subs = default_subscriptions()
    marketing = subs["email"]["marketing"]
    if email_state != "NEVER_SUBSCRIBED":
        marketing.update(
            consent=email_state,
            can_receive_email_marketing=email_state == "SUBSCRIBED",
            consent_timestamp=iso(at),
            last_updated=iso(at),
            method=b.rng.choice(["FORM", "API", "CHECKOUT"]),
        )
    if sms:
        subs["sms"]["marketing"].update(
            consent="SUBSCRIBED",
            can_receive_sms_marketing=True,
            consent_timestamp=iso(at),
            last_updated=iso(at),
            method="FORM",
        )
    return subs


def seed_profiles(b: Builder) -> list[SandboxResource]:
    """Queue the demo customers with names, locations, properties and consent."""
    profiles = []
    for number in range(PROFILE_COUNT):
        first, last = b.rng.choice(FIRST_NAMES), b.rng.choice(LAST_NAMES)
        city, region, country, zip_code, zone, lat, lon = b.rng.choice(CITIES)
        domain = b.rng.choice(EMAIL_DOMAINS)
        created = b.days_ago(1, 180)
        has_phone = b.rng.random() < 0.45
        roll = b.rng.random()
        email_state = (
            "SUBSCRIBED" if roll < 0.72 else "UNSUBSCRIBED" if roll < 0.78 else "NEVER_SUBSCRIBED"
        )
        attrs = {
            "email": f"{first}.{last}{number}@{domain}".lower(),
            "phone_number": f"+1555{b.rng.randint(1000000, 9999999)}" if has_phone else None,
            "external_id": f"NW-{10000 + number}",
            "first_name": first,
            "last_name": last,
            "organization": None,
            "locale": "en-US" if country == "United States" else "en-GB",
            "title": None,
            "image": None,
            "location": {
                "address1": f"{b.rng.randint(1, 999)} {b.rng.choice(STREETS)}",
                "address2": None,
                "city": city,
                "region": region,
                "country": country,
                "zip": zip_code,
                "timezone": zone,
                "latitude": lat,
                "longitude": lon,
                "ip": None,
            },
            "properties": {
                "Loyalty Tier": b.rng.choices(LOYALTY_TIERS, weights=[50, 30, 15, 5])[0],
                "Signup Source": b.rng.choice(SOURCES),
                "Favorite Category": b.rng.choice(["Apparel", "Footwear", "Accessories", "Home"]),
                "Accepts Marketing": email_state == "SUBSCRIBED",
            },
            "subscriptions": _subscriptions(
                b, email_state, has_phone and b.rng.random() < 0.6, created
            ),
        }
        profiles.append(b.add("profile", attrs, created=created))
    return profiles


def seed_lists(b: Builder, profiles: list[SandboxResource]) -> dict[str, SandboxResource]:
    """Queue the lists and their members (join times after each profile's creation)."""
    lists = {}
    for index, name in enumerate(LISTS):
        opt_in = "double_opt_in" if name == "Newsletter" else "single_opt_in"
        lists[name] = b.add(
            "list", {"name": name, "opt_in_process": opt_in}, created=b.days_ago(150 + index, 200)
        )
    for profile in profiles:
        attrs = profile.attributes
        subscribed = attrs["subscriptions"]["email"]["marketing"]["consent"] == "SUBSCRIBED"
        chosen = []
        if subscribed and b.rng.random() < 0.9:
            chosen.append("Newsletter")
        if attrs["properties"]["Loyalty Tier"] in ("Gold", "Platinum"):
            chosen.append("VIP")
        if attrs["subscriptions"]["sms"]["marketing"]["consent"] == "SUBSCRIBED":
            chosen.append("SMS Subscribers")
        chosen += [
            name for name in LISTS[3:] if name != "SMS Subscribers" and b.rng.random() < 0.12
        ]
        if b.rng.random() < 0.1:
            chosen.append("Winback")
        for name in chosen:
            joined = profile.created + timedelta(hours=b.rng.uniform(0, 48))
            b.link(lists[name], "profiles", profile, min(joined, b.now))
    return lists


def seed_segments(
    b: Builder, lists: dict[str, SandboxResource], metrics: dict[str, SandboxResource]
) -> None:
    """Queue segments whose definitions the sandbox can evaluate."""
    definitions = {
        "Engaged Email Subscribers": {
            "type": "profile-marketing-consent",
            "consent": {
                "channel": "email",
                "can_receive_marketing": True,
                "consent_status": {"subscription": "subscribed"},
            },
        },
        "Repeat Buyers": {
            "type": "profile-metric",
            "metric_id": metrics["Placed Order"].resource_id,
            "measurement": "count",
            "measurement_filter": {
                "type": "numeric",
                "operator": "greater-than-or-equal",
                "value": 2,
            },
            "timeframe_filter": {"type": "date", "operator": "alltime"},
        },
        "Boston Shoppers": {
            "type": "profile-property",
            "property": "location.city",
            "filter": {"type": "string", "operator": "equals", "value": "Boston"},
        },
        "VIP Members": {
            "type": "profile-group-membership",
            "is_member": True,
            "group_ids": [lists["VIP"].resource_id],
            "timeframe_filter": None,
        },
        "Gold and Platinum": {
            "type": "profile-property",
            "property": "properties['Loyalty Tier']",
            "filter": {"type": "string", "operator": "in", "value": ["Gold", "Platinum"]},
        },
    }
    for name, condition in definitions.items():
        attrs = {
            "name": name,
            "definition": {"condition_groups": [{"conditions": [condition]}]},
            "is_active": True,
            "is_processing": False,
            "is_starred": name == "VIP Members",
        }
        b.add("segment", attrs, created=b.days_ago(100, 160))


def seed_metrics(b: Builder) -> dict[str, SandboxResource]:
    """Queue the store's metrics (all recorded through the API integration)."""
    return {
        name: b.add(
            "metric",
            {"name": name, "integration": dict(API_INTEGRATION)},
            created=b.days_ago(180, 200),
        )
        for name in METRICS
    }


def seed_extras(b: Builder, profiles: list[SandboxResource]) -> None:
    """Queue coupons and codes, images, push tokens, forms and a webhook."""
    for external_id, description in COUPONS:
        coupon = b.add(
            "coupon",
            {"external_id": external_id, "description": description, "monitor_configuration": None},
            resource_id=external_id,
            created=b.days_ago(60, 120),
        )
        for number in range(15):
            code = f"{external_id}-{b.rng.randint(100000, 999999)}{number}"
            assigned = number < 3
            relationships = {"coupon": coupon.resource_id}
            if assigned:
                relationships["profile"] = b.rng.choice(profiles).resource_id
            status = "ASSIGNED_TO_PROFILE" if assigned else "UNASSIGNED"
            expires = iso(b.now + timedelta(days=90))
            b.add(
                "coupon-code",
                {"unique_code": code.split("-", 1)[1], "expires_at": expires, "status": status},
                resource_id=code,
                relationships=relationships,
            )
    for name in ("hero-spring.jpg", "trail-runner.png", "logo.png"):
        url = f"https://images.example.com/northwind/{name}"
        fmt = "jpeg" if name.endswith(".jpg") else "png"
        b.add(
            "image",
            {
                "name": name,
                "image_url": url,
                "format": fmt,
                "size": b.rng.randint(40_000, 900_000),
                "hidden": False,
            },
            created=b.days_ago(20, 90),
        )
    for profile in b.rng.sample(profiles, 12):
        token = "".join(b.rng.choice("0123456789abcdef") for _ in range(64))
        attrs = {
            "token": token,
            "platform": "ios",
            "vendor": "apns",
            "enablement_status": "AUTHORIZED",
            "background": "AVAILABLE",
            "recorded_date": iso(b.days_ago(1, 60)),
            "metadata": {"app_name": "Northwind", "os_name": "ios"},
        }
        b.add("push-token", attrs, relationships={"profile": profile.resource_id})
    for name, kind in (("Newsletter Popup", "popup"), ("Spin to Win", "flyout")):
        form = b.add(
            "form",
            {"name": name, "status": "live", "ab_test": False, "definition": {"versions": []}},
            created=b.days_ago(30, 120),
        )
        for variation in ("Variation A", "Variation B"):
            attrs = {
                "form_type": kind,
                "variation_name": variation,
                "ab_test": None,
                "status": "live",
            }
            b.add(
                "form-version",
                attrs,
                relationships={"form": form.resource_id},
                created=form.created,
            )
    webhook = {
        "name": "Order sync",
        "description": "Sends email engagement to the warehouse",
        "endpoint_url": "https://hooks.example.com/klaviyo",
        "enabled": True,
    }
    b.add(
        "webhook",
        webhook,
        relationships={"webhook-topics": WEBHOOK_TOPICS[:3]},
        internal={"secret_key": ids.opaque_secret("whsec")},
    )


@transaction.atomic
def seed_account(account: SandboxAccount, *, seed: int = SEED) -> dict[str, int]:
    """Fill an account (which should be empty but for its basics) with the demo store.

    Return how many resources of each type were created.
    """
    # A seeded PRNG on purpose: the same demo store every time (nothing here is a secret).
    b = Builder(account, timezone.now(), random.Random(seed))  # noqa: S311
    profiles = seed_profiles(b)
    lists = seed_lists(b, profiles)
    metrics = seed_metrics(b)
    seed_segments(b, lists, metrics)
    products = seed_catalog(b)
    seed_marketing(b, profiles, lists, metrics, products)
    seed_extras(b, profiles)
    b.save()
    counts: dict[str, int] = {}
    for res in b.resources:
        counts[res.type] = counts.get(res.type, 0) + 1
    # Last, so the examples' resources are copies of the finished demo store's.
    counts["showcase"] = seed_showcase(account)
    # Topics follow the metrics (the demo's and the showcase copies), written in bulk above.
    metric_topics_sync(account=account)
    return dict(sorted(counts.items()))
