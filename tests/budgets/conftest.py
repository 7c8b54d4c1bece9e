"""A bench for budget tests: an emulator, and clients of one mode (sync or async) on it whose
requests are counted at the transport — a create refused by a budget must never get there."""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import aurous
from aurous.emulator import Emulator
from tests.helpers.conftest import Counting

CREATES = (("POST", "/v1/images"), ("POST", "/v1/videos"))


class Bench:
    """One emulator; ``client()`` builds clients of ``mode`` on it, all counted by ``counting``.

    ``bench(value)`` resolves an awaitable in async mode and returns anything else unchanged,
    so one test body covers `aurous.Client` and `aurous.AsyncClient`.
    """

    def __init__(self, mode: str, emu: Emulator) -> None:
        self.mode = mode
        self.emu = emu
        self.loop = asyncio.new_event_loop() if mode == "async" else None
        self.counting = Counting(emu.async_transport if mode == "async" else emu.transport)
        self._clients: list[Any] = []

    @property
    def is_async(self) -> bool:
        return self.mode == "async"

    def client(self, **options: Any) -> Any:
        emu = self.emu
        options.setdefault("api_key", emu.api_key)
        client: aurous.Client | aurous.AsyncClient
        if self.is_async:
            http = httpx.AsyncClient(transport=self.counting, base_url=emu.base_url)
            client = aurous.AsyncClient(base_url=emu.base_url, http_client=http, **options)
        else:
            sync_http = httpx.Client(transport=self.counting, base_url=emu.base_url)
            client = aurous.Client(base_url=emu.base_url, http_client=sync_http, **options)
        if emu.sdk_clock is not None:
            client._set_clock(emu.sdk_clock)
        self._clients.append(client)
        return client

    def __call__(self, value: Any) -> Any:
        if inspect.isawaitable(value):
            assert self.loop is not None

            async def wait() -> Any:
                return await value

            return self.loop.run_until_complete(wait())
        return value

    def gather(self, calls: list[Callable[[], Any]]) -> list[Any]:
        """Run ``calls`` at once (threads, or tasks); each one's result or exception."""
        if self.is_async:
            assert self.loop is not None

            async def all_of() -> list[Any]:
                return await asyncio.gather(*(call() for call in calls), return_exceptions=True)

            return self.loop.run_until_complete(all_of())
        results: list[Any] = [None] * len(calls)
        start = threading.Barrier(len(calls))

        def run(index: int) -> None:
            start.wait()
            try:
                results[index] = calls[index]()
            except Exception as exc:
                results[index] = exc

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        return results

    def sent(self, *routes: tuple[str, str]) -> int:
        """Requests the transport saw for ``routes`` (default: the creates)."""
        wanted = routes or CREATES
        return sum(1 for request in self.counting.requests if request in wanted)

    def close(self) -> None:
        for client in self._clients:
            self(client.close())
        if self.loop is not None:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()
        self.emu.close()


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_bench(mode: str) -> Iterator[Callable[..., Bench]]:
    """``make_bench(**emulator_options)``: a `Bench` (manual clock unless told otherwise)."""
    made: list[Bench] = []

    def make(**options: Any) -> Bench:
        if not options.get("instant"):
            options.setdefault("clock", "manual")
        bench = Bench(mode, Emulator(**options))
        made.append(bench)
        return bench

    yield make
    for bench in made:
        bench.close()


@pytest.fixture
def bench(make_bench: Callable[..., Bench]) -> Bench:
    return make_bench()
