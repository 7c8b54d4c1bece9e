"""Draw one trace as a waterfall: the picture in the tracing guide (``docs/images/trace.svg``).

    python docs/_ext/trace_waterfall.py                  # writes docs/images/trace.svg
    python docs/_ext/trace_waterfall.py --out x.svg

It runs a small program against the emulator with OpenTelemetry's in-memory exporter — one span
of the program's own (``make a poster``) around ``images.create_and_wait`` and
``images.download``, with a 503 on the create (a retry), a small ``reads`` bucket (pacing) and
150 ms of latency on every request — and draws the spans it exported as bars on a time axis,
their events as marks. The SVG is written by hand: no plotting library.

The emulator runs on its manual clock and the spans read their timestamps from it, so the
picture shows the emulated seconds (a 9 s generation takes no real time to draw) and comes out
the same on every run but for the jitter of the waits.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import opentelemetry.sdk.trace as sdk_trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from aurous.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "images" / "trace.svg"
WIDTH = 980
LABEL = 330
"""Width of the span names' column."""
ROW = 24
LANE = 11
"""Height of a lane of event labels, under a bar that has events."""
TOP = 58
COLOURS = {"call": "#f5a623", "http": "#4a90d9", "error": "#d0021b", "app": "#9b9b9b"}


def record(directory: Path) -> list[ReadableSpan]:
    """Run the program and return the spans it exported."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    emu = Emulator(clock="manual", seed=7, image_phases=(3, 6), rate_limits={"reads": (1, 20)})
    emu.faults.fail_next("POST /v1/images", status=503)
    emu.faults.latency(0.15)
    emu.faults.latency(0.6, "GET /v1/images/*/output/*")
    tracer = provider.get_tracer("poster-app")
    try:
        with (
            _emulated_time(emu),
            emu.client(tracer_provider=provider) as client,
            tracer.start_as_current_span("make a poster"),
        ):
            generation = client.images.create_and_wait(prompt="a lighthouse at dusk")
            client.images.download(generation, directory)
    finally:
        emu.close()
    provider.shutdown()
    return list(exporter.get_finished_spans())


@contextlib.contextmanager
def _emulated_time(emu: Emulator) -> Iterator[None]:
    """Spans and events stamped with the emulator's clock instead of the real one."""
    # The SDK reads the time through the name it imported; this script is its only user here.
    real = sdk_trace.time_ns
    sdk_trace.time_ns = lambda: round(emu.now() * 1e9)
    try:
        yield
    finally:
        sdk_trace.time_ns = real


def _tree(spans: Sequence[ReadableSpan]) -> list[tuple[ReadableSpan, int]]:
    """The spans in drawing order — each parent above its children, siblings by start — with
    their depth."""
    ids = {s.context.span_id for s in spans}
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in sorted(spans, key=lambda s: s.start_time or 0):
        parent = span.parent.span_id if span.parent is not None else None
        children.setdefault(parent if parent in ids else None, []).append(span)
    ordered: list[tuple[ReadableSpan, int]] = []

    def visit(parent: int | None, depth: int) -> None:
        for span in children.get(parent, []):
            ordered.append((span, depth))
            visit(span.context.span_id, depth + 1)

    visit(None, 0)
    return ordered


def _colour(span: ReadableSpan) -> str:
    if span.status.status_code is StatusCode.ERROR:
        return COLOURS["error"]
    if span.kind is SpanKind.CLIENT:
        return COLOURS["http"]
    if span.name.startswith(("images.", "videos.")):
        return COLOURS["call"]
    return COLOURS["app"]


def _event_label(name: str, attributes: dict[str, object]) -> str:
    if name == "aurous.retry":
        return f"retry: {str(attributes.get('aurous.retry.reason')).split()[0]}"
    if name == "aurous.pacing.wait":
        return f"paced {float(attributes.get('aurous.wait.seconds', 0.0)):.1f}s"  # type: ignore[arg-type]
    if name == "aurous.poll":
        return str(attributes.get("aurous.generation.status"))
    if name == "aurous.download":
        return f"{attributes.get('aurous.download.bytes')} bytes"
    return name


def render(spans: Sequence[ReadableSpan], title: str = "One generation, traced") -> str:
    """The waterfall of ``spans`` as an SVG document."""
    ordered = _tree(spans)
    start = min(s.start_time or 0 for s in spans)
    end = max(s.end_time or 0 for s in spans)
    total = max(end - start, 1) / 1e9
    plot = WIDTH - LABEL - 100
    lanes = [2 if span.events else 0 for span, _ in ordered]
    height = TOP + ROW * len(ordered) + LANE * sum(lanes) + 40

    def x(ns: int) -> float:
        return LABEL + (ns - start) / 1e9 / total * plot

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="10" y="22" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    step = _tick(total)
    tick = 0.0
    while tick <= total + 1e-9:
        tx = LABEL + tick / total * plot
        out.append(
            f'<line x1="{tx:.1f}" y1="{TOP - 12}" x2="{tx:.1f}" y2="{height - 30}" '
            'stroke="#e6e6e6"/>'
        )
        out.append(f'<text x="{tx:.1f}" y="{TOP - 16}" text-anchor="middle" fill="#666">'
                   f"{tick:g} s</text>")  # fmt: skip
        tick += step
    y = TOP - ROW
    for (span, depth), extra in zip(ordered, lanes, strict=True):
        y += ROW
        name = escape(span.name)
        out.append(f'<text x="{10 + 14 * depth}" y="{y + 15}">{name}</text>')
        left = x(span.start_time or start)
        width = max(x(span.end_time or end) - left, 2.0)
        seconds = ((span.end_time or end) - (span.start_time or start)) / 1e9
        status = (span.attributes or {}).get("http.response.status_code")
        tip = f"{span.name}: {seconds:.2f} s" + (f", HTTP {status}" if status else "")
        out.append(
            f'<rect x="{left:.1f}" y="{y + 4}" width="{width:.1f}" height="{ROW - 8}" rx="3" '
            f'fill="{_colour(span)}"><title>{escape(tip)}</title></rect>'
        )
        if status:
            out.append(
                f'<text x="{left + width + 4:.1f}" y="{y + 15}" fill="#555" font-size="10">'
                f"{status}</text>"
            )
        # Labels go in lanes under the bar: each in the first lane where it overlaps no other;
        # one that fits in none is left to its mark's tooltip.
        free = [0.0] * extra
        for event in span.events:
            ex = x(event.timestamp)
            label = _event_label(event.name, dict(event.attributes or {}))
            out.append(
                f'<path d="M{ex:.1f},{y + 2} l5,5 l-5,5 l-5,-5 z" fill="#222">'
                f"<title>{escape(event.name)}: {escape(label)}</title></path>"
            )
            lane = next((n for n, end in enumerate(free) if ex + 6 >= end), None)
            if lane is not None:
                out.append(
                    f'<text x="{ex + 6:.1f}" y="{y + ROW + 6 + LANE * lane}" fill="#222" '
                    f'font-size="9">{escape(label)}</text>'
                )
                free[lane] = ex + 6 + 5.2 * len(label) + 4
        y += LANE * extra
    legend_y = height - 12
    for n, (label, colour) in enumerate(
        [("the program's span", COLOURS["app"]), ("aurous call", COLOURS["call"]),
         ("HTTP request", COLOURS["http"]), ("failed request", COLOURS["error"])]
    ):  # fmt: skip
        lx = 10 + n * 170
        out.append(f'<rect x="{lx}" y="{legend_y - 10}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{lx + 18}" y="{legend_y}">{escape(label)}</text>')
    out.append(
        f'<text x="{WIDTH - 10}" y="{legend_y}" text-anchor="end" fill="#666">'
        "◆ event (retry, pacing wait, poll, download)</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _tick(total: float) -> float:
    for step in (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300):
        if total / step <= 10:
            return float(step)
    return 600.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write (default {OUT})")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        spans = record(Path(directory))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(spans), encoding="utf-8")
    print(f"wrote {args.out} ({len(spans)} spans)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
