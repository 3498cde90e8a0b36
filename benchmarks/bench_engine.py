"""Benchmark the run engine with real worker processes against a zero-latency Klaviyo stub.

Run with `.venv/bin/python benchmarks/bench_engine.py` (`make bench` runs it). It measures, for
the embedded default (SQLite + file-system broker) and, when both answer on this machine, for
PostgreSQL + Redis:

- per-step overhead: the slope of p50 run latency over 0, 1, 5, 10 and 20 chained steps (each
  mapping an id from the step before), 200 runs each after a warm-up, one worker, every StepRun
  written durably. Target <= 2.2 ms/step (n8n 1.123 on this machine kind: 3.9-5.2 ms/step).
  The latency is taken from the run's claim by the worker to its end: the embedded broker polls
  its folder every 0.1 s, so the time from the request to the claim comes in steps of that
  tick, the same for every step count (printed beside, not in the slope).
- throughput: 10-step runs, 8 in flight, 2 worker processes, 30 s. Target >= 360 steps/s
  (n8n: 159-180).
- memory: RSS of the web process (gunicorn's arbiter and its worker) and the worker process that
  `make run` starts, idle and after 2,000 runs started through the JSON API. Target <= 250 MB
  together, and flat (n8n's one process: 605-914 MB). Printed too: with the second worker of
  the throughput run.

The stub answers every request at once, so what is measured is the engine: claiming, resolving,
validating, the HTTP client and its rate limiter (with windows 1000 times shorter, since the stub
is no Klaviyo), and the database writes. Exits non-zero when a target is missed.
`--quick` runs fewer runs (for a smoke test).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEP_COUNTS = (0, 1, 5, 10, 20)
STEP_TARGET_MS, STEP_N8N = 2.2, (3.9, 5.2)
THROUGHPUT_TARGET, THROUGHPUT_N8N = 360.0, (159.0, 180.0)
MEMORY_TARGET_MB, MEMORY_N8N = 250.0, (605.0, 914.0)
PG_URL = "postgres://postgres@127.0.0.1:5432/stepbuilder_bench"
REDIS_URL = "redis://127.0.0.1:6379/14"


# --- The stub ------------------------------------------------------------------------------------


class _Stub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart
    body = json.dumps({"data": {"type": "list", "id": "Y6nRLr", "attributes": {"name": "B"}}})

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        payload = self.body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.api+json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def serve_stub() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def start_stub() -> tuple[str, subprocess.Popen]:
    """Start the stub in a process of its own, as Klaviyo is: it shares no GIL with the bench."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--stub"], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None  # noqa: S101
    return process.stdout.readline().strip(), process


# --- Processes -----------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    """Return the resident memory of a process and its children, in MB (Linux /proc)."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        pids.extend(int(child) for child in children)
    return total / 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


# --- One configuration ----------------------------------------------------------------------------


def one(quick: bool) -> dict[str, object]:
    """Set up a fresh install in this process's environment, measure, return the figures."""
    import django
    import requests

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.utils import timezone

    from builder.models import Run, StepRun
    from builder.services.accounts import user_signup
    from builder.services.runs import run_start
    from builder.services.workflows import workflow_create, workflow_publish
    from integrations.models import Connection

    user = user_signup(email=f"bench{os.getpid()}@example.com", password="bench-password-123")
    workspace = user.memberships.get().workspace
    Connection.objects.create(
        workspace=workspace, name="Stub", kind=Connection.Kind.API_KEY,
        secret={"api_key": "pk_bench_0123456789abcdef"}, public_key="BENCH", key_hint="pk_…cdef",
    )  # fmt: skip

    def workflow(steps: int):
        chain = [
            {"key": f"s{i}", "action": "KLAVIYO_GET_LIST", "connection": "Stub",
             "input": {"list_id": "Y6nRLr" if i == 1 else f"{{{{ steps.s{i - 1}.data.data.id }}}}"}}
            for i in range(1, steps + 1)
        ]  # fmt: skip
        made, problems = workflow_create(
            workspace=workspace, user=user, definition={"name": f"{steps} steps", "steps": chain}
        )
        assert not [p for p in problems if p.severity == "error"], problems
        workflow_publish(workflow=made, user=user)
        return made

    workflows = {n: workflow(n) for n in STEP_COUNTS}
    env = dict(os.environ)
    port = free_port()
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "builder.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "8"],  # as the Procfile runs it
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def worker(name: str, *options: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "builder", "worker", "--hostname",
             f"{name}@bench", "--pool", "threads", "--concurrency", "4", "--without-gossip",
             "--without-mingle", "--loglevel", "WARNING", *options],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    workers = [worker("one", "--beat-thread")]  # as the Procfile runs it
    try:

        def wait(run_ids: list[int], timeout: float = 120) -> None:
            deadline = time.monotonic() + timeout
            pending = set(run_ids)
            while pending and time.monotonic() < deadline:
                done = Run.objects.filter(pk__in=pending, status__in=Run.FINISHED)
                pending -= set(done.values_list("pk", flat=True))
                if pending:
                    time.sleep(0.01)  # gently: a busy poll would take CPU from the worker
            if pending:
                raise SystemExit(f"runs did not finish: {sorted(pending)[:5]}")

        time.sleep(3)
        # The processes `make run` starts: the web server and one worker, nothing run yet.
        idle_default = rss_mb(web.pid) + rss_mb(workers[0].pid)
        runs_each = 20 if quick else 200
        latencies: dict[int, float] = {}
        queued: dict[int, float] = {}
        for steps, made in workflows.items():
            for _ in range(3 if quick else 10):  # warm-up
                wait([run_start(workflow=made, payload={}).pk])
            samples, totals = [], []
            for _ in range(runs_each):
                run = run_start(workflow=made, payload={})
                wait([run.pk])
                run.refresh_from_db()
                assert run.status == Run.Status.SUCCEEDED, run.error
                samples.append((run.finished_at - run.started_at).total_seconds() * 1000)
                totals.append((run.finished_at - run.created_at).total_seconds() * 1000)
            latencies[steps] = statistics.median(samples)
            queued[steps] = statistics.median(totals)
        xs, ys = list(latencies), list(latencies.values())
        mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
            (x - mean_x) ** 2 for x in xs
        )

        workers.append(worker("two"))
        time.sleep(3)
        idle_two = idle_default + rss_mb(workers[1].pid)
        ten = workflows[10]
        seconds = 5 if quick else 30
        started_runs = Run.objects.count()
        in_flight: list[int] = []
        steps_before = StepRun.objects.filter(status=StepRun.Status.SUCCEEDED).count()
        began = time.monotonic()
        while time.monotonic() - began < seconds:
            in_flight = list(
                Run.objects.filter(pk__in=in_flight)
                .exclude(status__in=Run.FINISHED)
                .values_list("pk", flat=True)
            )
            while len(in_flight) < 8:
                in_flight.append(run_start(workflow=ten, payload={}).pk)
            time.sleep(0.005)
        elapsed = time.monotonic() - began
        wait(in_flight)
        done_steps = (
            StepRun.objects.filter(
                status=StepRun.Status.SUCCEEDED, finished_at__lte=timezone.now()
            ).count()
            - steps_before
        )
        throughput = done_steps / elapsed

        # The memory runs come in through the JSON API, so the web process works too.
        from builder.services.api_tokens import api_token_create

        _, token = api_token_create(workspace=workspace, name="bench", user=None)
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {token}"
        runs_url = f"http://127.0.0.1:{port}/api/v1/workflows/{ten.pk}/runs"
        total_runs = 200 if quick else 2000
        while Run.objects.count() - started_runs < total_runs:
            batch = []
            for _ in range(8):
                answer = api.post(runs_url, json={"input": {}}, timeout=30)
                assert answer.status_code == 202, answer.text
                batch.append(answer.json()["id"])
            wait(batch)
        time.sleep(2)
        after_default = rss_mb(web.pid) + rss_mb(workers[0].pid)
        after_two = after_default + rss_mb(workers[1].pid)
        each = {"web": rss_mb(web.pid), "worker": rss_mb(workers[0].pid),
                "second worker": rss_mb(workers[1].pid)}  # fmt: skip
        failed = Run.objects.exclude(status=Run.Status.SUCCEEDED).count()
        return {
            "latency_p50_ms": latencies,
            "total_p50_ms": queued,
            "ms_per_step": slope,
            "steps_per_s": throughput,
            "rss_idle_mb": idle_default,
            "rss_after_mb": after_default,
            "rss_idle_two_mb": idle_two,
            "rss_each_after_mb": each,
            "rss_after_two_mb": after_two,
            "runs": Run.objects.count(),
            "failed_runs": failed,
        }
    finally:
        for process in [web, *workers]:
            process.terminate()
        for process in [web, *workers]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


# --- Reporting -----------------------------------------------------------------------------------


def _ratio(value: float, n8n: tuple[float, float]) -> str:
    return f"{n8n[0] / value:.1f}-{n8n[1] / value:.1f}x better" if value else "n/a"


def report(name: str, figures: dict) -> bool:
    ok = True
    print(f"-- {name}: {figures['runs']} runs, {figures['failed_runs']} not succeeded")
    for steps, ms in figures["latency_p50_ms"].items():
        total = figures["total_p50_ms"][steps]
        print(f"   p50 run latency, {int(steps):2d} steps: {ms:7.1f} ms executing, "
              f"{total:7.1f} ms from start request to finish")  # fmt: skip
    per_step = figures["ms_per_step"]
    ok &= per_step <= STEP_TARGET_MS
    print(f"   per-step overhead        {per_step:6.2f} ms/step   target {STEP_TARGET_MS} "
          f"(ratio {per_step / STEP_TARGET_MS:.2f})   n8n {STEP_N8N[0]}-{STEP_N8N[1]}: "
          f"{_ratio(per_step, STEP_N8N)}")  # fmt: skip
    rate = figures["steps_per_s"]
    ok &= rate >= THROUGHPUT_TARGET
    low, high = THROUGHPUT_N8N
    print(f"   throughput               {rate:6.0f} steps/s   target {THROUGHPUT_TARGET:.0f} "
          f"(ratio {rate / THROUGHPUT_TARGET:.2f})   n8n {low:.0f}-{high:.0f}: "
          f"{rate / high:.1f}-{rate / low:.1f}x")  # fmt: skip
    idle, after = figures["rss_idle_mb"], figures["rss_after_mb"]
    ok &= after <= MEMORY_TARGET_MB and after <= idle * 1.25
    print(f"   memory web + worker      {idle:6.0f} MB idle, {after:.0f} MB after the runs   "
          f"target {MEMORY_TARGET_MB:.0f} (ratio {after / MEMORY_TARGET_MB:.2f})   n8n "
          f"{MEMORY_N8N[0]:.0f}-{MEMORY_N8N[1]:.0f}: {_ratio(after, MEMORY_N8N)}")  # fmt: skip
    idle, after = figures["rss_idle_two_mb"], figures["rss_after_two_mb"]
    print(f"   memory web + 2 workers   {idle:6.0f} MB idle, {after:.0f} MB after the runs   "
          f"(the throughput setup; ratio {after / MEMORY_TARGET_MB:.2f})")  # fmt: skip
    each = ", ".join(f"{name} {mb:.0f}" for name, mb in figures["rss_each_after_mb"].items())
    print(f"   after the runs, MB       {each}")
    ok &= figures["failed_runs"] == 0
    return ok


def configuration(name: str, database_url: str | None, broker_url: str | None, quick: bool) -> dict:
    stub, stub_process = start_stub()
    try:
        return _configuration(name, stub, database_url, broker_url, quick)
    finally:
        stub_process.kill()


def _configuration(
    name: str, stub: str, database_url: str | None, broker_url: str | None, quick: bool
) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as data:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "builder.settings",
            "DATA_DIR": data,
            "SECURE_HTTPS": "false",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "KLAVIYO_BASE_URL": stub,
            "KLAVIYO_RATELIMIT_TIME_SCALE": "1000",
            "KLAVIYO_SANDBOX_ENABLED": "false",
            "CELERY_TASK_DEFAULT_QUEUE": f"bench-{os.getpid()}",
            "RUN_SWEEP_INTERVAL": "3600",
        }
        env.pop("DATABASE_URL", None)
        env.pop("CELERY_BROKER_URL", None)
        if database_url:
            env["DATABASE_URL"] = database_url
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists",
                            database_url.rsplit("/", 1)[1]], check=False)  # fmt: skip
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres",
                            database_url.rsplit("/", 1)[1]], check=True)  # fmt: skip
        if broker_url:
            env["CELERY_BROKER_URL"] = broker_url
            import redis

            redis.Redis.from_url(broker_url).flushdb()
        done = subprocess.run(
            [sys.executable, __file__, "--one", *(["--quick"] if quick else [])],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stub", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.stub:
        print(serve_stub(), flush=True)
        threading.Event().wait()
        return 0
    if args.one:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(one(args.quick)))
        return 0
    ok = report("embedded default (SQLite, file-system broker)",
                configuration("embedded", None, None, args.quick))  # fmt: skip
    if reachable("127.0.0.1", 5432) and reachable("127.0.0.1", 6379):
        ok &= report("PostgreSQL + Redis", configuration("postgres", PG_URL, REDIS_URL, args.quick))
    else:
        print("-- PostgreSQL + Redis: skipped (nothing answers on 127.0.0.1:5432 and :6379)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
