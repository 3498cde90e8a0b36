"""Benchmark the Klaviyo action catalog: cold load, search, request building.

Run with `.venv/bin/python benchmarks/bench_catalog.py` (no Django needed). Targets:
cold load <= 150 ms in a fresh process, `list_actions(query=...)` <= 5 ms,
`build_request` <= 1 ms median over all 225 actions.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from integrations.klaviyo.catalog import (  # noqa: E402 -- needs the project on sys.path
    NeedsExecute,
    all_actions,
    build_request,
    example_input,
    list_actions,
)

COLD_LOAD_TARGET_MS = 150.0
SEARCH_TARGET_MS = 5.0
BUILD_TARGET_MS = 1.0
COLD_RUNS = 7
QUERIES = ("list", "profile", "add profile to list", "catalog variant", "webhook", "zzz")

_COLD_SNIPPET = """
import time
started = time.perf_counter()
from integrations.klaviyo.catalog import all_actions, list_actions
all_actions()
list_actions(query="list")
print((time.perf_counter() - started) * 1000)
"""


def cold_load_ms() -> list[float]:
    """Time importing the catalog and loading every action, each in a fresh interpreter."""
    timings = []
    for _ in range(COLD_RUNS):
        output = subprocess.run(
            [sys.executable, "-c", _COLD_SNIPPET],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        timings.append(float(output.strip()))
    return timings


def search_ms() -> list[float]:
    """Time each query (best of 20 runs, to leave out scheduler noise)."""
    all_actions()
    timings = []
    for query in QUERIES:
        runs = []
        for _ in range(20):
            started = time.perf_counter()
            list_actions(query=query)
            runs.append((time.perf_counter() - started) * 1000)
        timings.append(min(runs))
    return timings


def build_ms() -> list[float]:
    """Time build_request on each action's minimal input (median of 20 runs, after a warm-up)."""
    timings = []
    for action in all_actions().values():
        params = example_input(action)
        try:
            build_request(action, params)  # warm-up: compiles the action's validator once
        except NeedsExecute:
            params = {"list_id": "L1", "profile_ids": ["P1"]}
            build_request(action, params)
        runs = []
        for _ in range(20):
            started = time.perf_counter()
            build_request(action, params)
            runs.append((time.perf_counter() - started) * 1000)
        timings.append(statistics.median(runs))
    return timings


def report(name: str, value: float, target: float, detail: str = "") -> bool:
    """Print one measurement against its target; return whether it meets it."""
    ratio = value / target
    verdict = "ok" if ratio <= 1 else "SLOW"
    print(f"{name:<34} {value:8.3f} ms   target {target:6.1f} ms   ratio {ratio:5.2f}  {verdict}")
    if detail:
        print(f"{'':<34} {detail}")
    return ratio <= 1


def main() -> int:
    """Run every benchmark and print the numbers; exit non-zero if one misses its target."""
    cold = cold_load_ms()
    search = search_ms()
    build = build_ms()
    build_sorted = sorted(build)
    ok = [
        report(
            "catalog cold load (median)",
            statistics.median(cold),
            COLD_LOAD_TARGET_MS,
            f"runs: {', '.join(f'{t:.1f}' for t in cold)} ms",
        ),
        report(
            "list_actions(query=...) (max)",
            max(search),
            SEARCH_TARGET_MS,
            ", ".join(f"{q!r} {t:.3f}" for q, t in zip(QUERIES, search, strict=True)),
        ),
        report(
            "build_request (median of actions)",
            statistics.median(build),
            BUILD_TARGET_MS,
            f"p90 {build_sorted[int(len(build) * 0.9)]:.3f} ms, max {build_sorted[-1]:.3f} ms, "
            f"{len(build)} actions",
        ),
    ]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
