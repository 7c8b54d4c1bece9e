"""What tracing costs when it is off: aurous's per-call cost beside raw httpx, with OpenTelemetry
never imported, imported with no provider configured, and tracing into in-memory exporters.

    python benchmarks/observability.py            # the table (about a minute on 2 cores)
    python benchmarks/observability.py --quick    # tiny counts: checks that every row runs

The call is a sync ``images.retrieve`` of a 1.2 KB generation, made by:

* **raw httpx**: ``http.get(url, headers=...).json()``, the yardstick;
* **aurous, OpenTelemetry not imported**: a program that never traces (the client has no
  observer; it is built before this script imports OpenTelemetry);
* **aurous, OpenTelemetry imported, no provider**: the client reports to the global providers,
  none is configured, so each call checks and skips;
* **aurous, tracing + metrics (SDK, in-memory)**: for information, the cost of tracing on.

Two transports: the loopback server (a subprocess: a minimal asyncio HTTP/1.1 server answering
canned JSON with the API's rate-limit headers), and in-process (``httpx.MockTransport`` with a
canned response: no network at all, so the SDK's own share is as large as it gets). The variants
of a section run interleaved, in rounds of one block of calls each (the order rotating), and
each figure is the median over the ``--reps`` × ``--blocks`` rounds of the ratio within a round,
so a noisy neighbour slows a round's variants alike and a round it hit hard does not move the
median. The check a client without a configured provider makes per call is also timed alone.

This is not a test; it prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BODY = (
    HERE.parent / "tests" / "fixtures" / "generation.succeeded.image.character.json"
).read_bytes()
GENERATION_ID = "img_01KS2DT57DF0ZENV8RRKMQC373"
API_KEY = "al_test_benchmark"
API_VERSION = "2026-05-15"

NOT_IMPORTED = "aurous, OpenTelemetry not imported"
NO_PROVIDER = "aurous, OpenTelemetry imported, no provider"
TRACING = "aurous, tracing + metrics (SDK, in-memory)"
RAW = "raw httpx"


def _head(length: int) -> bytes:
    return (
        "HTTP/1.1 200 OK\r\n"
        "content-type: application/json\r\n"
        f"content-length: {length}\r\n"
        "aurous-request-id: req_01KS2DT578RKDZ167Q0VK850ZX\r\n"
        f"aurous-version: {API_VERSION}\r\n"
        "x-ratelimit-limit: 1200\r\n"
        "x-ratelimit-remaining: 1199\r\n"
        f"x-ratelimit-reset: {int(time.time()) + 3600}\r\n"
        "\r\n"
    ).encode()


# ---- the loopback server (a subprocess: ``observability.py --serve``) ---------------------------


class _Connection(asyncio.Protocol):
    """Keep-alive HTTP/1.1, bodiless GETs: answers every request with the same generation."""

    def __init__(self, answer: bytes) -> None:
        self._answer = answer
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data
        count = buffer.count(b"\r\n\r\n")
        self._buffer = buffer[buffer.rfind(b"\r\n\r\n") + 4 :] if count else buffer
        if count and self._transport is not None:
            self._transport.write(self._answer * count)


def serve() -> None:
    """Serve on an ephemeral loopback port; print ``port N`` when ready; stop on stdin EOF."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        answer = _head(len(BODY)) + BODY
        server = await loop.create_server(lambda: _Connection(answer), "127.0.0.1", 0)
        print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
        stop = loop.create_future()
        loop.add_reader(sys.stdin.fileno(), lambda: stop.done() or stop.set_result(None))
        await stop
        server.close()

    asyncio.run(main())


@contextlib.contextmanager
def loopback() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("port "):
            raise RuntimeError(f"the benchmark server did not start: {line!r}")
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---- measuring ----------------------------------------------------------------------------------


def _interleaved(
    variants: dict[str, Callable[[], object]], calls: int, reps: int, blocks: int
) -> tuple[dict[str, tuple[float, float]], float]:
    """Each variant's (median µs per call, median ratio to raw httpx), and the median extra
    time of "no provider" over "not imported".

    Every figure is a median over rounds: in a round each variant runs one block of calls, one
    after the other (the order rotating), so a load that comes and goes hits a round's variants
    alike, and a round it hit hard does not move the median.
    """
    for fn in variants.values():  # warm up: connections open, schemas built, methods bound
        for _ in range(50):
            fn()
    names = list(variants)
    per_block = max(1, calls // blocks)
    rounds: list[dict[str, float]] = []
    for _ in range(reps):
        for block in range(blocks):
            spent: dict[str, float] = {}
            for name in names[block % len(names) :] + names[: block % len(names)]:
                fn = variants[name]
                started = time.perf_counter()
                for _ in range(per_block):
                    fn()
                spent[name] = (time.perf_counter() - started) / per_block * 1e6
            rounds.append(spent)
    figures = {
        name: (
            statistics.median(r[name] for r in rounds),
            statistics.median(r[name] / r[RAW] for r in rounds),
        )
        for name in names
    }
    off = statistics.median(r[NO_PROVIDER] / r[NOT_IMPORTED] for r in rounds) - 1
    return figures, off


def _clients(targets: dict[str, Any]) -> dict[str, dict[str, Callable[[], object]]]:
    """For each target (``base_url -> transport or None``), the four variants' calls.

    Built in the order the rule needs: every plain client before this script imports
    OpenTelemetry, then those that report to the global providers (none configured), then those
    with providers of their own.
    """
    import httpx

    import aurous

    def http(transport: Any) -> httpx.Client:
        return httpx.Client(transport=transport) if transport is not None else httpx.Client()

    assert "opentelemetry.trace" not in sys.modules
    plain = {
        url: aurous.Client(api_key=API_KEY, base_url=url, http_client=http(t))
        for url, t in targets.items()
    }
    assert all(client._observer is None for client in plain.values())

    import opentelemetry.metrics
    import opentelemetry.trace  # noqa: F401 - imported is the point: the global providers apply

    global_off = {
        url: aurous.Client(api_key=API_KEY, base_url=url, http_client=http(t))
        for url, t in targets.items()
    }
    assert all(client._observer is not None for client in global_off.values())

    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    headers = {"X-Api-Key": API_KEY, "Aurous-Version": API_VERSION, "Accept": "application/json"}
    found: dict[str, dict[str, Callable[[], object]]] = {}
    for url, transport in targets.items():
        traced = aurous.Client(
            api_key=API_KEY,
            base_url=url,
            http_client=http(transport),
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
        )
        raw = http(transport)
        found[url] = {
            RAW: functools.partial(_raw_call, raw, f"{url}/v1/images/{GENERATION_ID}", headers),
            NOT_IMPORTED: functools.partial(plain[url].images.retrieve, GENERATION_ID),
            NO_PROVIDER: functools.partial(global_off[url].images.retrieve, GENERATION_ID),
            TRACING: functools.partial(_traced_call, traced, exporter),
        }
    return found


def _raw_call(http: Any, url: str, headers: dict[str, str]) -> object:
    return http.get(url, headers=headers).json()


def _traced_call(client: Any, exporter: Any) -> object:
    exporter.clear()  # keeps memory flat: only the cost of making the spans is measured
    return client.images.retrieve(GENERATION_ID)


def _check_ns(client: Any) -> float:
    """Nanoseconds of the per-call check of a client whose global providers are not configured."""
    observer = client._observer
    runs = 200_000
    seconds = min(
        timeit.repeat(lambda: observer.watch("images.retrieve", client), number=runs, repeat=5)
    )
    return seconds / runs * 1e9


def _print(title: str, figures: dict[str, tuple[float, float]], off: float) -> None:
    print(f"\n{title}\n")
    print("| variant | µs/call | × raw httpx |")
    print("|---|---:|---:|")
    for name, (value, ratio) in figures.items():
        print(f"| {name} | {value:.1f} | {ratio:.3f} |")
    print(f"\noff vs not imported: {off:+.2%} per call (target: within 1 %)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny counts (a smoke test)")
    parser.add_argument("--calls", type=int, default=4000, help="calls per variant and repetition")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--blocks", type=int, default=40)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve()
        return 0
    if "opentelemetry.trace" in sys.modules:  # pragma: no cover - a sitecustomize that traces
        print("OpenTelemetry was imported before the benchmark started: no 'not imported' row")
        return 1
    if args.quick:
        args.calls, args.reps, args.blocks = 60, 2, 2
    print(f"Python {sys.version.split()[0]}, {args.calls} calls × {args.reps} repetitions")

    import httpx

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=BODY, headers=headers)

    lines = _head(len(BODY)).split(b"\r\n")[1:-2]
    headers = {k.decode(): v.decode() for k, _, v in (line.partition(b": ") for line in lines)}
    base = "https://api.test"
    with loopback() as base_url:
        variants = _clients({base_url: None, base: httpx.MockTransport(answer)})
        loop_figures, loop_off = _interleaved(
            variants[base_url], args.calls, args.reps, args.blocks
        )
    _print("sync images.retrieve over loopback (server in a subprocess)", loop_figures, loop_off)
    memory_figures, memory_off = _interleaved(
        variants[base], args.calls * 4, args.reps, args.blocks
    )
    _print(
        "sync images.retrieve in-process (httpx.MockTransport: no network)",
        memory_figures,
        memory_off,
    )

    import aurous

    client = aurous.Client(api_key=API_KEY, base_url=base)
    check = _check_ns(client)
    per_call = memory_figures[NOT_IMPORTED][0] * 1000
    print(
        f"\nthe per-call check alone (no provider configured): {check:.0f} ns, "
        f"{check / per_call:.2%} of an in-process call"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
