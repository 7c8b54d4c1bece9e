"""Fixtures for the waiting / download / batch helpers: both clients on the emulator's manual clock."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import aurous
from aurous.emulator import Emulator


class Harness:
    """One emulator (manual clock) and an SDK client of the requested mode wired to it.

    ``h(value)`` resolves an awaitable in async mode and returns plain values unchanged, so
    one test body covers `aurous.Client` and `aurous.AsyncClient`.
    """

    def __init__(self, mode: str, emu: Emulator) -> None:
        self.mode = mode
        self.emu = emu
        self.loop = asyncio.new_event_loop() if mode == "async" else None
        self._clients: list[Any] = []
        self.client = self.make_client()

    @property
    def is_async(self) -> bool:
        return self.mode == "async"

    def make_client(
        self, wrap: Callable[[Any], Any] | None = None, **options: Any
    ) -> aurous.Client | aurous.AsyncClient:
        """A client on the emulator; ``wrap(transport)`` may interpose a transport of its own."""
        emu = self.emu
        client: aurous.Client | aurous.AsyncClient
        options.setdefault("api_key", emu.api_key)
        if self.is_async:
            transport: Any = emu.async_transport if wrap is None else wrap(emu.async_transport)
            http = httpx.AsyncClient(transport=transport, base_url=emu.base_url)
            client = aurous.AsyncClient(base_url=emu.base_url, http_client=http, **options)
        else:
            transport = emu.transport if wrap is None else wrap(emu.transport)
            sync_http = httpx.Client(transport=transport, base_url=emu.base_url)
            client = aurous.Client(base_url=emu.base_url, http_client=sync_http, **options)
        clock = emu.sdk_clock
        assert clock is not None
        client._set_clock(clock)
        self._clients.append(client)
        return client

    def __call__(self, value: Any) -> Any:
        if inspect.isawaitable(value):
            assert self.loop is not None

            async def wait() -> Any:
                return await value

            return self.loop.run_until_complete(wait())
        return value

    def raw_get(self, url: str) -> httpx.Response:
        """Fetch ``url`` from the emulator with plain httpx (no SDK)."""
        with httpx.Client(transport=self.emu.transport) as http:
            return http.get(url)

    def close(self) -> None:
        for client in self._clients:
            self(client.close())
        if self.loop is not None:
            # Streams left half-read close in async generators: let them finish first
            # (Python 3.13 drops them, with a warning, when the loop closes).
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()
        self.emu.close()


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_harness(mode: str) -> Iterator[Callable[..., Harness]]:
    """``make_harness(**emulator_options)``: a `Harness` on a fresh manual-clock emulator."""
    made: list[Harness] = []

    def make(**options: Any) -> Harness:
        options.setdefault("clock", "manual")
        harness = Harness(mode, Emulator(**options))
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()


@pytest.fixture
def h(make_harness: Callable[..., Harness]) -> Harness:
    """A `Harness` on a default manual-clock emulator."""
    return make_harness()


class BreakingStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that sends its first ``cut`` bytes and then breaks like a reset connection."""

    def __init__(self, body: bytes, cut: int) -> None:
        self.body = body
        self.cut = cut

    def __iter__(self) -> Iterator[bytes]:
        yield self.body[: self.cut]
        raise httpx.ReadError("connection reset by peer")

    async def __aiter__(self) -> Any:
        yield self.body[: self.cut]
        raise httpx.ReadError("connection reset by peer")


class CutBodies(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Wraps the emulator's transport; the first ``times`` successful responses whose path
    contains ``fragment`` break off after ``cut`` bytes. Records every request it sees."""

    def __init__(self, inner: Any, fragment: str, *, cut: int, times: int = 1) -> None:
        self.inner = inner
        self.fragment = fragment
        self.cut = cut
        self.times = times
        self.requests: list[httpx.Request] = []

    def _maybe_cut(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if self.times and self.fragment in request.url.path and response.is_success:
            self.times -= 1
            return httpx.Response(
                response.status_code,
                headers=response.headers,
                stream=BreakingStream(response.content, self.cut),
                request=request,
            )
        return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = self.inner.handle_request(request)
        response.read()
        return self._maybe_cut(request, response)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = await self.inner.handle_async_request(request)
        await response.aread()
        return self._maybe_cut(request, response)


class Counting(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Wraps a transport and counts requests and 429 responses (by error code)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.requests: list[tuple[str, str]] = []
        self.rate_limited: list[str] = []

    def _seen(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        if response.status_code == 429:
            response.read()
            self.rate_limited.append(response.json()["error"]["code"])
        return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._seen(request, self.inner.handle_request(request))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if response.status_code == 429:
            await response.aread()
        return self._seen(request, response)
