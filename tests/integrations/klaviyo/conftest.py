"""A real local HTTP server standing in for Klaviyo, with scripted answers, for client tests."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.credentials import ApiKeyCredentials
from integrations.klaviyo.ratelimit import LocalRateLimiter
from integrations.klaviyo.retry import no_jitter


@dataclass
class Received:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None


class FakeKlaviyo:
    """Answer requests from a FIFO script (then 200 `{"data": []}`) and record every request.

    `handler`, when set, answers instead of the script: `handler(received) -> Answer`.
    """

    Answer = Answer

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: deque[Answer] = deque()
        self.handler: Callable[[Received], Answer] | None = None
        self.lock = threading.Lock()
        self.url = ""

    def respond(self, status: int = 200, json: Any = None, **kwargs: Any) -> None:
        self.script.append(Answer(status, json, **kwargs))

    def answer(self, received: Received) -> Answer:
        with self.lock:
            self.received.append(received)
            if self.handler is not None:
                return self.handler(received)
            return self.script.popleft() if self.script else Answer(200, {"data": []})


def _handler_class(fake: FakeKlaviyo) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like Klaviyo

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            received = Received(
                method=self.command,
                path=parts.path,
                query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                at=time.monotonic(),
            )
            answer = fake.answer(received)
            if answer.raw is not None:
                payload = answer.raw
            elif answer.json is not None:
                payload = json.dumps(answer.json).encode()
            else:
                payload = b""
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/vnd.api+json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def klaviyo_server() -> Iterator[FakeKlaviyo]:
    """Serve a scriptable fake Klaviyo on 127.0.0.1 (a free port) for one test."""
    fake = FakeKlaviyo()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_port}"
    yield fake
    server.shutdown()
    server.server_close()


class FakeClock:
    """A monotonic clock that only moves when someone sleeps; records the sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(klaviyo_server: FakeKlaviyo, clock: FakeClock) -> Callable[..., KlaviyoClient]:
    """Build a client for the fake server whose sleeps and rate limits use the fake clock."""

    def make(credentials: Any = None, **kwargs: Any) -> KlaviyoClient:
        kwargs.setdefault("base_url", klaviyo_server.url)
        kwargs.setdefault("rate_limiter", LocalRateLimiter(clock=clock, sleep=clock.sleep))
        kwargs.setdefault("sleep", clock.sleep)
        kwargs.setdefault("jitter", no_jitter)
        return KlaviyoClient(credentials or ApiKeyCredentials("pk_secret123"), **kwargs)

    return make
