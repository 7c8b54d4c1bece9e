"""Many callers on one client: does the client keep a team inside its limits?

Three runs, each with client pacing on (the default) and off (``pacing=False``, how the SDK
behaved before it paced itself), against the emulator's default limits unless said otherwise:

1. **async web backend**: N concurrent ``images.create_and_wait`` on one ``AsyncClient``, served
   emulator over real HTTP (10 generations in flight, ``images_post`` 120 burst + 60/min, 2.0 s
   per image). The limits allow ``ceil(N / 10) × 2 s``.
2. **threads**: N threads sharing one ``Client``, one ``create_and_wait`` each, same server.
3. **small bucket**: N concurrent ``images.create`` on an in-process emulator whose
   ``images_post`` bucket is 5 burst + 2/s (instant generations). The limits allow
   ``(N − 5) / 2`` seconds.

Reported per run: succeeded/failed (by error), wall time and its ratio to what the limits allow,
429 responses (by code), requests sent, and credits spent (= generations billed).

    python benchmarks/pacing.py            # 60 / 30 / 25 callers (about a minute)
    python benchmarks/pacing.py --quick    # tiny counts, for a smoke test

This is not a test; it prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx

import aurous
from aurous.emulator import Emulator

POLL = 0.25
"""Poll interval of the waits: a backend that wants answers soon polls more often than the 2 s
default, and frees its concurrency slots sooner."""


@dataclasses.dataclass
class Outcome:
    scenario: str
    pacing: bool
    callers: int
    succeeded: int
    failures: Counter[str]
    seconds: float
    allowed: float
    refused: Counter[str]
    requests: int
    credits: Decimal

    def row(self) -> str:
        failed = ", ".join(f"{n} {k}" for k, n in self.failures.most_common()) or "-"
        refused = ", ".join(f"{n} {k}" for k, n in self.refused.most_common()) or "0"
        ratio = self.seconds / self.allowed if self.allowed else math.nan
        return (
            f"| {self.scenario} | {'on' if self.pacing else 'off'} | {self.succeeded}/{self.callers}"
            f" | {failed} | {self.seconds:.1f} s | {ratio:.2f}× of {self.allowed:.1f} s"
            f" | {refused} | {self.requests} | {self.credits} |"
        )


class _Count:
    """Counts requests and 429 codes; shared by the sync and async wrappers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.refused: Counter[str] = Counter()

    def saw(self, response: httpx.Response) -> None:
        with self.lock:
            self.requests += 1
            if response.status_code == 429:
                try:
                    code = response.json()["error"]["code"]
                except (ValueError, KeyError, TypeError):
                    code = "429"
                self.refused[code] += 1


class _SyncCounting(httpx.HTTPTransport):
    def __init__(self, count: _Count) -> None:
        super().__init__()
        self.count = count

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if response.status_code == 429:
            response.read()
        self.count.saw(response)
        return response


class _AsyncCounting(httpx.AsyncHTTPTransport):
    def __init__(self, count: _Count) -> None:
        super().__init__()
        self.count = count

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if response.status_code == 429:
            await response.aread()
        self.count.saw(response)
        return response


def _per_image(emu: Emulator) -> float:
    phases = emu.config.phases_for("image")
    return float(phases.pending + phases.processing)


def _failure(error: BaseException) -> str:
    code = getattr(error, "code", None)
    return f"{type(error).__name__}({code})" if code else type(error).__name__


def run_async_backend(callers: int, pacing: bool, speed: float) -> Outcome:
    emu = Emulator(speed=speed, credits=100_000)
    count = _Count()
    with emu.serve() as server:
        http = httpx.AsyncClient(transport=_AsyncCounting(count), timeout=60)
        client = aurous.AsyncClient(
            api_key=emu.api_key, base_url=server.base_url, http_client=http, pacing=pacing
        )

        async def one(n: int) -> aurous.Generation:
            return await client.images.create_and_wait(
                prompt=f"caller {n}", poll_interval=POLL, timeout=600
            )

        async def everyone() -> list[Any]:
            try:
                return await asyncio.gather(
                    *(one(n) for n in range(callers)), return_exceptions=True
                )
            finally:
                await http.aclose()

        start = time.perf_counter()
        results = asyncio.run(everyone())
        seconds = time.perf_counter() - start
    per_image = _per_image(emu)
    allowed = math.ceil(callers / emu.config.concurrency_limit) * per_image
    return _outcome("async backend, served", pacing, callers, results, seconds, allowed, count, emu)


def run_threads(callers: int, pacing: bool, speed: float) -> Outcome:
    emu = Emulator(speed=speed, credits=100_000)
    count = _Count()
    with emu.serve() as server:
        http = httpx.Client(transport=_SyncCounting(count), timeout=60)
        client = aurous.Client(
            api_key=emu.api_key, base_url=server.base_url, http_client=http, pacing=pacing
        )

        def one(n: int) -> Any:
            try:
                return client.images.create_and_wait(
                    prompt=f"thread {n}", poll_interval=POLL, timeout=600
                )
            except aurous.AurousError as error:
                return error

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=callers) as pool:
            results = list(pool.map(one, range(callers)))
        seconds = time.perf_counter() - start
        http.close()
    per_image = _per_image(emu)
    allowed = math.ceil(callers / emu.config.concurrency_limit) * per_image
    return _outcome("threads, served", pacing, callers, results, seconds, allowed, count, emu)


def run_small_bucket(callers: int, pacing: bool) -> Outcome:
    emu = Emulator(rate_limits={"images_post": (5, 120)}, instant=True, credits=100_000)
    count = _Count()

    class Counting(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await emu.async_transport.handle_async_request(request)
            if response.status_code == 429:
                await response.aread()
            count.saw(response)
            return response

    http = httpx.AsyncClient(transport=Counting(), base_url=emu.base_url)
    client = aurous.AsyncClient(
        api_key=emu.api_key, base_url=emu.base_url, http_client=http, pacing=pacing
    )

    async def everyone() -> list[Any]:
        return await asyncio.gather(
            *(client.images.create(prompt=f"p{n}") for n in range(callers)), return_exceptions=True
        )

    start = time.perf_counter()
    results = asyncio.run(everyone())
    seconds = time.perf_counter() - start
    allowed = max(0.0, (callers - 5) / 2.0)
    return _outcome(
        "small bucket, in-process", pacing, callers, results, seconds, allowed, count, emu
    )


def _outcome(
    scenario: str,
    pacing: bool,
    callers: int,
    results: list[Any],
    seconds: float,
    allowed: float,
    count: _Count,
    emu: Emulator,
) -> Outcome:
    failures = Counter(_failure(r) for r in results if isinstance(r, BaseException))
    succeeded = sum(1 for r in results if isinstance(r, aurous.Generation))
    spent = Decimal(100_000) - Decimal(str(emu.team.balance()["available_credits"]))
    emu.close()
    return Outcome(
        scenario,
        pacing,
        callers,
        succeeded,
        failures,
        seconds,
        allowed,
        count.refused,
        count.requests,
        spent,
    )


HEADER = (
    "| run | pacing | succeeded | failed | wall | vs what the limits allow | 429s | requests | credits |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="tiny counts (a smoke test)")
    parser.add_argument("--speed", type=float, default=1.0, help="emulator speed for runs 1-2")
    args = parser.parse_args(argv)
    backend, threads, bucket = (6, 4, 7) if args.quick else (60, 30, 25)
    speed = 20.0 if args.quick else args.speed
    runs: list[Callable[[], Outcome]] = []
    for pacing in (True, False):
        runs += [
            lambda p=pacing: run_async_backend(backend, p, speed),
            lambda p=pacing: run_threads(threads, p, speed),
            lambda p=pacing: run_small_bucket(bucket, p),
        ]
    print(HEADER, flush=True)
    for run in runs:
        print(run().row(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
