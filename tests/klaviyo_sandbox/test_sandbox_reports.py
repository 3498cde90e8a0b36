"""Reports computed from stored events, and template rendering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def track(api, email: str, metric: str, at: datetime, value: float, **properties) -> None:
    body = {
        "data": {
            "type": "event",
            "attributes": {
                "properties": properties,
                "time": at.isoformat(),
                "value": value,
                "metric": {"data": {"type": "metric", "attributes": {"name": metric}}},
                "profile": {"data": {"type": "profile", "attributes": {"email": email}}},
            },
        }
    }
    assert api.post("/api/events", body).status_code == 202


def aggregate(api, metric_id: str, start: datetime, end: datetime, **attributes) -> dict:
    body = {
        "data": {
            "type": "metric-aggregate",
            "attributes": {
                "metric_id": metric_id,
                "measurements": ["count", "sum_value", "unique"],
                "filter": [
                    f"greater-or-equal(datetime,{start.isoformat()})",
                    f"less-than(datetime,{end.isoformat()})",
                ],
                **attributes,
            },
        }
    }
    response = api.post("/api/metric-aggregates", body)
    assert response.status_code == 200, response.text
    return response.json()["data"]["attributes"]


def test_metric_aggregates_count_sum_and_unique_by_day_week_and_month(api):
    day = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
    track(api, "ann@example.com", "Placed Order", day + timedelta(hours=9), 20, URL="/web")
    track(api, "ann@example.com", "Placed Order", day + timedelta(hours=15), 30, URL="/store")
    track(api, "bob@example.com", "Placed Order", day + timedelta(days=1, hours=10), 50, URL="/web")
    track(api, "bob@example.com", "Placed Order", day + timedelta(days=9), 5, URL="/web")
    track(api, "bob@example.com", "Viewed Product", day + timedelta(hours=1), 0)
    [metric] = [m for m in api.all("/api/metrics") if m["attributes"]["name"] == "Placed Order"]

    daily = aggregate(api, metric["id"], day, day + timedelta(days=3), interval="day")
    assert daily["dates"] == [(day + timedelta(days=n)).isoformat() for n in range(3)]
    [row] = daily["data"]
    assert row["dimensions"] == []
    assert row["measurements"] == {
        "count": [2, 1, 0],
        "sum_value": [50.0, 50.0, 0.0],
        "unique": [1, 1, 0],
    }

    weekly = aggregate(api, metric["id"], day, day + timedelta(days=14), interval="week")
    assert weekly["data"][0]["measurements"]["count"] == [3, 1]
    monthly = aggregate(api, metric["id"], day, day + timedelta(days=14), interval="month")
    assert monthly["data"][0]["measurements"]["sum_value"] == [105.0]

    by_channel = aggregate(
        api, metric["id"], day, day + timedelta(days=14), interval="month", by=["URL"]
    )
    totals = {tuple(r["dimensions"]): r["measurements"]["count"] for r in by_channel["data"]}
    assert totals == {("/web",): [3], ("/store",): [1]}


def test_metric_aggregates_need_a_datetime_range(api):
    track(api, "ann@example.com", "Placed Order", datetime(2026, 3, 2, tzinfo=UTC), 1)
    [metric] = api.all("/api/metrics")
    body = {
        "data": {
            "type": "metric-aggregate",
            "attributes": {"metric_id": metric["id"], "measurements": ["count"], "filter": []},
        }
    }
    response = api.post("/api/metric-aggregates", body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["pointer"] == "/data/attributes/filter"
    body["data"]["attributes"]["metric_id"] = "NOPE12"
    assert api.post("/api/metric-aggregates", body).status_code == 404


def test_campaign_and_flow_reports_of_the_demo_store(shop):
    [placed] = [m for m in shop.all("/api/metrics") if m["attributes"]["name"] == "Placed Order"]
    body = {
        "data": {
            "type": "campaign-values-report",
            "attributes": {
                "statistics": [
                    "recipients",
                    "opens_unique",
                    "open_rate",
                    "conversion_value",
                    "text_message_spend",
                ],
                "timeframe": {"key": "last_90_days"},
                "conversion_metric_id": placed["id"],
            },
        }
    }
    response = shop.post("/api/campaign-values-reports", body)
    assert response.status_code == 200, response.text
    results = response.json()["data"]["attributes"]["results"]
    assert len(results) == 3  # the three sent campaigns (the draft has no events)
    for result in results:
        stats = result["statistics"]
        assert set(result["groupings"]) == {"campaign_id", "campaign_message_id", "send_channel"}
        assert stats["recipients"] > 0
        assert 0 < stats["open_rate"] < 1
        assert stats["text_message_spend"] == 0

    series = {
        "data": {
            "type": "flow-series-report",
            "attributes": {
                "statistics": ["recipients", "clicks"],
                "timeframe": {"key": "last_30_days"},
                "interval": "weekly",
                "conversion_metric_id": placed["id"],
                "group_by": ["flow_id"],
            },
        }
    }
    report = shop.post("/api/flow-series-reports", series).json()["data"]["attributes"]
    assert len(report["date_times"]) >= 4
    assert all(
        len(r["statistics"]["recipients"]) == len(report["date_times"]) for r in report["results"]
    )
    assert sum(sum(r["statistics"]["recipients"]) for r in report["results"]) > 0


def test_templates_render_variables_and_clone(api):
    html = (
        "<p>Hi {{ first_name|default:'friend' }}, your {{ person.city }} order "
        "{{ event.items.0.name }}</p>"
    )
    template = api.create(
        "template",
        {"name": "Order", "editor_type": "CODE", "html": html, "text": "Hi {{ first_name }}"},
    )
    context = {"first_name": "Ada", "city": "London", "event": {"items": [{"name": "Mug"}]}}
    rendered = api.post(
        "/api/template-render",
        {"data": {"type": "template", "id": template["id"], "attributes": {"context": context}}},
    )
    assert rendered.status_code == 201
    attributes = rendered.json()["data"]["attributes"]
    assert attributes["html"] == "<p>Hi Ada, your London order Mug</p>"
    assert attributes["text"] == "Hi Ada"
    anonymous = api.post(
        "/api/template-render",
        {"data": {"type": "template", "id": template["id"], "attributes": {"context": {}}}},
    )
    assert anonymous.json()["data"]["attributes"]["html"].startswith("<p>Hi friend, your  order")

    clone = api.post(
        "/api/template-clone",
        {"data": {"type": "template", "id": template["id"], "attributes": {"name": "Order v2"}}},
    )
    assert clone.status_code == 201
    names = sorted(t["attributes"]["name"] for t in api.all("/api/templates"))
    assert names == ["Order", "Order v2"]
    assert api.get(f"/api/templates/{template['id']}").json()["data"]["attributes"]["html"] == html
