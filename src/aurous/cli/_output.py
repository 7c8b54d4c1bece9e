"""Where output goes: results on stdout, messages and progress on stderr.

Rich (the ``cli`` extra) is imported only when a terminal will show its output; without it, or
when a stream is not a terminal (pipes, CI logs), everything is plain text with no escape codes.
On a terminal without rich, the first progress display says once how to get live progress.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import json
import os
import sys
import threading
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from ._chart import Chart, plain_chart, rich_chart
from ._errors import install_hint

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["LIVE_PROGRESS_HINT", "Column", "Output", "Table", "rich_available"]

LIVE_PROGRESS_HINT = f"Tip: {install_hint('cli')} for live progress displays."


def rich_available() -> bool:
    """Whether the optional ``rich`` package can be imported."""
    return importlib.util.find_spec("rich") is not None


def _is_terminal(stream: IO[str]) -> bool:
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


@dataclasses.dataclass(frozen=True)
class Column:
    """A table column: its header and whether numbers in it align right."""

    header: str
    numeric: bool = False


@dataclasses.dataclass
class Table:
    """A titled table of text cells, rendered by rich on a terminal and as aligned text elsewhere."""

    title: str | None
    columns: Sequence[Column]
    rows: list[list[str]] = dataclasses.field(default_factory=list)

    def add(self, *cells: Any) -> None:
        """Append a row; cells are converted with ``str``."""
        self.rows.append(["-" if cell is None else str(cell) for cell in cells])

    @classmethod
    def pairs(cls, title: str | None, items: Sequence[tuple[str, Any]]) -> Table:
        """A two-column ``field / value`` table."""
        table = cls(title, [Column("field"), Column("value")])
        for name, value in items:
            table.add(name, value)
        return table


def _plain_table(table: Table) -> str:
    headers = [column.header for column in table.columns]
    widths = [len(h) for h in headers]
    for row in table.rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def fmt(cells: Sequence[str]) -> str:
        out = []
        for i, cell in enumerate(cells):
            column = table.columns[i]
            out.append(cell.rjust(widths[i]) if column.numeric else cell.ljust(widths[i]))
        return "  ".join(out).rstrip()

    lines = []
    if table.title:
        lines.append(table.title)
    lines.append(fmt(headers))
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(fmt(row) for row in table.rows)
    return "\n".join(lines)


class Output:
    """The CLI's streams and modes (``--json``, ``--quiet``), shared by every command.

    * ``result`` / ``table`` / ``json`` write to stdout (what scripts consume);
    * ``info`` (silenced by ``--quiet``), ``warn`` and ``error`` write to stderr;
    * ``live`` tells progress displays whether they may redraw a terminal line.
    """

    def __init__(
        self,
        *,
        json_mode: bool = False,
        quiet: bool = False,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
    ) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self._rich = rich_available()
        err_terminal = _is_terminal(self.stderr)
        self.live = self._rich and err_terminal
        """Progress may use rich live displays on stderr (a terminal with rich installed)."""
        # Scripts reading --json or -q output want nothing extra on the terminal.
        self._live_hint_due = err_terminal and not self._rich and not quiet and not json_mode
        self._rich_tables = self._rich and _is_terminal(self.stdout)
        self.json_written = False
        """Whether a JSON document was already printed (errors then add none of their own)."""
        self._lock = threading.RLock()
        self._err_console: Console | None = None
        self._out_console: Console | None = None

    # consoles -------------------------------------------------------------------------------

    def err_console(self) -> Console:
        """The rich console on stderr (only call when ``live`` is true)."""
        if self._err_console is None:
            from rich.console import Console

            self._err_console = Console(file=self.stderr, highlight=False)
        return self._err_console

    def _stdout_console(self) -> Console:
        if self._out_console is None:
            from rich.console import Console

            self._out_console = Console(file=self.stdout, highlight=False)
        return self._out_console

    # stdout ---------------------------------------------------------------------------------

    def result(self, text: str) -> None:
        """A line of human-readable result on stdout (skipped in ``--json`` mode)."""
        if self.json_mode:
            return
        with self._lock:
            print(text, file=self.stdout, flush=True)

    def json(self, data: Any) -> None:
        """A JSON document on stdout (only in ``--json`` mode)."""
        if not self.json_mode:
            return
        with self._lock:
            self.json_written = True
            print(json.dumps(data, indent=2, default=str), file=self.stdout, flush=True)

    def json_line(self, data: Any) -> None:
        """One compact JSON line on stdout (streams such as ``webhooks listen``)."""
        if not self.json_mode:
            return
        with self._lock:
            self.json_written = True
            print(
                json.dumps(data, separators=(",", ":"), default=str), file=self.stdout, flush=True
            )

    def table(self, table: Table) -> None:
        """A table on stdout (skipped in ``--json`` mode)."""
        if self.json_mode:
            return
        with self._lock:
            if self._rich_tables:
                self._stdout_console().print(_rich_table(table))
            else:
                print(_plain_table(table), file=self.stdout, flush=True)

    def chart(self, chart: Chart) -> None:
        """A bar chart on stdout (skipped in ``--json`` mode): rich bars on a terminal."""
        if self.json_mode:
            return
        with self._lock:
            if self._rich_tables:
                console = self._stdout_console()
                console.print(rich_chart(chart, console.width))
            else:
                print(plain_chart(chart), file=self.stdout, flush=True)

    def csv(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Rows as CSV on stdout, a header first (a command's ``--csv``)."""
        with self._lock:
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
            self.stdout.flush()

    # stderr ---------------------------------------------------------------------------------

    def info(self, text: str) -> None:
        """A progress or status message on stderr (silenced by ``--quiet``)."""
        if not self.quiet:
            self._err(text)

    def warn(self, text: str) -> None:
        """A warning on stderr, shown even with ``--quiet``."""
        self._err(text)

    def error(self, text: str) -> None:
        """An error line on stderr, always shown."""
        self._err(text)

    def plain_progress(self) -> None:
        """Note that a progress display draws plain lines; the first time, on a terminal (where
        rich would have drawn a live display), say how to get one."""
        with self._lock:
            due, self._live_hint_due = self._live_hint_due, False
        if due:
            self._err(LIVE_PROGRESS_HINT)

    def _err(self, text: str) -> None:
        with self._lock:
            print(text, file=self.stderr, flush=True)


def _rich_table(table: Table) -> Any:
    from rich.table import Table as RichTable
    from rich.text import Text

    rich_table = RichTable(title=table.title, title_justify="left", header_style="bold")
    for column in table.columns:
        rich_table.add_column(column.header, justify="right" if column.numeric else "left")
    for row in table.rows:
        # Text() keeps brackets in prompts ("[fail]") from being read as rich markup.
        rich_table.add_row(*(Text(cell) for cell in row))
    return rich_table
