"""Benchmark the Klaviyo client: per-call overhead and rate-limit utilisation.

1. Overhead: median time per call through `KlaviyoClient.send` vs a bare `requests.Session`
   against the same fast local server (a minimal asyncio HTTP/1.1 server in its own process).
   Target: ratio <= 1.3.
2. Utilisation: a local server enforcing Klaviyo's tier M (10/s burst, 150/min steady, fixed
   windows, 429 + Retry-After) with time scaled by `--scale`; `--workers` processes make
   `--calls` calls in total through one Redis bucket. Target: >= 95% of the steady limit in every
   complete steady window on average, and zero 429s surfacing to the callers.

Run: `.venv/bin/python benchmarks/bench_client.py` (about two minutes at the default scale).
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import statistics
import sys
import time
import uuid
from typing import Any

import requests

from integrations.klaviyo.client import REVISION, KlaviyoClient
from integrations.klaviyo.credentials import ApiKeyCredentials
from integrations.klaviyo.errors import KlaviyoError, KlaviyoRateLimitError
from integrations.klaviyo.ratelimit import (
    TIERS,
    LocalRateLimiter,
    RedisRateLimiter,
    Tier,
)

OVERHEAD_TARGET = 1.3
UTILISATION_TARGET = 0.95
UNLIMITED = Tier("bench", burst=10**9, steady=10**9)


# --- a fast local server ---------------------------------------------------------------------


class TierM:
    """Klaviyo's tier M in fixed wall-clock windows, `scale` times faster."""

    def __init__(self, scale: float) -> None:
        self.tier = TIERS["M"]
        self.burst_window = 1.0 / scale
        self.steady_window = 60.0 / scale
        self.burst = (-1, 0)  # (window index, count)
        self.steady = (-1, 0)
        self.successes: list[float] = []
        self.rejected = 0

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        now = time.time()
        b, s = int(now // self.burst_window), int(now // self.steady_window)
        burst = self.burst[1] if self.burst[0] == b else 0
        steady = self.steady[1] if self.steady[0] == s else 0
        steady_reset = (s + 1) * self.steady_window - now
        limits = {"RateLimit-Limit": str(self.tier.steady)}
        if burst >= self.tier.burst or steady >= self.tier.steady:
            self.rejected += 1
            wait = steady_reset if steady >= self.tier.steady else (b + 1) * self.burst_window - now
            # Klaviyo sends whole seconds; the scaled emulator needs milliseconds.
            headers = {**limits, "RateLimit-Remaining": "0", "RateLimit-Reset": f"{wait:.3f}"}
            headers["Retry-After"] = f"{wait:.3f}"
            return 429, headers, b'{"errors":[{"id":"x","status":429,"code":"throttled"}]}'
        self.burst, self.steady = (b, burst + 1), (s, steady + 1)
        self.successes.append(now)
        remaining = self.tier.steady - steady - 1
        headers = {**limits, "RateLimit-Remaining": str(remaining)}
        headers["RateLimit-Reset"] = f"{steady_reset:.3f}"
        return 200, headers, b'{"data":[]}'


def serve(port_out: Any, scale: float | None) -> None:
    """Serve HTTP/1.1 keep-alive on 127.0.0.1; rate-limited to tier M when `scale` is set."""
    limiter = TierM(scale) if scale else None

    def respond(status: int, headers: dict[str, str], body: bytes) -> bytes:
        reason = {200: "OK", 429: "Too Many Requests"}[status]
        lines = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/vnd.api+json"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    canned = respond(200, {}, b'{"data":[]}')

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                if head.startswith(b"GET /__stats"):
                    assert limiter is not None
                    stats = {"successes": limiter.successes, "rejected": limiter.rejected}
                    writer.write(respond(200, {}, json.dumps(stats).encode()))
                elif limiter is None:
                    writer.write(canned)
                else:
                    writer.write(respond(*limiter.answer()))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port_out.put(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def start_server(scale: float | None = None) -> tuple[Any, str]:
    context = multiprocessing.get_context("fork")
    ports = context.Queue()
    process = context.Process(target=serve, args=(ports, scale), daemon=True)
    process.start()
    return process, f"http://127.0.0.1:{ports.get(timeout=10)}"


# --- 1. overhead -----------------------------------------------------------------------------


def bench_overhead(calls: int, rounds: int, redis_url: str | None) -> dict[str, float]:
    process, url = start_server()
    try:
        session = requests.Session()
        headers = {
            "Authorization": "Klaviyo-API-Key pk_bench",
            "revision": REVISION,
            "Accept": "application/vnd.api+json",
        }

        def bare() -> None:
            response = session.get(f"{url}/api/lists", headers=headers, timeout=(5, 30))
            response.raise_for_status()
            response.json()

        credentials = ApiKeyCredentials("pk_bench")
        local = KlaviyoClient(credentials, base_url=url, rate_limiter=LocalRateLimiter())
        contenders = {
            "bare": bare,
            "client": lambda: local.send("GET", "/api/lists", tier=UNLIMITED),
        }
        if redis_url:
            shared = RedisRateLimiter(redis_url, prefix=f"bench:{uuid.uuid4().hex}")
            redis_client = KlaviyoClient(credentials, base_url=url, rate_limiter=shared)
            contenders["client_redis"] = lambda: redis_client.send(
                "GET", "/api/lists", tier=UNLIMITED
            )

        for call in contenders.values():  # warm up connections and caches
            for _ in range(200):
                call()
        per_call: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(rounds):  # interleaved rounds, so drift hits every contender alike
            for name, call in contenders.items():
                start = time.perf_counter()
                for _ in range(calls // rounds):
                    call()
                per_call[name].append((time.perf_counter() - start) / (calls // rounds))
        return {name: statistics.median(times) * 1e6 for name, times in per_call.items()}
    finally:
        process.terminate()


# --- 2. utilisation --------------------------------------------------------------------------


def _worker(url: str, redis_url: str, prefix: str, scale: float, calls: int, out: Any) -> None:
    limiter = RedisRateLimiter(redis_url, prefix=prefix, time_scale=scale)
    client = KlaviyoClient(ApiKeyCredentials("pk_bench"), base_url=url, rate_limiter=limiter)
    unhandled_429 = other_errors = retried = 0
    for _ in range(calls):
        try:
            response = client.send("GET", "/api/lists", tier="M")
            retried += len(response.attempts) - 1
        except KlaviyoRateLimitError:
            unhandled_429 += 1
        except KlaviyoError:
            other_errors += 1
    out.put({"unhandled_429": unhandled_429, "other_errors": other_errors, "retried": retried})


def bench_utilisation(calls: int, workers: int, scale: float, redis_url: str) -> dict[str, Any]:
    process, url = start_server(scale)
    try:
        context = multiprocessing.get_context("fork")
        out = context.Queue()
        prefix = f"bench:{uuid.uuid4().hex}"
        share = [calls // workers + (1 if n < calls % workers else 0) for n in range(workers)]
        procs = [
            context.Process(target=_worker, args=(url, redis_url, prefix, scale, n, out))
            for n in share
        ]
        start = time.monotonic()
        for proc in procs:
            proc.start()
        results = [out.get(timeout=3600) for _ in procs]
        for proc in procs:
            proc.join()
        elapsed = time.monotonic() - start
        stats = requests.get(f"{url}/__stats", timeout=10).json()
    finally:
        process.terminate()

    window = 60.0 / scale
    counts: dict[int, int] = {}
    for at in stats["successes"]:
        counts[int(at // window)] = counts.get(int(at // window), 0) + 1
    first, last = min(counts), max(counts)
    # Only windows the run covered from start to end say anything about utilisation.
    complete = [counts.get(index, 0) for index in range(first + 1, last)]
    steady = TIERS["M"].steady
    return {
        "elapsed_s": elapsed,
        "successes": len(stats["successes"]),
        "server_429s": stats["rejected"],
        "unhandled_429s": sum(r["unhandled_429"] for r in results),
        "other_errors": sum(r["other_errors"] for r in results),
        "retries": sum(r["retried"] for r in results),
        "complete_windows": len(complete),
        "busiest_window": max(counts.values()),
        "utilisation": statistics.mean(complete) / steady if complete else math.nan,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overhead-calls", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--calls", type=int, default=3000, help="utilisation: calls in total")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scale", type=float, default=10, help="windows this many times shorter")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--skip-utilisation", action="store_true")
    args = parser.parse_args(argv)
    ok = True

    if not args.skip_overhead:
        times = bench_overhead(args.overhead_calls, args.rounds, args.redis_url)
        ratio = times["client"] / times["bare"]
        ok &= ratio <= OVERHEAD_TARGET
        print("1. Client overhead per call (median of interleaved rounds)")
        print(f"   bare requests.Session:        {times['bare']:8.1f} us/call")
        print(f"   KlaviyoClient (local bucket): {times['client']:8.1f} us/call")
        verdict = _verdict(ratio <= OVERHEAD_TARGET)
        print(f"   ratio: {ratio:.3f}x   target <= {OVERHEAD_TARGET}x   {verdict}")
        if "client_redis" in times:
            print(
                f"   (for information, with the shared Redis bucket: "
                f"{times['client_redis']:.1f} us/call, "
                f"{times['client_redis'] / times['bare']:.3f}x)"
            )

    if not args.skip_utilisation:
        result = bench_utilisation(args.calls, args.workers, args.scale, args.redis_url)
        good = (
            result["utilisation"] >= UTILISATION_TARGET
            and result["unhandled_429s"] == 0
            and result["other_errors"] == 0
        )
        ok &= good
        print(
            f"2. Rate-limit utilisation: tier M (150/min steady) scaled {args.scale:g}x, "
            f"{args.workers} worker processes, {args.calls} calls via one Redis bucket"
        )
        print(
            f"   elapsed {result['elapsed_s']:.1f} s, {result['successes']} successes, "
            f"{result['complete_windows']} complete steady windows, busiest window "
            f"{result['busiest_window']}"
        )
        print(
            f"   utilisation: {result['utilisation']:.1%} of the steady limit   "
            f"target >= {UTILISATION_TARGET:.0%}"
        )
        print(
            f"   429s from the server: {result['server_429s']} (retried: {result['retries']}); "
            f"unhandled 429s: {result['unhandled_429s']}   target 0; "
            f"other errors: {result['other_errors']}   {_verdict(good)}"
        )
    return 0 if ok else 1


def _verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


if __name__ == "__main__":
    sys.exit(main())
