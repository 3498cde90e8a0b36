"""Benchmark inbound webhook intake: signed deliveries accepted into queued runs, per second.

Run with `.venv/bin/python benchmarks/bench_webhooks.py` (`make bench` runs it; `--quick` sends
fewer). It sets up a fresh install in a throwaway DATA_DIR on the embedded default (SQLite, the
file-system broker), publishes and enables a workflow with a signed `webhook` trigger, starts
one web process as `make run` does (gunicorn, one worker, eight threads) and sends signed JSON
deliveries from 8 client threads, each on its own keep-alive connection. No worker runs: every
accepted delivery must leave a queued run and its task message, which the bench counts.

Printed: deliveries accepted per second (target >= 300/s on one web process) and the p50 / p99
intake latency as the senders saw it. Exits non-zero when the target is missed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webserver import free_port, serve, site_setup  # noqa: E402 - benchmarks/ is on the path

TARGET_PER_SECOND = 300.0
SENDERS = 8


def hook() -> tuple[str, str]:
    """Publish and enable a signed webhook workflow; return its URL and signing secret."""
    from builder.models import Workspace
    from builder.services.accounts import user_signup
    from builder.services.workflows import workflow_create, workflow_publish, workflow_set_enabled
    from builder.triggers.services import webhook_url

    user = user_signup(email="bench@example.com", password="bench-password-1", name="Bench")
    workspace = Workspace.objects.get(memberships__user=user)
    document = {
        "name": "Orders in",
        "trigger": {"type": "webhook", "signing": "hmac-sha256", "input_schema": {
            "type": "object", "required": ["email"],
            "properties": {"email": {"type": "string", "format": "email"},
                           "total": {"type": "number"}}}},
        "steps": [{"key": "note", "action": "builtin.set",
                   "input": {"values": {"who": "{{ trigger.body.email }}"}}}],
    }  # fmt: skip
    workflow, _ = workflow_create(workspace=workspace, user=user, definition=document)
    workflow_publish(workflow=workflow, user=user)
    synced = workflow_set_enabled(workflow=workflow, enabled=False)
    synced = workflow_set_enabled(workflow=workflow, enabled=True)
    assert synced.new_secret
    return webhook_url(synced.state), synced.new_secret


def send(url: str, secret: str, count: int) -> tuple[float, list[float], int]:
    """Send `count` deliveries from SENDERS threads; return (seconds, latencies ms, accepted)."""
    import requests

    def one_sender(n: int) -> tuple[list[float], int]:
        session = requests.Session()
        times, accepted = [], 0
        for i in range(n):
            body = json.dumps({"email": f"buyer{i}@example.com", "total": i}).encode()
            signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            began = time.perf_counter()
            answer = session.post(
                url, data=body, timeout=30,
                headers={"Content-Type": "application/json", "X-Signature-SHA256": signature},
            )  # fmt: skip
            times.append((time.perf_counter() - began) * 1000)
            accepted += answer.status_code == 202
        return times, accepted

    share = [count // SENDERS] * SENDERS
    began = time.perf_counter()
    with ThreadPoolExecutor(SENDERS) as pool:
        results = list(pool.map(one_sender, share))
    seconds = time.perf_counter() - began
    latencies = [t for times, _ in results for t in times]
    return seconds, latencies, sum(accepted for _, accepted in results)


def main() -> int:
    quick = "--quick" in sys.argv
    count = 800 if quick else 4000
    data = tempfile.TemporaryDirectory(prefix="bench-webhooks-")
    port = free_port()
    site_setup(data.name, port, WEBHOOK_MAX_PER_MINUTE="1000000")
    url, secret = hook()
    server = serve(port)
    try:
        send(url, secret, 80)  # warm-up: imports, the first connections
        seconds, latencies, accepted = send(url, secret, count)
    finally:
        server.terminate()
        server.wait(timeout=10)
    from builder.models import Run

    queued = Run.objects.filter(trigger_kind="webhook", status="queued").count()
    rate = accepted / seconds
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    met = rate >= TARGET_PER_SECOND
    print(f"== webhook intake, embedded default (SQLite, file broker), {SENDERS} senders")
    print(
        f"   accepted into queued runs {rate:10.0f} /s   target {TARGET_PER_SECOND:.0f} /s   "
        f"ratio {rate / TARGET_PER_SECOND:5.2f}  {'ok' if met else 'SLOW'}"
    )
    print(f"   latency p50 {p50:.1f} ms, p99 {p99:.1f} ms; {accepted} of {len(latencies)} "
          f"accepted in {seconds:.1f} s; {queued} queued runs in the database")  # fmt: skip
    if queued < accepted:
        print("   LOST: fewer queued runs than accepted deliveries")
        return 1
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
