"""A fleet shares one team: N worker processes pace the team's limits together, or each alone.

N processes (as gunicorn/uvicorn workers, a Celery pool or replicas would be), each with its own
`aurous.AsyncClient`, run their share of 60 concurrent ``images.create_and_wait`` against one
served emulator with its default limits (10 generations in flight, 2 s per image: 60 cannot
finish in under 12 s). For each N in 1, 2, 4, 12, 24 and each pacing:

- ``local``: each process paces alone (``pacing=True``, the default);
- ``file``: the processes share a directory (``pacing="file:///…"``, one host);
- ``redis``: they share a Redis server (``pacing="redis://…"``), started here on a free port;

and 6 processes that share nothing but the Redis URL (each with its own HOME and TMPDIR, as
separate machines would). Reported per run: wall time ÷ the 12 s the limits allow, the share of
responses that were 429, the p50/p95 of one caller's wait (its ``create_and_wait``), the slowest
caller's wait ÷ the mean (fairness), and the server's own p95 answer time for reads (is the
emulator the bottleneck?).

    python benchmarks/fleet.py                 # every run (about 5 minutes)
    python benchmarks/fleet.py --quick         # 1 and 4 processes, 8 callers (a smoke test)
    python benchmarks/fleet.py --stores redis --processes 24
    python benchmarks/fleet.py --stores local --processes 1,2,4,6,10,12 --poll default
    python benchmarks/fleet.py --stores local --processes 2,6 --poll default --warm

Workers start cold by default, all at one instant, as fresh processes of a new user's script
do (and as issue #18's figures were taken): each loads the models and opens its connection on
its first create. ``--warm``: each first makes one read, as a worker that has served requests
would have, then all start together. Processes that pace alone split the concurrency limit by
which filled it first, so cold starts (seconds of CPU shared by many processes on few cores)
make that split uneven more often.

Needs ``redis-server`` on the PATH for the Redis runs (Debian: ``apt-get install redis-server``).
This is not a test; it prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

import aurous
from aurous.emulator import Emulator

POLL = 0.25
"""Poll interval of each caller's wait (a web backend that wants answers soon); ``--poll
default`` uses the client's defaults, as the figures in issue #18 were taken."""
CALLERS = 60


# ---- one worker process ------------------------------------------------------------------------


class _Counting(httpx.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.responses = 0
        self.refused = 0
        self.read_seconds: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        start = time.perf_counter()
        response = await super().handle_async_request(request)
        if request.method == "GET":
            self.read_seconds.append(time.perf_counter() - start)
        self.responses += 1
        if response.status_code == 429:
            self.refused += 1
        return response


async def _work(
    base_url: str, key: str, callers: int, pacing: str, start_at: float, poll: str, warm: bool
) -> dict[str, Any]:
    transport = _Counting()
    http = httpx.AsyncClient(transport=transport, timeout=60)
    use: bool | str = True if pacing == "local" else pacing
    client = aurous.AsyncClient(api_key=key, base_url=base_url, http_client=http, pacing=use)
    if warm:
        await client.images.list(limit=1)  # the models loaded, the connection open
        transport.responses = 0
        transport.read_seconds.clear()
    await asyncio.sleep(max(0.0, start_at - time.time()))
    late = max(0.0, time.time() - start_at)

    async def one(n: int) -> float:
        begun = time.perf_counter()
        prompt = f"{os.getpid()}-{n}"
        if poll == "default":
            await client.images.create_and_wait(prompt=prompt)
        else:
            await client.images.create_and_wait(prompt=prompt, poll_interval=float(poll))
        return time.perf_counter() - begun

    results = await asyncio.gather(*(one(n) for n in range(callers)), return_exceptions=True)
    ended = time.time()
    await http.aclose()
    return {
        "waits": [r for r in results if isinstance(r, float)],
        "failed": [f"{type(r).__name__}: {r}"[:200] for r in results if not isinstance(r, float)],
        "responses": transport.responses,
        "refused": transport.refused,
        "reads": transport.read_seconds,
        "ended": ended,
        "late": late,
    }


def worker(argv: list[str]) -> int:
    base_url, key, callers, pacing, start_at, poll, warm = argv
    report = asyncio.run(
        _work(base_url, key, int(callers), pacing, float(start_at), poll, warm == "warm")
    )
    print(json.dumps(report), flush=True)
    return 0


# ---- the parent ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway redis-server on a free port, in a temporary directory."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    with tempfile.TemporaryDirectory() as home:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", home],
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(10)


def _shares(total: int, processes: int) -> list[int]:
    base, extra = divmod(total, processes)
    return [base + (1 if n < extra else 0) for n in range(processes)]


def run(
    processes: int,
    pacing: str,
    callers: int,
    *,
    machines: bool = False,
    scratch: Path,
    poll: str = str(POLL),
    warm: bool = False,
) -> dict[str, Any]:
    emu = Emulator(credits=1_000_000)
    per_image = emu.config.phases_for("image")
    bound = math.ceil(callers / emu.config.concurrency_limit) * float(
        per_image.pending + per_image.processing
    )
    with emu.serve() as server:
        start_at = time.time() + 3.0 + 0.35 * processes  # every worker started and imported
        children = []
        for n, share in enumerate(_shares(callers, processes)):
            env = dict(os.environ)
            if machines:
                home = scratch / f"machine-{n}"
                (home / "tmp").mkdir(parents=True, exist_ok=True)
                env.update(HOME=str(home), TMPDIR=str(home / "tmp"))
            args = [server.base_url, emu.api_key, str(share), pacing, str(start_at), poll]
            args.append("warm" if warm else "cold")
            children.append(
                subprocess.Popen(
                    [sys.executable, __file__, "--worker", *args],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=env,
                )
            )
        reports = []
        for child in children:
            out, err = child.communicate(timeout=600)
            if child.returncode != 0:
                raise SystemExit(f"a worker failed:\n{err}")
            report = json.loads(out.strip().splitlines()[-1])
            report["warnings"] = [line for line in err.splitlines() if "aurous:" in line]
            reports.append(report)
    emu.close()
    waits = sorted(w for r in reports for w in r["waits"])
    reads = sorted(s for r in reports for s in r["reads"])
    responses = sum(r["responses"] for r in reports)
    refused = sum(r["refused"] for r in reports)
    wall = max(r["ended"] for r in reports) - start_at
    mean = statistics.fmean(waits) if waits else math.nan
    return {
        "processes": processes,
        "pacing": pacing,
        "machines": machines,
        "succeeded": len(waits),
        "failed": [f for r in reports for f in r["failed"]],
        "wall": wall,
        "bound": bound,
        "responses": responses,
        "refused": refused,
        "p50": _quantile(waits, 0.5),
        "p95": _quantile(waits, 0.95),
        "fairness": (waits[-1] / mean) if waits else math.nan,
        "read_p95_ms": _quantile(reads, 0.95) * 1000,
        "late": max(r["late"] for r in reports),
        "warnings": [w for r in reports for w in r["warnings"]],
    }


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    return values[min(len(values) - 1, int(q * len(values)))]


def row(result: dict[str, Any], label: str) -> str:
    share = result["refused"] / result["responses"] if result["responses"] else 0.0
    failed = len(result["failed"])
    return (
        f"| {label} | {result['processes']} × {CALLERS // result['processes'] or 1}"
        f"{'+' if CALLERS % result['processes'] else ''} | {result['succeeded']}"
        f"{f' ({failed} failed)' if failed else ''} | {result['wall']:.1f} s"
        f" | **{result['wall'] / result['bound']:.2f}×** | {result['refused']} of "
        f"{result['responses']} ({share:.1%}) | {result['p50']:.1f} / {result['p95']:.1f} s"
        f" | {result['fairness']:.2f} | {result['read_p95_ms']:.0f} ms |"
    )


HEADER = (
    "| pacing | processes × callers | succeeded | wall | wall ÷ bound | responses that were 429 "
    "| caller wait p50 / p95 | slowest ÷ mean wait | server p95 (reads) |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        return worker(argv[1:])
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1 and 4 processes, 8 callers")
    parser.add_argument("--stores", default="local,file,redis", help="comma-separated")
    parser.add_argument("--processes", default="1,2,4,12,24", help="comma-separated counts")
    parser.add_argument("--no-machines", action="store_true", help="skip the 6-machine run")
    parser.add_argument(
        "--poll",
        default=str(POLL),
        help="each wait's poll interval in seconds, or 'default' (the client's own schedule)",
    )
    parser.add_argument(
        "--warm",
        action="store_true",
        help="each worker makes one read before the start (models loaded, connection open)",
    )
    args = parser.parse_args(argv)
    global CALLERS
    processes = [int(n) for n in args.processes.split(",")]
    if args.quick:
        CALLERS, processes = 8, [1, 4]
    stores = args.stores.split(",")
    print(f"aurous {aurous.__version__}, {os.cpu_count()} CPUs, {CALLERS} callers", flush=True)
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory() as scratch_dir, _maybe_redis("redis" in stores) as redis:
        scratch = Path(scratch_dir)
        for store in stores:
            for n in processes:
                if store == "local":
                    pacing = "local"
                elif store == "file":
                    pacing = f"file://{scratch}/store-{n}"
                else:
                    pacing = f"{redis}".replace("/0", f"/{min(n, 15)}")
                result = run(n, pacing, CALLERS, scratch=scratch, poll=args.poll, warm=args.warm)
                print(row(result, store), flush=True)
        if "redis" in stores and not args.no_machines and not args.quick:
            result = run(
                6, redis, CALLERS, machines=True, scratch=scratch, poll=args.poll, warm=args.warm
            )
            print(row(result, "redis, 6 machines"), flush=True)
    return 0


@contextmanager
def _maybe_redis(wanted: bool) -> Iterator[str]:
    if not wanted:
        yield ""
        return
    with redis_server() as url:
        yield url


if __name__ == "__main__":
    raise SystemExit(main())
