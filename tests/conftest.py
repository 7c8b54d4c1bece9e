"""Shared fixtures: run the same test body against `aurous.Client` and `aurous.AsyncClient`."""

from __future__ import annotations

import asyncio
import inspect
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import aurous

FIXTURES = Path(__file__).parent / "fixtures"
API = "https://api.test"
KEY = "al_live_" + "ab" * 32


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    # The schemathesis contract test builds its cases while it is collected (seconds of work):
    # when the run leaves slow tests out, as the default run does, it is not collected at all.
    if collection_path.name == "test_schemathesis.py":
        expression = str(config.getoption("markexpr") or "")
        if expression.replace(" ", "") == "notslow":
            return True
    return None


def fixture(name: str) -> Any:
    """The JSON of ``tests/fixtures/<name>.json``."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


class RecordingClock:
    """A clock that records sleeps instead of sleeping (and moves its own time forward)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class Runner:
    """Builds a sync or async client and runs ``fn(client)`` to completion in either mode."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.loop = asyncio.new_event_loop() if mode == "async" else None
        self.clients: list[Any] = []

    @property
    def is_async(self) -> bool:
        return self.mode == "async"

    def client(self, **options: Any) -> Any:
        options.setdefault("api_key", KEY)
        options.setdefault("base_url", API)
        cls = aurous.AsyncClient if self.is_async else aurous.Client
        client = cls(**options)
        self.clients.append(client)
        return client

    def __call__(self, fn: Callable[[Any], Any]) -> Any:
        result = fn(self.clients[-1]) if self.clients else fn(self.client())
        return self.resolve(result)

    def resolve(self, result: Any) -> Any:
        if inspect.isawaitable(result):
            assert self.loop is not None
            return self.loop.run_until_complete(_await(result))
        return result

    def collect(self, iterable: Any) -> list[Any]:
        """Exhaust a sync iterable or an async iterable."""
        if hasattr(iterable, "__aiter__"):

            async def gather() -> list[Any]:
                return [item async for item in iterable]

            assert self.loop is not None
            return self.loop.run_until_complete(gather())
        return list(iterable)

    def close(self) -> None:
        for client in self.clients:
            self.resolve(client.close())
        if self.loop is not None:
            # Streams left half-read close in async generators: let them finish first
            # (Python 3.13 drops them, with a warning, when the loop closes).
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()


async def _await(awaitable: Any) -> Any:
    return await awaitable


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Iterator[Runner]:
    """A `Runner` for each of the two clients."""
    runner = Runner(request.param)
    yield runner
    runner.close()


@pytest.fixture
def clock() -> RecordingClock:
    return RecordingClock()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``redis-server`` for the session (per xdist worker), on a free port in a temporary
    directory, without persistence. Tests keep apart by the names they use (or flush it)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; CI installs it)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    directory = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)
