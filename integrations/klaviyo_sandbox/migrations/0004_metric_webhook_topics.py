"""Give existing accounts a webhook topic per metric (new metrics get theirs when created).

The slug rule is copied from `webhooks.metric_topic_id` on purpose: a migration must not change
when the app's code does.
"""

import re

from django.db import migrations


def add_metric_topics(apps, schema_editor):
    resource = apps.get_model("klaviyo_sandbox", "SandboxResource")
    topics = resource.objects.filter(type="webhook-topic")
    existing = set(topics.values_list("account_id", "resource_id"))
    rows = []
    for account_id, name in resource.objects.filter(type="metric").values_list(
        "account_id", "attributes__name"
    ):
        if not isinstance(name, str):
            continue
        slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "metric"
        key = (account_id, f"event:klaviyo.{slug}")
        if key not in existing:
            existing.add(key)
            rows.append(resource(account_id=account_id, type="webhook-topic", resource_id=key[1]))
    resource.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("klaviyo_sandbox", "0003_sandboxaccount_created_by"),
    ]

    operations = [
        migrations.RunPython(add_metric_topics, migrations.RunPython.noop),
    ]
