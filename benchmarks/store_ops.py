"""What one pacing operation costs in each store, and why the one-host store is files, not SQLite.

One operation is what the pacer does on every request: read a small state (a gate of about 2 KB
of JSON), decide, write it back, atomically against other processes. Measured for:

- ``local``: the in-process store (a lock, no I/O) — ``pacing=True``;
- ``file``: the one-host store (``flock`` a file, ``pread`` / ``pwrite``) — ``pacing="file://…"``;
- ``sqlite``: the same on SQLite in WAL mode (``BEGIN IMMEDIATE``, ``SELECT``, ``UPDATE``), the
  alternative the file store was chosen over;
- ``redis``: the Redis store's compare-and-set script over loopback — ``pacing="redis://…"``
  (a redis-server is started on a free port).

    python benchmarks/store_ops.py            # 2,000 operations each
    python benchmarks/store_ops.py --quick    # 200 (a smoke test)

This is not a test; it prints a table.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from aurous._clock import SYSTEM_CLOCK
from aurous._pacing import GATE, Gate
from aurous._store import LocalStore
from aurous._store._file import FileBackend
from aurous._store._shared import SharedStore

sys.path.insert(0, str(Path(__file__).parent))
from fleet import redis_server


def _gate() -> Gate:
    gate = Gate()
    gate.renew("host:1234:abcdef", 1.0)
    for n in range(10):
        gate.enter(f"t{n}", "host:1234:abcdef", 1.0)
        gate.accepted(f"t{n}", f"img_01KS2DH0GPE2Y1X16JH0Z1Y{n:03d}", 1.0)
    return gate


def _op(gate: Gate, now: float) -> tuple[None, bool]:
    gate.renew("host:1234:abcdef", now)
    gate.expire(now)
    return None, False


def _timed(run: Callable[[], object], n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def bench_local(n: int) -> list[float]:
    store = LocalStore(SYSTEM_CLOCK)
    store.apply(GATE, Gate, lambda gate, now: (None, False))
    return _timed(lambda: store.apply(GATE, Gate, _op), n)


def bench_file(n: int, directory: Path) -> list[float]:
    store = SharedStore(FileBackend(directory, "bench"), "bench")
    seed = _gate()
    store.apply(GATE, Gate, lambda gate, now: (gate.__dict__.update(seed.__dict__), False))
    times = _timed(lambda: store.apply(GATE, Gate, _op), n)
    store.close()
    return times


def bench_sqlite(n: int, directory: Path) -> list[float]:
    db = sqlite3.connect(directory / "state.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")  # as the file store: no fsync
    db.execute("CREATE TABLE state (key TEXT PRIMARY KEY, data TEXT)")
    db.execute("INSERT INTO state VALUES ('gate', ?)", (json.dumps(_gate().dump()),))

    def one() -> None:
        db.execute("BEGIN IMMEDIATE")
        (data,) = db.execute("SELECT data FROM state WHERE key = 'gate'").fetchone()
        gate = Gate.load(json.loads(data))
        _op(gate, time.time())
        db.execute("UPDATE state SET data = ? WHERE key = 'gate'", (json.dumps(gate.dump()),))
        db.execute("COMMIT")

    times = _timed(one, n)
    db.close()
    return times


def bench_redis(n: int) -> list[float]:
    from aurous._store._redis import RedisBackend

    with redis_server() as url:
        store = SharedStore(RedisBackend(url, "bench"), "bench")
        seed = _gate()
        store.apply(GATE, Gate, lambda gate, now: (gate.__dict__.update(seed.__dict__), False))
        times = _timed(lambda: store.apply(GATE, Gate, _op), n)
        store.close()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="200 operations each")
    parser.add_argument("--no-redis", action="store_true", help="skip the Redis store")
    args = parser.parse_args(argv)
    n = 200 if args.quick else 2000
    print(f"{n} operations each on a gate of {len(json.dumps(_gate().dump()))} bytes of JSON")
    print("| store | p50 | p95 | mean |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        runs: list[tuple[str, Callable[[], list[float]]]] = [
            ("local (in the process)", lambda: bench_local(n)),
            ("file (flock + pread/pwrite)", lambda: bench_file(n, Path(tmp) / "file")),
            ("sqlite (WAL, BEGIN IMMEDIATE)", lambda: bench_sqlite(n, Path(tmp))),
        ]
        if not args.no_redis:
            runs.append(("redis (Lua CAS, loopback)", lambda: bench_redis(n)))
        for label, run in runs:
            times = sorted(run())
            p50 = times[len(times) // 2] * 1e6
            p95 = times[int(len(times) * 0.95)] * 1e6
            print(
                f"| {label} | {p50:.0f} µs | {p95:.0f} µs | {statistics.fmean(times) * 1e6:.0f} µs |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
