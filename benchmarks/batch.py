"""Benchmark ``client.images.batch`` against the emulator served over real HTTP.

For each concurrency level a fresh emulator is served on 127.0.0.1 in its own process (real
clock; generations ten times faster than the defaults: 0.05 s pending + 0.15 s processing) and
N generations are run through ``client.images.batch``. Reported: wall time, generations per
second, HTTP requests per generation, 429 responses seen (by code), the rate-limit waits the
batch reported, and the generations the server holds afterwards (from the credits spent: one
credit each).

Rate-limit tier configured (a "higher tier"; the API offers them on request):
``images_post`` 120 burst / 1800 per minute (30/s), ``reads`` 1200 burst / 6000 per minute
(100/s), concurrency limit 50 non-terminal generations. At the documented default tier
(60 creates per minute) 1 000 generations take about 15 minutes whatever the concurrency.

    python benchmarks/batch.py                       # 1000 generations at 8, 32 and 128
    python benchmarks/batch.py --count 200 --concurrency 16 64
    python benchmarks/batch.py --creates-per-minute 60000   # a tier that never binds
    python benchmarks/batch.py --async                      # the same through AsyncClient
    python benchmarks/batch.py --in-process                 # server thread in this process

This is not a test; it prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import httpx

import aurous
from aurous.emulator import Emulator

TIER = {"images_post": (120, 1800), "reads": (1200, 6000)}
CONCURRENCY_LIMIT = 50
SPEED = 10.0
API_KEY = "al_live_" + "be" * 32


@dataclasses.dataclass
class Run:
    concurrency: int
    seconds: float
    ok: int
    generations_on_server: int
    requests: int
    rate_limited: Counter[str]
    rate_limit_waits: int


def _emulator(tier: dict[str, tuple[int, int]], credits: int) -> Emulator:
    return Emulator(
        speed=SPEED,
        rate_limits=tier,
        concurrency_limit=CONCURRENCY_LIMIT,
        credits=credits,
        api_key=API_KEY,
    )


def serve_forever(settings: str) -> None:
    """Child process: serve an emulator, print its URL, stop when stdin closes."""
    config = json.loads(settings)
    tier = {name: (int(c), int(r)) for name, (c, r) in config["tier"].items()}
    with _emulator(tier, config["credits"]).serve(host="127.0.0.1", port=0) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


@contextlib.contextmanager
def emulator_url(tier: dict[str, tuple[int, int]], credits: int, in_process: bool) -> Iterator[str]:
    if in_process:
        with _emulator(tier, credits).serve(host="127.0.0.1", port=0) as server:
            yield server.base_url
        return
    settings = json.dumps({"tier": tier, "credits": credits})
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve-emulator", settings],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        yield child.stdout.readline().strip()
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=30)


def run_once(
    count: int,
    concurrency: int,
    poll_interval: float,
    tier: dict[str, tuple[int, int]],
    use_async: bool,
    in_process: bool,
) -> Run:
    credits = count * 2
    requests = 0
    rate_limited: Counter[str] = Counter()

    def count_response(response: httpx.Response) -> None:
        nonlocal requests
        requests += 1
        if response.status_code == 429:
            if not response.is_stream_consumed:
                response.read()
            rate_limited[response.json()["error"]["code"]] += 1

    waits = 0

    def on_progress(progress: aurous.BatchProgress) -> None:
        nonlocal waits
        waits = progress.rate_limit_waits

    prompts = [f"benchmark image {i}" for i in range(count)]
    limits = httpx.Limits(max_connections=concurrency + 8, max_keepalive_connections=concurrency)
    with emulator_url(tier, credits, in_process) as base_url:
        started = time.perf_counter()
        if use_async:

            async def count_async(response: httpx.Response) -> None:
                if response.status_code == 429:
                    await response.aread()
                count_response(response)

            async def run() -> list[aurous.BatchResult]:
                http = httpx.AsyncClient(event_hooks={"response": [count_async]}, limits=limits)
                async with (
                    http,
                    aurous.AsyncClient(
                        api_key=API_KEY, base_url=base_url, http_client=http
                    ) as client,
                ):
                    return await client.images.batch(
                        prompts,
                        concurrency=concurrency,
                        poll_interval=poll_interval,
                        max_poll_interval=1.0,
                        on_progress=on_progress,
                    )

            results = asyncio.run(run())
        else:
            http = httpx.Client(event_hooks={"response": [count_response]}, limits=limits)
            with (
                http,
                aurous.Client(api_key=API_KEY, base_url=base_url, http_client=http) as client,
            ):
                results = client.images.batch(
                    prompts,
                    concurrency=concurrency,
                    poll_interval=poll_interval,
                    max_poll_interval=1.0,
                    on_progress=on_progress,
                )
        seconds = time.perf_counter() - started
        with aurous.Client(api_key=API_KEY, base_url=base_url) as client:
            balance = client.balance.retrieve()
    spent = Decimal(credits) - Decimal(str(balance.credits))
    return Run(
        concurrency,
        seconds,
        sum(r.ok for r in results),
        int(spent),
        requests,
        rate_limited,
        waits,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="generations per run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32, 128])
    parser.add_argument("--poll-interval", type=float, default=0.25, help="first poll interval")
    parser.add_argument(
        "--creates-per-minute",
        type=int,
        default=TIER["images_post"][1],
        help="sustained rate of the images_post bucket",
    )
    parser.add_argument("--async", dest="use_async", action="store_true", help="use AsyncClient")
    parser.add_argument(
        "--in-process", action="store_true", help="serve from a thread of this process"
    )
    parser.add_argument("--serve-emulator", metavar="JSON", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_emulator:
        serve_forever(args.serve_emulator)
        return
    tier = {**TIER, "images_post": (TIER["images_post"][0], args.creates_per_minute)}
    where = "in-process server thread" if args.in_process else "server in its own process"
    print(
        f"{args.count} generations per run; emulator {where}, real clock, speed {SPEED:g}; "
        f"tier images_post {tier['images_post']}, reads {tier['reads']} (burst, per minute), "
        f"concurrency limit {CONCURRENCY_LIMIT}; poll interval {args.poll_interval:g}-1 s; "
        f"{'AsyncClient' if args.use_async else 'Client (worker threads)'}"
    )
    print(
        f"{'conc':>5} {'wall s':>8} {'gen/s':>7} {'ok':>6} {'on srv':>7} {'req/gen':>8} "
        f"{'429s':>6}  {'waits':>6}  429s by code"
    )
    for concurrency in args.concurrency:
        run = run_once(
            args.count, concurrency, args.poll_interval, tier, args.use_async, args.in_process
        )
        print(
            f"{run.concurrency:>5} {run.seconds:>8.2f} {args.count / run.seconds:>7.1f} "
            f"{run.ok:>6} {run.generations_on_server:>7} {run.requests / args.count:>8.2f} "
            f"{sum(run.rate_limited.values()):>6}  {run.rate_limit_waits:>6}  "
            f"{dict(run.rate_limited) or '-'}"
        )


if __name__ == "__main__":
    main()
