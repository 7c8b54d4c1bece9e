"""What the reliability tests and drills share: both clients on a hostile server, and counters.

`Both` runs one test body on `aurous.Client` or `aurous.AsyncClient` (one event loop per test,
so pooled connections of a served emulator stay on their loop). `hostile` builds a client whose
every request is answered by a plain function (``httpx.MockTransport``), the way a broken server
or proxy would answer. `Corrupt` wraps the emulator's transport and replaces chosen 2xx bodies
after the emulator has done the work, so the server side is real and only the answer is broken.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

import aurous
from aurous.emulator import Emulator

API = "https://api.test"
KEY = "al_live_" + "cd" * 32
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REPO = Path(__file__).resolve().parents[2]

Handler = Callable[[httpx.Request], httpx.Response]


def fixture(name: str) -> Any:
    """The JSON of ``tests/fixtures/<name>.json``."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def body(status: int, content: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    """A response whose body is streamed as given (not decoded or checked by httpx up front)."""
    return httpx.Response(status, headers=headers or {}, stream=httpx.ByteStream(content))


class Both:
    """Runs a test body on the sync or the async client; ``b(value)`` resolves awaitables."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.loop = asyncio.new_event_loop() if mode == "async" else None
        self.clients: list[Any] = []

    @property
    def is_async(self) -> bool:
        return self.mode == "async"

    def __call__(self, value: Any) -> Any:
        if inspect.isawaitable(value):
            assert self.loop is not None

            async def wait() -> Any:
                return await value

            return self.loop.run_until_complete(wait())
        return value

    def collect(self, iterable: Any) -> list[Any]:
        """Every item of a sync or async iterable."""
        if hasattr(iterable, "__aiter__"):

            async def gather() -> list[Any]:
                return [item async for item in iterable]

            assert self.loop is not None
            return self.loop.run_until_complete(gather())
        return list(iterable)

    def hostile(self, handler: Handler, **options: Any) -> Any:
        """A client (of this mode) whose requests are all answered by ``handler``."""
        options.setdefault("api_key", KEY)
        options.setdefault("base_url", API)
        options.setdefault("max_retries", 0)
        transport = httpx.MockTransport(handler)
        client: Any
        if self.is_async:
            client = aurous.AsyncClient(
                http_client=httpx.AsyncClient(transport=transport), **options
            )
        else:
            client = aurous.Client(http_client=httpx.Client(transport=transport), **options)
        self.clients.append(client)
        return client

    def emulated(
        self, emu: Emulator, wrap: Callable[[Any], Any] | None = None, **options: Any
    ) -> Any:
        """A client on ``emu`` in-process; ``wrap(transport)`` may interpose a transport."""
        options.setdefault("api_key", emu.api_key)
        client: Any
        if self.is_async:
            inner: Any = emu.async_transport
            http: Any = httpx.AsyncClient(transport=wrap(inner) if wrap else inner)
            client = aurous.AsyncClient(base_url=emu.base_url, http_client=http, **options)
        else:
            inner = emu.transport
            http = httpx.Client(transport=wrap(inner) if wrap else inner)
            client = aurous.Client(base_url=emu.base_url, http_client=http, **options)
        if emu.sdk_clock is not None:
            client._set_clock(emu.sdk_clock)
        self.clients.append(client)
        return client

    def served(self, base_url: str, api_key: str, **options: Any) -> Any:
        """A client of this mode talking to ``base_url`` over real sockets."""
        cls = aurous.AsyncClient if self.is_async else aurous.Client
        client = cls(api_key=api_key, base_url=base_url, **options)
        self.clients.append(client)
        return client

    def close(self) -> None:
        for client in self.clients:
            self(client.close())
        if self.loop is not None:
            # Finalise the async generators httpx left suspended, as asyncio.run does
            # (Python 3.13 warns "never awaited" when the loop closes with them pending).
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()


class Corrupt(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Wraps an emulator transport: 2xx answers to requests ``pick`` chooses get ``replace``'s body.

    The emulator has already done the work (a create is committed and billed) when the body is
    replaced: exactly the case where losing the idempotency key would lose the generation.
    """

    def __init__(
        self,
        inner: Any,
        pick: Callable[[httpx.Request], bool],
        replace: Callable[[httpx.Response], httpx.Response],
        times: int | None = 1,
    ) -> None:
        self.inner = inner
        self.pick = pick
        self.replace = replace
        self.times = times
        self.corrupted: list[httpx.Request] = []
        self.requests: list[httpx.Request] = []

    def _maybe(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        self.requests.append(request)
        if response.is_success and self.pick(request) and self.times != 0:
            if self.times is not None:
                self.times -= 1
            self.corrupted.append(request)
            replaced = self.replace(response)
            replaced.request = request
            return replaced
        return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        return self._maybe(request, response)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        return self._maybe(request, response)


def raw_server(responses: list[bytes]) -> tuple[str, threading.Thread]:
    """A loopback server answering connection ``n`` with ``responses[n]`` as raw bytes, then
    closing it: for answers no well-behaved server library would produce."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def run() -> None:
        with listener:
            for raw in responses:
                connection, _ = listener.accept()
                with connection:
                    connection.recv(65536)
                    connection.sendall(raw)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", thread


def is_create(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path in ("/v1/images", "/v1/videos")


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Block until ``condition()`` holds (an observable state), failing after a generous bound."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def manifest_records(path: Path) -> list[dict[str, Any]]:
    """The complete records of a manifest (a torn last line is ignored)."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.endswith("\n"):
            records.append(json.loads(line))
    return records


def starts(path: Path) -> int:
    return sum(1 for r in manifest_records(path) if r.get("event") == "start")


def python(script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start ``script`` in a fresh interpreter that imports the same ``aurous`` as this one."""
    paths = [p for p in sys.path if p]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


def generation_rows(emu: Emulator) -> list[Any]:
    """Every generation row of the default team (what was generated, and billed)."""
    with emu.core.lock:
        return list(emu.team.generations.values())


def charged(emu: Emulator, starting: float = 1000.0) -> float:
    """Credits charged or held so far on the default team."""
    with emu.core.lock:
        return float(starting) - float(emu.team.credits) + float(emu.team.held)


def keys_of(errors: Iterable[BaseException]) -> list[str | None]:
    return [getattr(error, "idempotency_key", None) for error in errors]
