"""The transport over a real loopback socket: a tiny HTTP server started by the test."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from .conftest import KEY, RecordingClock, Runner, fixture

GEN = fixture("generation.pending.image")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.server.seen.append((self.command, self.path, dict(self.headers), body))
        if self.path == "/v1/generations":
            self._reply(308, headers={"Location": "/v1/images", "Aurous-Deprecated": "route"})
        elif self.path == "/v1/images" and self.server.failures_left > 0:
            self.server.failures_left -= 1
            self._reply(500, fixture("error.internal_error"))
        else:
            self._reply(201, GEN, {"Aurous-Request-Id": "req_loopback"})

    def do_GET(self) -> None:
        self.server.seen.append((self.command, self.path, dict(self.headers), b""))
        self._reply(200, fixture("balance"), {"X-RateLimit-Remaining": "5"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.failures_left = 1


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_retry_and_redirect_over_real_socket(
    run: Runner, server: _Server, clock: RecordingClock
) -> None:
    base = f"http://127.0.0.1:{server.server_address[1]}"
    run.client(base_url=base)._set_clock(clock)
    g = run(lambda c: c.images.create(prompt="over the wire"))
    assert g.id == GEN["id"]
    assert g._request_id == "req_loopback"
    posts = [s for s in server.seen if s[0] == "POST"]
    assert len(posts) == 2
    keys = {s[2]["Idempotency-Key"] for s in posts}
    assert len(keys) == 1
    assert all(s[2]["X-Api-Key"] == KEY for s in posts)
    assert all(json.loads(s[3]) == {"prompt": "over the wire"} for s in posts)

    balance = run(lambda c: c.balance.retrieve())
    assert balance._response.rate_limit.remaining == 5


def test_legacy_308_followed_over_real_socket(run: Runner, server: _Server) -> None:
    import aurous._transport
    from aurous._call import Call
    from aurous._drivers import run_async, run_sync
    from aurous.types import Generation

    aurous._transport._warned_routes.clear()
    server.failures_left = 0
    base = f"http://127.0.0.1:{server.server_address[1]}"
    client = run.client(base_url=base)
    call = Call("POST", "/v1/generations", json={"prompt": "legacy"}, idempotent=True,
                parse=Generation.model_validate)  # fmt: skip
    with pytest.warns(DeprecationWarning, match="generations"):
        g = run(lambda c: (run_async if c._is_async else run_sync)(client, iter(call)))
    assert g.id == GEN["id"]
    first, second = server.seen[-2], server.seen[-1]
    assert (first[1], second[1]) == ("/v1/generations", "/v1/images")
    assert second[3] == first[3] == b'{"prompt":"legacy"}'
    assert second[2]["Idempotency-Key"] == first[2]["Idempotency-Key"]
    assert isinstance(client, (aurous.Client, aurous.AsyncClient))
