"""Benchmark the mapping language: resolving a step's input, parsing templates, run-if checks.

Run with `.venv/bin/python benchmarks/bench_mapping.py` (no Django needed). Target: resolving
a typical 5-field input <= 50 µs (it runs for every step of every run, and per item in a
"for each"). Parsing and conditions are printed for information.
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builder.engine.conditions import evaluate  # noqa: E402 -- needs the project on sys.path
from builder.engine.mapping import resolve  # noqa: E402
from builder.engine.references import parse_template  # noqa: E402

RESOLVE_TARGET_US = 50.0
REPEATS = 7

CONTEXT = {
    "trigger": {"email": "ann@example.com", "name": None, "tags": ["vip", "new"], "list": "L1"},
    "steps": {
        "find": {
            "successful": True,
            "error": None,
            "data": {
                "data": [
                    {
                        "type": "profile",
                        "id": "01JW9GWYGKZP5P18D85Q3D64G7",
                        "attributes": {"email": "ann@example.com", "first_name": "Ann"},
                    }
                ]
            },
        }
    },
    "run": {"id": "R1", "started_at": "2025-01-01T09:00:00+00:00", "workflow_id": 7, "version": 3},
}

# Five fields as a marketer maps them: a lone reference, a list of one, text, filters, a literal.
INPUT = {
    "list_id": "{{ trigger.list }}",
    "profile_ids": ["{{ steps.find.data.data[0].id }}"],
    "note": "Added {{ steps.find.data.data[0].attributes.first_name }} on run {{ run.id }}",
    "greeting": '{{ trigger.name | default("friend") | upper }}',
    "source": "step-builder",
}
TEMPLATE = 'Hi {{ trigger.name | default("friend") }}, {{ steps.find.data.data[0].id }}'
GROUP = {
    "all": [
        {"left": "{{ steps.find.data.data | length }}", "op": "greater_than", "right": 0},
        {"left": "{{ trigger.email }}", "op": "contains", "right": "@example.com"},
    ]
}


def per_call_us(statement, number: int) -> float:
    """Return the best time per call in µs over REPEATS runs of `number` calls."""
    return min(timeit.repeat(statement, number=number, repeat=REPEATS)) / number * 1e6


def report(name: str, value: float, target: float | None) -> bool:
    """Print one measurement, against its target when it has one; return whether it meets it."""
    if target is None:
        print(f"{name:<38} {value:8.2f} µs   (for information)")
        return True
    ratio = value / target
    verdict = "ok" if ratio <= 1 else "SLOW"
    print(f"{name:<38} {value:8.2f} µs   target {target:5.1f} µs   ratio {ratio:5.2f}  {verdict}")
    return ratio <= 1


def main() -> int:
    """Run every benchmark and print the numbers; exit non-zero if resolve misses its target."""
    resolve(INPUT, CONTEXT)  # warm the parse cache, as a worker's would be
    resolve_us = per_call_us(lambda: resolve(INPUT, CONTEXT), 20_000)
    cached_us = per_call_us(lambda: parse_template(TEMPLATE), 200_000)
    uncached = parse_template.__wrapped__  # the parser without its cache
    uncached_us = per_call_us(lambda: uncached(TEMPLATE), 20_000)
    evaluate_us = per_call_us(lambda: evaluate(GROUP, CONTEXT), 20_000)
    ok = [
        report("resolve, 5-field input", resolve_us, RESOLVE_TARGET_US),
        report("parse_template, cached", cached_us, None),
        report("parse_template, uncached (2 references)", uncached_us, None),
        report("evaluate, run if with 2 conditions", evaluate_us, None),
    ]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
