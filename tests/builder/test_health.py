from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from builder.models import WorkerHeartbeat


def test_healthz_fails_until_a_worker_reports(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert body["worker"] == {"ok": False, "error": "No worker has reported yet."}


def test_healthz_is_ok_with_a_recent_heartbeat(client, db):
    WorkerHeartbeat.objects.create(hostname="celery@a", last_seen=timezone.now())
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_healthz_reports_a_stale_worker(client, db):
    WorkerHeartbeat.objects.create(
        hostname="celery@a", last_seen=timezone.now() - timedelta(minutes=10)
    )
    body = client.get(reverse("healthz")).json()
    assert body["worker"]["ok"] is False
    assert "s old" in body["worker"]["error"]


def test_healthz_names_a_failure_without_leaking_details(client, db, monkeypatch):
    from builder.views import health

    def broken(*args, **kwargs):
        raise OSError("connection to 10.0.0.5 as user stepbuilder refused")

    monkeypatch.setattr(health.celery_app, "connection_for_write", broken)
    body = client.get(reverse("healthz")).json()
    assert body["broker"] == {"ok": False, "error": "The task broker is unreachable."}
    assert "10.0.0.5" not in str(body)


def test_healthz_answers_plain_http_even_when_https_is_enforced(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(reverse("healthz")).status_code in (200, 503)
    assert client.get(reverse("login")).status_code == 301
