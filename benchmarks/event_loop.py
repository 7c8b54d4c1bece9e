"""The longest event-loop stall while an ``AsyncClient`` batches and downloads images.

    python benchmarks/event_loop.py                          # this checkout, 5 rounds
    python benchmarks/event_loop.py --compare /tmp/old/src   # interleaved with older code
    python benchmarks/event_loop.py --quick                  # tiny counts (CI smoke)
    python benchmarks/event_loop.py --diagnose               # where the loop was when it stalled

A ticker task sleeps 1 ms in a loop and records how much later than asked it woke up: that
delay is how long the event loop was kept from it (a *stall*). It runs beside, in turn:

* **idle**: nothing else (the floor of the method on this machine: timer and ``epoll``
  granularity, neighbours' load);
* **first batch (cold)**: a batch of 4 images, the first call of the process: it loads what the
  SDK defers to first use (the namespace, pydantic and the models, the batch engine, httpx's
  async backend) — a one-time cost, on the loop, shown apart from the steady state;
* **batch**: ``await client.images.batch(N prompts, download_to=…, manifest=…)``, concurrency 8
  (creates, polls, one download per image, the manifest written and fsync'd per item);
* **downloads**: ``await client.images.download(generation, dir)`` of the same N generations,
  8 at a time.

Both against the emulator (instant generations, no rate limits): **socket** — served over
HTTP from a child process, so the server's CPU does not contend for this process's GIL — and
**in-process** — ``emu.async_client()``, where the emulator answers each request on the event
loop itself: those stalls include the emulator's own work, and its longest request is printed
beside them so the SDK's share can be told apart.

Each stall is taken apart (Linux): *busy*, the CPU time the loop's thread used meanwhile (its
code, and the system calls it made: disk I/O done on the loop shows here); *blocked*, the time
it slept (in a system call, or waiting for the GIL held by a worker thread); the rest is time
it waited for a CPU (on 2 cores: the server process, worker threads, neighbours). *gc* is the
longest garbage collection in the phase: a full one takes 15-25 ms here, wherever it falls.

Each round is a fresh interpreter. The table gives, per row, the median over rounds of the
longest stall and of the 99th percentile of ticks, the worst round, and the medians of the
other columns. ``--compare SRC`` runs every round twice, interleaved: with this checkout and
with the ``src`` directory of another one (e.g. ``git worktree add /tmp/old f0587c2``, then
``--compare /tmp/old/src``), so both see the same machine load; the script uses only the
public API and the emulator, which both have.

This is not a test; it prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

TICK = 0.001
API_KEY = "al_live_" + "e1" * 32
PHASES = ("idle", "first batch (cold)", "batch", "downloads")
WARM_UP = 4
TRANSPORTS = ("socket", "in-process")


# ---- the emulator ---------------------------------------------------------------------------------


def _emulator(count: int) -> Any:
    from aurous.emulator import Emulator

    # Instant generations and no rate limits: the SDK is never waiting for the server, so the
    # loop is as busy as the batch can make it.
    return Emulator(
        instant=True,
        rate_limits=False,
        concurrency_limit=64,
        credits=count * 100 + 1000,
        api_key=API_KEY,
    )


def serve_forever(count: int) -> None:
    """Child process: serve an emulator on a free port, print its URL, stop when stdin closes."""
    with _emulator(count).serve(host="127.0.0.1", port=0) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


@contextlib.contextmanager
def served(count: int) -> Iterator[str]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve-emulator", str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"the emulator did not start: {url!r}")
        yield url
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


# ---- the ticker -----------------------------------------------------------------------------------


def _runqueue_wait() -> float:
    """Seconds this thread has spent runnable but waiting for a CPU (Linux; else 0)."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as f:
            return int(f.read().split()[1]) / 1e9
    except OSError:
        return 0.0


class Ticker:
    """Sleeps ``TICK`` in a loop on the running event loop; records how late each wake-up was.

    Each late wake-up is split three ways, to tell what the loop was doing meanwhile: the CPU
    time of the loop's thread (code running on the loop: the SDK, httpx, the in-process
    emulator), the time it waited for a CPU (the machine's other work: on 2 cores, the server
    process, worker threads and neighbours), and the rest, when the thread was *blocked*:
    waiting in a system call (disk I/O on the loop) or for the GIL.
    """

    def __init__(self) -> None:
        self.late: list[float] = []
        self.busy: list[float] = []
        self.blocked: list[float] = []
        self.collections: list[float] = []
        self.last = time.perf_counter()
        self._stop = False
        self._gc_started = 0.0

    async def run(self) -> None:
        while not self._stop:
            started, cpu, queued = time.perf_counter(), time.thread_time(), _runqueue_wait()
            await asyncio.sleep(TICK)
            self.last = now = time.perf_counter()
            late = now - started - TICK
            busy = time.thread_time() - cpu
            self.late.append(late)
            self.busy.append(busy)
            self.blocked.append(max(0.0, late - busy - (_runqueue_wait() - queued)))

    async def around(self, work: Awaitable[Any]) -> Any:
        task = asyncio.ensure_future(self.run())
        gc.callbacks.append(self._collecting)
        await asyncio.sleep(0)  # the first tick is scheduled before the work starts
        try:
            return await work
        finally:
            self._stop = True
            await task
            gc.callbacks.remove(self._collecting)

    def _collecting(self, phase: str, info: dict[str, Any]) -> None:
        # The cyclic garbage collector runs on whichever thread allocates: on the loop, a full
        # collection of a process this size takes 15-20 ms. Timed apart so it can be told from
        # the SDK's own work.
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.collections.append(time.perf_counter() - self._gc_started)

    def figures(self) -> dict[str, float]:
        late = sorted(self.late)
        return {
            "ticks": len(late),
            "max_ms": late[-1] * 1e3,
            "p99_ms": late[min(len(late) - 1, int(len(late) * 0.99))] * 1e3,
            "median_ms": statistics.median(late) * 1e3,
            # The longest stretch of each kind, whichever tick it fell in.
            "busy_ms": max(self.busy) * 1e3,
            "blocked_ms": max(self.blocked) * 1e3,
            "gc_ms": max(self.collections, default=0.0) * 1e3,
        }


def _where(frame: Any) -> list[str]:
    """The stack of ``frame``, one ``dir/file:line function`` a frame, asyncio's left out."""
    return [
        f"{Path(f.filename).parent.name}/{Path(f.filename).name}:{f.lineno} {f.name}"
        for f in traceback.extract_stack(frame)
        if "asyncio" not in f.filename and "event_loop.py" not in f.filename
    ]


class Watchdog:
    """``--diagnose``: samples the event loop thread's stack while the ticker is late.

    A thread checks every 0.2 ms whether the ticker has missed its wake-up by more than
    ``threshold``; if so it records where the loop thread is (one sample per stall, and again
    every ``threshold`` while it lasts). Python threads take turns holding the GIL, so the
    switch interval is lowered while it runs: otherwise a sample could come 5 ms late.
    """

    def __init__(self, ticker: Ticker, threshold: float) -> None:
        self.ticker = ticker
        self.threshold = threshold
        self.stacks: collections.Counter[str] = collections.Counter()
        self.workers: collections.Counter[str] = collections.Counter()
        self._loop_thread = threading.get_ident()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> Watchdog:
        self._interval = sys.getswitchinterval()
        sys.setswitchinterval(0.0001)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        sys.setswitchinterval(self._interval)

    def _watch(self) -> None:
        sampled_at = 0.0
        while not self._done.wait(0.0002):
            now = time.perf_counter()
            if now - self.ticker.last < TICK + self.threshold or now - sampled_at < self.threshold:
                continue
            frames = sys._current_frames()
            frame = frames.get(self._loop_thread)
            if frame is None:
                continue
            sampled_at = now
            self.stacks["\n      ".join(_where(frame)[-8:])] += 1
            # What the worker threads run meanwhile (a loop waiting for the GIL waits for them).
            for ident, other in frames.items():
                if ident not in (self._loop_thread, threading.get_ident()):
                    inner = [line for line in _where(other) if "threading.py" not in line]
                    if inner and "thread.py" not in inner[-1]:  # not an idle worker
                        self.workers[inner[-1]] += 1


# ---- one round (a child process) ------------------------------------------------------------------


async def _timed(
    work: Callable[[], Awaitable[Any]], diagnose: bool
) -> tuple[dict[str, float], Any]:
    ticker = Ticker()
    started = time.perf_counter()
    if diagnose:
        with Watchdog(ticker, threshold=0.002) as dog:
            result = await ticker.around(work())
        _print_stacks(dog.stacks)
        if dog.workers:
            print("  worker threads meanwhile:", file=sys.stderr)
            _print_stacks(dog.workers)
    else:
        result = await ticker.around(work())
    figures = ticker.figures()
    figures["seconds"] = time.perf_counter() - started
    return figures, result


def _print_stacks(stacks: collections.Counter[str]) -> None:
    for stack, seen in stacks.most_common(12):
        print(f"  {seen:4d} x {stack}", file=sys.stderr)


async def _scenario(
    client: Any, count: int, concurrency: int, workdir: Path, diagnose: bool
) -> dict[str, dict[str, float]]:
    rows: dict[str, dict[str, float]] = {}
    rows["idle"], _ = await _timed(lambda: asyncio.sleep(0.5), diagnose)

    async def batch(count: int, name: str) -> list[Any]:
        results: list[Any] = await client.images.batch(
            [f"a lighthouse at dusk, take {index}" for index in range(count)],
            concurrency=concurrency,
            manifest=workdir / f"{name}.jsonl",
            download_to=workdir / name,
            poll_interval=0.01,
            max_poll_interval=0.05,
        )
        failed = [r for r in results if not r.ok]
        if failed:
            raise RuntimeError(f"{len(failed)} batch items failed, e.g. {failed[0].error!r}")
        return results

    # The first batch of a process loads what the SDK defers (the batch engine, the models it
    # reads, pydantic's validators): a one-time cost, measured apart from the steady state.
    if diagnose:
        print("first batch (cold):", file=sys.stderr)
    rows["first batch (cold)"], _ = await _timed(lambda: batch(WARM_UP, "warm-up"), diagnose)
    if diagnose:
        print("batch:", file=sys.stderr)
    rows["batch"], results = await _timed(lambda: batch(count, "batch"), diagnose)

    async def downloads() -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(generation: Any) -> None:
            async with gate:
                await client.images.download(generation, workdir / "downloads")

        await asyncio.gather(*(one(r.generation) for r in results))

    if diagnose:
        print("downloads:", file=sys.stderr)
    rows["downloads"], _ = await _timed(downloads, diagnose)
    return rows


def _timing_emulator_work(emu: Any) -> list[float]:
    """Wrap the emulator's request handling (on the loop, in-process) to time each request."""
    spent: list[float] = []
    core = emu.core
    begin, finish = core.begin, core.finish

    def timed(fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args)
            finally:
                spent.append(time.perf_counter() - started)

        return run

    core.begin, core.finish = timed(begin), timed(finish)
    return spent


def one_round(transport: str, count: int, concurrency: int, diagnose: bool) -> dict[str, Any]:
    import aurous

    async def main(client: Any, workdir: Path) -> dict[str, dict[str, float]]:
        async with client:
            return await _scenario(client, count, concurrency, workdir, diagnose)

    with tempfile.TemporaryDirectory(prefix="aurous-loop-", dir=os.environ.get("LOOP_DIR")) as tmp:
        if transport == "socket":
            with served(count) as url:
                client = aurous.AsyncClient(api_key=API_KEY, base_url=url)
                rows = asyncio.run(main(client, Path(tmp)))
            return {"rows": rows}
        emu = _emulator(count)
        spent = _timing_emulator_work(emu)
        rows = asyncio.run(main(emu.async_client(), Path(tmp)))
        return {"rows": rows, "emulator_longest_ms": max(spent) * 1e3}


# ---- the table ------------------------------------------------------------------------------------


def _env(src: str | None, pycache: str) -> dict[str, str]:
    """A round's environment: ``src`` first on the path, and bytecode cached as after an install.

    Without a cache (PYTHONDONTWRITEBYTECODE is set on some machines, and a fresh worktree has
    no ``__pycache__``) every round would compile the SDK from source, inside the first batch.
    """
    env = {**os.environ, "PYTHONPYCACHEPREFIX": pycache}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    return env


def _child(src: str | None, args: argparse.Namespace, transport: str) -> dict[str, Any]:
    env = _env(src, args.pycache)
    command = [sys.executable, __file__, "--round", transport]
    command += ["--count", str(args.count), "--concurrency", str(args.concurrency)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"round failed ({src or 'this checkout'}):\n{result.stderr}")
    out: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return out


def _code(src: str | None, pycache: str) -> str:
    """Where ``aurous`` comes from for ``src``, and its commit."""
    where = subprocess.run(
        [sys.executable, "-c", "import aurous; print(aurous.__file__)"],
        capture_output=True,
        text=True,
        env=_env(src, pycache),
        check=True,
    ).stdout.strip()
    commit = subprocess.run(
        ["git", "-C", str(Path(where).parent), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"{Path(where).parent.parent} ({commit or '?'})"


def compare(
    variants: dict[str, str | None], transports: list[str], args: argparse.Namespace
) -> None:
    """Run ``args.rounds`` rounds of every variant, interleaved, and print the table."""
    names = list(variants)
    for name in names:  # compiles and caches every module's bytecode; not counted
        warm_up = argparse.Namespace(count=2, concurrency=2, pycache=args.pycache)
        _child(variants[name], warm_up, transports[0])
    rounds: dict[tuple[str, str], list[dict[str, Any]]] = collections.defaultdict(list)
    for index in range(args.rounds):
        for transport in transports:
            for name in names[index % len(names) :] + names[: index % len(names)]:
                rounds[(transport, name)].append(_child(variants[name], args, transport))

    print(
        f"\n{args.count} images, concurrency {args.concurrency}; a 1 ms ticker; "
        f"median of {args.rounds} round(s) [worst round]"
    )
    print(
        "busy: the longest CPU time (its code and its system calls) the loop's thread used\n"
        "between two ticks; blocked: the longest it slept (in a system call, or for the GIL);\n"
        "the rest of a stall is waiting for a CPU. gc: the longest garbage collection"
    )
    header = (
        f"  {'':<30} {'longest stall, ms':>17} {'p99, ms':>15}"
        f" {'busy, ms':>8} {'blocked':>8} {'gc':>6} {'ticks':>6} {'s':>5}"
    )
    for transport in transports:
        print(f"\n{transport}" + ("" if transport == "socket" else " (the emulator on the loop)"))
        print(header)
        for phase in PHASES:
            for name in names:
                found = [r["rows"][phase] for r in rounds[(transport, name)]]

                def med(key: str, found: list[dict[str, float]] = found) -> float:
                    return statistics.median(f[key] for f in found)

                def worst(key: str, found: list[dict[str, float]] = found) -> float:
                    return max(f[key] for f in found)

                label = f"{phase}, {name}" if len(names) > 1 else phase
                print(
                    f"  {label:<30} {med('max_ms'):7.2f} [{worst('max_ms'):7.2f}]"
                    f" {med('p99_ms'):6.2f} [{worst('p99_ms'):6.2f}]"
                    f" {med('busy_ms'):8.2f} {med('blocked_ms'):8.2f} {med('gc_ms'):6.2f}"
                    f" {med('ticks'):6.0f} {med('seconds'):5.2f}"
                )
        if transport == "in-process":
            for name in names:
                longest = [r["emulator_longest_ms"] for r in rounds[(transport, name)]]
                print(
                    f"  the emulator's longest request ({name}): "
                    f"{statistics.median(longest):.2f} ms [{max(longest):.2f}]"
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=100, help="images in the batch")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5, help="fresh interpreters per variant")
    parser.add_argument("--transport", choices=TRANSPORTS, action="append")
    parser.add_argument("--compare", metavar="SRC", help="also run the code in SRC (interleaved)")
    parser.add_argument("--quick", action="store_true", help="tiny counts (a smoke test)")
    parser.add_argument(
        "--diagnose", action="store_true", help="one round; print where stalled loops were"
    )
    parser.add_argument("--round", choices=TRANSPORTS, help=argparse.SUPPRESS)
    parser.add_argument("--serve-emulator", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_emulator is not None:
        serve_forever(args.serve_emulator)
        return 0
    if args.quick:
        args.count, args.rounds = 4, 1
    if args.round:
        print(json.dumps(one_round(args.round, args.count, args.concurrency, False)))
        return 0
    transports = args.transport or list(TRANSPORTS)
    if args.diagnose:
        for transport in transports:
            print(f"{transport}:", file=sys.stderr)
            one_round(transport, args.count, args.concurrency, True)
        return 0

    variants: dict[str, str | None] = {"current": None}
    if args.compare:
        variants["previous"] = args.compare
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; {' '.join(sys.argv)}")
    with tempfile.TemporaryDirectory(prefix="aurous-loop-pycache-") as pycache:
        args.pycache = pycache
        for name, src in variants.items():
            print(f"  {name}: {_code(src, pycache)}")
        compare(variants, transports, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
