"""Completion without waste: a video batch by polling alone, and with webhooks that wake waits.

Against the emulator served from its own process at the API's default limits (10 generations in
flight; videos take 1 + 4 s), real clock, every output downloaded:

1. **polling**: ``videos.batch`` of N videos (default 200). Polling learns: once the client has
   seen videos finish, the first poll of the next comes just past the usual duration.
2. **webhooks**: the same batch while the emulator delivers its signed events over HTTP to an
   `aurous.webhooks.Receiver` served on loopback (uvicorn); a delivery wakes the waiting item at
   once, without another request.
3. **wake-up**: M concurrent ``wait`` calls with a one-minute poll interval, each ended by its
   webhook: how long after the receiver took the delivery the wait returned.

Reported: wall time ÷ what the limits allow (``aurous.BatchEstimate``'s lower bound), reads
(``GET /v1/images/{id}``) per generation, 429s, and the wake-up delays (p50 / p95 / max).

    python benchmarks/completion.py              # 200 videos twice, 50 waits (~5 minutes)
    python benchmarks/completion.py --quick      # 12 videos, 5 waits (a smoke test)
    python benchmarks/completion.py --wake-ups-only   # the 50 waits alone (~30 s)

This is not a test; it prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

import aurous
from aurous.emulator import Emulator

sys.path.insert(0, str(Path(__file__).parent))
from batch import Traffic, allowed_seconds

API_KEY = "al_live_" + "c0" * 32
POLL, MAX_POLL = 0.5, 2.0
"""The batch's poll schedule, as in benchmarks/batch.py."""


def serve_forever(settings: str) -> None:
    """Child process: serve an emulator that may deliver webhooks to loopback receivers."""
    options = json.loads(settings)
    emu = Emulator(
        credits=options["credits"], api_key=API_KEY, allow_http_webhooks=True, rate_limits=True
    )
    with emu.serve(host="127.0.0.1", port=0) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


@contextlib.contextmanager
def served_emulator(credits: int) -> Iterator[str]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve-emulator", json.dumps({"credits": credits})],
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def served_receiver(receiver: aurous.webhooks.Receiver) -> Iterator[str]:
    """``receiver.asgi`` on a loopback port (uvicorn, a thread of this process)."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(receiver.asgi, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(10)


class _TimedWebhooks:
    """``client.webhooks`` noting when each delivery was taken (for the wake-up delays)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._client = inner._client
        self.taken: dict[str, float] = {}

    def receive(self, payload: bytes, *args: Any, **kwargs: Any) -> Any:
        # Noted before the delivery is taken: taking it wakes the wait, on another thread.
        generation_id = json.loads(payload).get("data", {}).get("id")
        self.taken.setdefault(generation_id, time.perf_counter())
        return self._inner.receive(payload, *args, **kwargs)


def _requests(count: int) -> list[dict[str, Any]]:
    return [
        {"prompt": f"benchmark clip {i}", "resolution": "480p", "duration": 2} for i in range(count)
    ]


async def _batch(base_url: str, count: int, webhooks: bool) -> dict[str, Any]:
    traffic = Traffic()
    http = httpx.AsyncClient(event_hooks=traffic.hooks(True), timeout=60)
    async with aurous.AsyncClient(api_key=API_KEY, base_url=base_url, http_client=http) as client:
        with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as out:
            if webhooks:
                receiver = aurous.webhooks.Receiver(client)
                url = stack.enter_context(served_receiver(receiver))
                endpoint = await client.webhook_endpoints.create(
                    url=url, events=["video.completed", "video.failed", "video.cancelled"]
                )
                receiver.secret = endpoint.secret
                traffic.requests.clear()
            started = time.perf_counter()
            results = await client.videos.batch(
                _requests(count),
                concurrency=16,
                download_to=out,
                poll_interval=POLL,
                max_poll_interval=MAX_POLL,
            )
            seconds = time.perf_counter() - started
    await http.aclose()
    reads = traffic.requests["read"] + traffic.requests["download"]
    return {
        "seconds": seconds,
        "allowed": allowed_seconds("video", count, 1.0, 16, reads),
        "ok": sum(r.ok for r in results),
        "reads": traffic.requests["read"],
        "refused": sum(traffic.rate_limited.values()),
        "count": count,
    }


async def _wake_ups(base_url: str, waits: int) -> list[float]:
    async with aurous.AsyncClient(api_key=API_KEY, base_url=base_url) as client:
        receiver = aurous.webhooks.Receiver(client)
        timed = _TimedWebhooks(client.webhooks)
        receiver.webhooks = timed  # type: ignore[assignment]
        with served_receiver(receiver) as url:
            endpoint = await client.webhook_endpoints.create(
                url=url, events=["video.completed", "video.failed"]
            )
            receiver.secret = endpoint.secret

            async def one(n: int) -> float | None:
                # Each wait starts as soon as its create is accepted (creates past the team's
                # 10 in flight wait for a slot, which a delivery frees); a delivery taken before
                # its wait began would time the create, not the wake-up.
                generation = await client.videos.create(
                    prompt=f"woken {n}", resolution="480p", duration=2
                )
                started = time.perf_counter()
                await client.videos.wait(generation, poll_interval=60, max_poll_interval=60)
                ended = time.perf_counter()
                taken = timed.taken.get(generation.id)
                return None if taken is None else ended - max(started, taken)

            delays = await asyncio.gather(*(one(n) for n in range(waits)))
            return [delay for delay in delays if delay is not None]


def _row(label: str, run: dict[str, Any]) -> str:
    return (
        f"| {label} | {run['ok']}/{run['count']} | {run['seconds']:.1f} s | {run['allowed']:.1f} s"
        f" | **{run['seconds'] / run['allowed']:.2f}×** | {run['reads'] / run['count']:.2f}"
        f" | {run['refused']} |"
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve-emulator"]:
        serve_forever(argv[1])
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="12 videos, 5 waits")
    parser.add_argument("--videos", type=int, default=200)
    parser.add_argument("--waits", type=int, default=50)
    parser.add_argument("--wake-ups-only", action="store_true", help="skip the two batches")
    args = parser.parse_args(argv)
    videos, waits = (12, 5) if args.quick else (args.videos, args.waits)
    print(f"aurous {aurous.__version__}: {videos} videos at the default limits", flush=True)
    print(
        "| run | succeeded | wall | the limits allow | wall ÷ allowed | polls per generation "
        "| 429s |\n|---|---|---|---|---|---|---|",
        flush=True,
    )
    runs = () if args.wake_ups_only else (("polling", False), ("webhooks", True))
    for label, webhooks in runs:
        with served_emulator(videos * 10) as base_url:
            print(_row(label, asyncio.run(_batch(base_url, videos, webhooks))), flush=True)
    with served_emulator(waits * 10) as base_url:
        delays = sorted(asyncio.run(_wake_ups(base_url, waits)))
    p95 = delays[min(len(delays) - 1, int(0.95 * len(delays)))]
    by_poll = f" ({waits - len(delays)} ended by a poll first)" if len(delays) < waits else ""
    print(
        f"\nwake-up after the delivery, {len(delays)} waits{by_poll}: "
        f"p50 {statistics.median(delays) * 1000:.1f} ms"
        f", p95 {p95 * 1000:.1f} ms, max {delays[-1] * 1000:.1f} ms",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
