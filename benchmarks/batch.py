"""Benchmark ``client.images.batch`` / ``client.videos.batch`` against the emulator served over
real HTTP.

Default run ("limits"): 1 000 images, then 200 videos, each on a fresh emulator at the API's
documented default limits (``images_post`` 120 burst + 60 per minute, ``reads`` 1 200 + 600 per
minute, 10 unfinished generations; emulator generations 0.5 + 1.5 s for images, 1 + 4 s for
videos, divided by ``--speed``), served from its own process, real clock. For each: wall time,
what the limits allow (the lower bound of ``aurous.BatchEstimate``, computed from the emulator's
configured bucket, concurrency limit and generation durations) and the ratio of the two, HTTP
requests per generation (creates, polls, downloads; every output is downloaded), 429s by code.
Then the overhead of ``estimate_batch``: requests and seconds per 1 000 lines of a requests
file. At the default tier 1 000 images cannot take less than about 15 minutes.

    python benchmarks/batch.py                        # 1000 images + 200 videos (~17 min)
    python benchmarks/batch.py --quick                # tiny counts, a few seconds (CI smoke)
    python benchmarks/batch.py --images 300 --videos 50 --speed 4
    python benchmarks/batch.py --async                # the same through AsyncClient

Sweep run (``--sweep``): for each concurrency level, N images on a fresh emulator at a higher
tier (``images_post`` 120 burst / 1800 per minute, ``reads`` 1200 / 6000 per minute,
concurrency limit 50, speed 10): wall time, generations per second, requests per generation,
429s, the rate-limit waits the batch reported, and the generations the server holds afterwards.

    python benchmarks/batch.py --sweep                     # 1000 generations at 8, 32 and 128
    python benchmarks/batch.py --sweep --count 200 --concurrency 16 64
    python benchmarks/batch.py --sweep --creates-per-minute 60000   # a tier that never binds

``--in-process`` serves from a thread of this process instead. This is not a test; it prints
tables.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx

import aurous
from aurous._batch._estimate import duration_lower_bound
from aurous.emulator import Emulator
from aurous.emulator._config import DEFAULT_BUCKETS, EmulatorConfig

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


def _emulator(settings: dict[str, Any]) -> Emulator:
    tier = {name: (int(c), int(r)) for name, (c, r) in (settings.get("tier") or {}).items()}
    return Emulator(
        speed=settings.get("speed", SPEED),
        rate_limits=tier or True,
        concurrency_limit=settings.get("concurrency_limit", CONCURRENCY_LIMIT),
        credits=settings["credits"],
        api_key=API_KEY,
    )


def serve_forever(settings: str) -> None:
    """Child process: serve an emulator, print its URL, stop when stdin closes."""
    with _emulator(json.loads(settings)).serve(host="127.0.0.1", port=0) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


@contextlib.contextmanager
def serve(settings: dict[str, Any], in_process: bool) -> Iterator[str]:
    """The base URL of a fresh emulator with ``settings``, served until the block ends."""
    if in_process:
        with _emulator(settings).serve(host="127.0.0.1", port=0) as server:
            yield server.base_url
        return
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve-emulator", json.dumps(settings)],
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


@contextlib.contextmanager
def emulator_url(tier: dict[str, tuple[int, int]], credits: int, in_process: bool) -> Iterator[str]:
    with serve({"tier": tier, "credits": credits}, in_process) as url:
        yield url


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


# ---- the default run: images and videos at the documented limits ------------------------------


class Traffic:
    """Counts the HTTP requests a client sends (by route kind) and the 429s it gets (by code)."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.rate_limited: Counter[str] = Counter()

    def kind(self, request: httpx.Request) -> str:
        path = request.url.path
        if request.method == "POST":
            return "estimate" if path.endswith("/estimate") else "create"
        return "download" if "/output" in path else "read"

    def seen(self, response: httpx.Response) -> None:
        self.requests[self.kind(response.request)] += 1
        if response.status_code == 429:
            self.rate_limited[response.json()["error"]["code"]] += 1

    def hooks(self, use_async: bool) -> dict[str, list[Callable[..., Any]]]:
        if use_async:

            async def seen_async(response: httpx.Response) -> None:
                if response.status_code == 429:
                    await response.aread()
                self.seen(response)

            return {"response": [seen_async]}

        def seen_sync(response: httpx.Response) -> None:
            if response.status_code == 429:
                response.read()
            self.seen(response)

        return {"response": [seen_sync]}


def run_with_client(base_url: str, use_async: bool, traffic: Traffic, work: Any) -> Any:
    """``work(client)`` on a fresh client of ``base_url`` whose requests ``traffic`` counts."""
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
    if use_async:

        async def run() -> Any:
            http = httpx.AsyncClient(event_hooks=traffic.hooks(True), limits=limits)
            async with (
                http,
                aurous.AsyncClient(api_key=API_KEY, base_url=base_url, http_client=http) as client,
            ):
                return await work(client)

        return asyncio.run(run())
    http = httpx.Client(event_hooks=traffic.hooks(False), limits=limits)
    with http, aurous.Client(api_key=API_KEY, base_url=base_url, http_client=http) as client:
        return work(client)


def allowed_seconds(media: str, count: int, speed: float, concurrency: int, reads: int) -> float:
    """The fewest seconds the emulator's configured limits allow for this batch."""
    config = EmulatorConfig(speed=speed)
    phases = config.phases_for(media)
    burst, per_minute = DEFAULT_BUCKETS["images_post"]
    reads_burst, reads_per_minute = DEFAULT_BUCKETS["reads"]
    return duration_lower_bound(
        generations=count,
        generation_seconds=phases.pending + phases.processing,
        create_burst=burst,
        create_per_second=per_minute / 60,
        concurrency_limit=min(config.concurrency_limit, concurrency),
        reads=reads,
        reads_burst=reads_burst,
        reads_per_second=reads_per_minute / 60,
    )


@dataclasses.dataclass
class Scenario:
    media: str
    count: int
    seconds: float
    allowed: float
    ok: int
    traffic: Traffic


def run_scenario(
    media: str, count: int, speed: float, concurrency: int, use_async: bool, in_process: bool
) -> Scenario:
    if media == "video":
        requests: list[Any] = [
            {"prompt": f"benchmark clip {i}", "resolution": "480p", "duration": 2}
            for i in range(count)
        ]
    else:
        requests = [f"benchmark image {i}" for i in range(count)]
    settings = {"speed": speed, "concurrency_limit": 10, "credits": count * 10}
    traffic = Traffic()
    with tempfile.TemporaryDirectory() as out, serve(settings, in_process) as base_url:

        def work(client: Any) -> Any:
            namespace = client.videos if media == "video" else client.images
            return namespace.batch(
                requests,
                concurrency=concurrency,
                download_to=out,
                poll_interval=0.5,
                max_poll_interval=2.0,
            )

        started = time.perf_counter()
        results = run_with_client(base_url, use_async, traffic, work)
        seconds = time.perf_counter() - started
    reads = traffic.requests["read"] + traffic.requests["download"]
    allowed = allowed_seconds(media, count, speed, concurrency, reads)
    return Scenario(media, count, seconds, allowed, sum(r.ok for r in results), traffic)


def preview_lines(count: int) -> tuple[list[Any], list[Any]]:
    """``count`` lines of an image requests file and of a video one, of mixed kinds."""
    images: list[Any] = [
        {"prompt": f"line {i}", "count": 1 + i % 4, "enhance_prompt": i % 3 == 0}
        for i in range(count)
    ]
    videos: list[Any] = [
        {"prompt": f"clip {i}", "video_lora_id": "seedance-1-pro"}
        if i % 2
        else {
            "prompt": f"clip {i}",
            "resolution": ["480p", "720p", "1080p"][i % 3],
            "duration": 2 + i % 11,
        }
        for i in range(count)
    ]
    return images, videos


def run_preview(lines: int, use_async: bool, in_process: bool) -> list[tuple[str, int, float, int]]:
    """(media, requests sent, seconds, lines) of ``estimate_batch`` on ``lines`` lines."""
    images, videos = preview_lines(lines)
    measured = []
    with serve({"speed": 1.0, "concurrency_limit": 10, "credits": 1000}, in_process) as base_url:
        for media, requests in (("image", images), ("video", videos)):
            traffic = Traffic()

            def work(client: Any, media: str = media, requests: list[Any] = requests) -> Any:
                namespace = client.videos if media == "video" else client.images
                return namespace.estimate_batch(requests)

            started = time.perf_counter()
            estimate = run_with_client(base_url, use_async, traffic, work)
            seconds = time.perf_counter() - started
            assert estimate.requests == lines
            measured.append((media, sum(traffic.requests.values()), seconds, lines))
    return measured


def limits_run(args: argparse.Namespace) -> None:
    client = "AsyncClient" if args.use_async else "Client (worker threads)"
    where = "in-process server thread" if args.in_process else "server in its own process"
    print(
        f"Emulator at the documented default limits ({where}, real clock, speed {args.speed:g}); "
        f"batch concurrency {args.batch_concurrency}, poll 0.5-2 s, every output downloaded; "
        f"{client}."
    )
    print(
        "| batch | n | ok | wall s | limits allow s | ratio | requests/gen "
        "| creates | reads | downloads | 429s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for media, count in (("image", args.images), ("video", args.videos)):
        if count <= 0:
            continue
        run = run_scenario(
            media, count, args.speed, args.batch_concurrency, args.use_async, args.in_process
        )
        requests = run.traffic.requests
        total = sum(requests.values())
        limited = dict(run.traffic.rate_limited) or "-"
        print(
            f"| {media}s | {count} | {run.ok} | {run.seconds:.1f} | {run.allowed:.1f} "
            f"| {run.seconds / run.allowed:.2f} | {total / count:.2f} | {requests['create']} "
            f"| {requests['read']} | {requests['download']} | {limited} |"
        )
    print()
    print("estimate_batch overhead (mixed requests; videos half left to their LoRA's defaults):")
    print("| media | lines | requests | seconds | requests per 1000 lines | s per 1000 lines |")
    print("|---|---|---|---|---|---|")
    for media, sent, seconds, lines in run_preview(
        args.preview_lines, args.use_async, args.in_process
    ):
        print(
            f"| {media} | {lines} | {sent} | {seconds:.3f} | {sent * 1000 / lines:.1f} "
            f"| {seconds * 1000 / lines:.3f} |"
        )


# ---- the sweep: one tier, several concurrency levels ---------------------------------------------


def sweep_run(args: argparse.Namespace) -> None:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000, help="images in the limits run")
    parser.add_argument("--videos", type=int, default=200, help="videos in the limits run")
    parser.add_argument("--speed", type=float, default=1.0, help="emulator speed (limits run)")
    parser.add_argument(
        "--batch-concurrency", type=int, default=16, help="batch concurrency (limits run)"
    )
    parser.add_argument(
        "--preview-lines", type=int, default=5000, help="lines priced by estimate_batch"
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny counts, in-process server: a smoke run"
    )
    parser.add_argument("--sweep", action="store_true", help="the concurrency sweep instead")
    parser.add_argument("--count", type=int, default=1000, help="generations per sweep run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32, 128])
    parser.add_argument("--poll-interval", type=float, default=0.25, help="first poll (sweep)")
    parser.add_argument(
        "--creates-per-minute",
        type=int,
        default=TIER["images_post"][1],
        help="sustained rate of the images_post bucket (sweep)",
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
    if args.quick:
        args.images, args.videos, args.preview_lines = 12, 4, 200
        args.count, args.concurrency = 12, [4]
        args.speed = max(args.speed, 20.0)
        args.in_process = True
    if args.sweep:
        sweep_run(args)
    else:
        limits_run(args)


if __name__ == "__main__":
    main()
