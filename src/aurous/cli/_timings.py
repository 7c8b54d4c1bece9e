"""``--timings``: where a command's time went, shown after its result (`aurous._timings`).

The chart goes to stderr, so stdout stays the result scripts read: one bar per phase (rich bars
on a terminal with rich, plain ``#`` bars anywhere else: `aurous.cli._chart`), then one line of
counts and the cost. With ``--json`` the same figures go into the command's JSON document under
``"timings"`` instead, and nothing is drawn.

It is shown even with ``--quiet``: that silences what a command says on its own, not what was
asked for by name.
"""

from __future__ import annotations

import argparse
from typing import Any

from .._clock import SYSTEM_CLOCK
from .._timings import Timeline, Timings
from . import _format
from ._chart import Chart, plain_chart, rich_chart
from ._context import Context
from ._output import Output

__all__ = ["add_timings_option", "as_json", "show_timings", "start_timings", "with_timings"]

_SHOWN_BELOW = 0.005
"""Phases shorter than this (seconds) are left out of the chart: they would read as 0."""


def add_timings_option(parser: argparse.ArgumentParser) -> None:
    """``--timings`` on a command that waits for a generation."""
    parser.add_argument(
        "--timings",
        action="store_true",
        help="after the result, show on stderr where the time went (pacing, queued, "
        'processing, download …) and the cost; with --json, under a "timings" key',
    )


def start_timings(ctx: Context, args: argparse.Namespace) -> Timings | None:
    """Time the calls of the command's client from now on, if ``--timings`` was given.

    On the wall clock: the chart explains the command's own duration, even against an emulator
    whose clock runs ahead (``--emulator-speed``).
    """
    return Timings.attach(ctx.client(), SYSTEM_CLOCK) if args.timings else None


def _rounded(seconds: float) -> float:
    return round(seconds, 3)


def as_json(timings: Timings) -> dict[str, Any]:
    """The figures of every call the command made, added up, and each call's own."""
    total = timings.total()
    return {
        "seconds": _rounded(total.seconds),
        "phases": {phase: _rounded(seconds) for phase, seconds in total.phases.items()},
        "requests": total.requests,
        "http_seconds": _rounded(total.http_seconds),
        "retries": total.retries,
        "pacing_waits": total.pacing_waits,
        "store_seconds": _rounded(total.store_seconds),
        "downloaded_bytes": total.downloaded_bytes,
        "files": total.files,
        "credits_held": total.held,
        "credits_charged": total.charged,
        "calls": [
            {"name": call.name, "seconds": _rounded(call.seconds)} for call in timings.calls()
        ],
    }


def with_timings(data: dict[str, Any], timings: Timings | None) -> dict[str, Any]:
    """A command's JSON document, with ``"timings"`` when they were asked for."""
    return data if timings is None else {**data, "timings": as_json(timings)}


def _size(count: int) -> str:
    size = float(count)
    for unit in ("B", "kB", "MB"):
        if size < 1000:
            return f"{count} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def _plural(count: int, noun: str, nouns: str = "") -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {nouns or noun + 's'}"


def _chart_of(total: Timeline, calls: int) -> Chart:
    """One bar per phase that took any time, in seconds."""
    chart = Chart(
        f"Where the time went: {_format.elapsed(total.seconds)} in {_plural(calls, 'call')}"
        " (seconds)",
        "s",
    )
    for phase, seconds in total.bars():
        if seconds >= _SHOWN_BELOW:
            chart.add(phase, "", round(seconds, 2))
    return chart


def _summary_of(total: Timeline) -> str:
    """The counts and the cost, on one line."""
    parts = [f"{_plural(total.requests, 'request')} ({total.http_seconds:.2f}s in HTTP)"]
    if total.retries:
        parts.append(_plural(total.retries, "retry", "retries"))
    if total.pacing_waits:
        parts.append(_plural(total.pacing_waits, "wait") + " for limits")
    if total.store_operations:
        parts.append(f"{total.store_seconds:.2f}s on the shared pacing store")
    if total.files:
        parts.append(f"{_size(total.downloaded_bytes)} in {_plural(total.files, 'file')}")
    if total.charged is not None:
        parts.append(f"cost {_format.amount(total.charged)}")
    elif total.held is not None:
        parts.append(f"{_format.amount(total.held)} held")
    return " · ".join(parts)


def show_timings(out: Output, timings: Timings | None) -> None:
    """The chart and the summary on stderr (nothing in ``--json`` mode: see `with_timings`)."""
    if timings is None or out.json_mode:
        return
    total = timings.total()
    chart = _chart_of(total, len(timings.calls()))
    summary = _summary_of(total)
    if out.live:  # rich is installed and stderr is a terminal
        console = out.err_console()
        console.print(rich_chart(chart, console.width))
        console.print(summary, markup=False, highlight=False)
    else:
        print(f"{plain_chart(chart)}\n{summary}", file=out.stderr, flush=True)
