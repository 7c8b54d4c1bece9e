"""Bar charts for the terminal: rich bars (one colour per group) on a terminal with rich, plain
``#`` bars anywhere else (pipes, CI logs, a terminal without the ``cli`` extra)."""

from __future__ import annotations

import dataclasses
from typing import Any

from . import _format

__all__ = ["Chart", "plain_chart", "rich_chart"]

_PLAIN_WIDTH = 40
"""Columns of the longest plain bar (pipes have no width to fill)."""
_EIGHTHS = " ▏▎▍▌▋▊▉"
_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "red", "bright_cyan", "bright_magenta")


@dataclasses.dataclass
class Chart:
    """Horizontal bars, one per ``(label, group)``, scaled to the largest value.

    ``rows`` keep their order; a label repeated on consecutive rows (a bucket split by group) is
    shown once.
    """

    title: str
    unit: str
    rows: list[tuple[str, str, float]] = dataclasses.field(default_factory=list)

    def add(self, label: str, group: str, value: float) -> None:
        self.rows.append((label, group, value))

    @property
    def grouped(self) -> bool:
        return any(group for _, group, _ in self.rows)

    @property
    def largest(self) -> float:
        return max((value for _, _, value in self.rows), default=0.0)


def _labels(chart: Chart) -> list[str]:
    shown: list[str] = []
    previous = None
    for label, _, _ in chart.rows:
        shown.append("" if label == previous else label)
        previous = label
    return shown


def plain_chart(chart: Chart) -> str:
    """The chart as text: ``#`` bars at most `_PLAIN_WIDTH` wide, the value after each."""
    labels = _labels(chart)
    label_width = max((len(label) for label in labels), default=0)
    group_width = max((len(group) for _, group, _ in chart.rows), default=0)
    largest = chart.largest
    lines = [chart.title]
    for shown, (_, group, value) in zip(labels, chart.rows, strict=True):
        length = round(value / largest * _PLAIN_WIDTH) if largest > 0 else 0
        if value > 0 and length == 0:
            length = 1  # a bucket that used anything shows
        bar = "#" * length
        cells = [shown.ljust(label_width)]
        if chart.grouped:
            cells.append(group.ljust(group_width))
        cells.append(f"{bar.ljust(_PLAIN_WIDTH)}  {_format.number(value)}")
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _bar(value: float, largest: float, width: int) -> str:
    """A bar of ``width`` columns for ``largest``, in eighths of a column."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / largest * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


def rich_chart(chart: Chart, console_width: int) -> Any:
    """The chart as a rich renderable: bars fill the console, one colour per group."""
    from rich.table import Table
    from rich.text import Text

    labels = _labels(chart)
    label_width = max((len(label) for label in labels), default=0)
    group_width = max((len(group) for _, group, _ in chart.rows), default=0)
    value_width = max((len(_format.number(v)) for _, _, v in chart.rows), default=1)
    width = max(10, console_width - label_width - group_width - value_width - 8)
    colours: dict[str, str] = {}
    table = Table(title=chart.title, title_justify="left", box=None, show_header=False)
    table.add_column(no_wrap=True)
    if chart.grouped:
        table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    for shown, (_, group, value) in zip(labels, chart.rows, strict=True):
        colour = colours.setdefault(group, _COLOURS[len(colours) % len(_COLOURS)])
        cells: list[Any] = [Text(shown)]
        if chart.grouped:
            cells.append(Text(group, style=colour))
        cells += [Text(_bar(value, chart.largest, width), style=colour), _format.number(value)]
        table.add_row(*cells)
    return table
