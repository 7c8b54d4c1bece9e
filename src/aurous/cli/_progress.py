"""Progress displays: a live rich line on a terminal, plain log lines anywhere else.

Each display decides once, when it starts, how to draw: with rich (``Output.live``: stderr is a
terminal and rich is installed) it redraws one region of the terminal; otherwise it prints a line
only when something changed, with no control codes, so CI logs and pipes stay readable.
``--quiet`` silences them.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

from typing_extensions import Self

from .._errors import BudgetExceededError, InsufficientBalanceError
from . import _format
from ._output import Output

if TYPE_CHECKING:
    from .. import BatchProgress

__all__ = ["BatchDisplay", "StatusDisplay", "TransferDisplay"]


class _Display:
    """Context-manager plumbing shared by every display."""

    def start(self) -> None:
        """Begin drawing (live displays start their refresh thread)."""

    def stop(self) -> None:
        """Stop drawing and leave the terminal clean."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# Status of one long operation (a generation being waited on) ------------------------------


class StatusDisplay(_Display):
    """Shows what a long operation is doing and how long it has been running."""

    def __init__(self, out: Output) -> None:
        self._out = out
        self._started = time.monotonic()
        self._text = ""
        self._live: Any = None
        self._spinner: Any = None
        self._lock = threading.Lock()

    @property
    def elapsed(self) -> float:
        """Seconds since the display was created."""
        return time.monotonic() - self._started

    def start(self) -> None:
        if self._out.quiet or not self._out.live:
            self._out.plain_progress()
            return
        from rich.live import Live
        from rich.spinner import Spinner

        self._spinner = Spinner("dots", text="")
        self._live = Live(
            _Ticking(self),
            console=self._out.err_console(),
            refresh_per_second=10,
            transient=True,
        )
        self._live.start()

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def set(self, text: str) -> None:
        """Change the status text; plain output prints a line only when the text changes."""
        with self._lock:
            changed = text != self._text
            self._text = text
        if self._out.quiet or not changed:
            return
        if self._live is None:
            self._out.info(f"{text} ({_format.elapsed(self.elapsed)})")

    def render(self) -> Any:
        """The spinner with the current text and elapsed time (called by rich on each refresh)."""
        with self._lock:
            text = self._text
        self._spinner.update(text=f"{text}  [{_format.elapsed(self.elapsed)}]")
        return self._spinner


class _Ticking:
    """A renderable that asks its display for fresh content each time rich redraws."""

    def __init__(self, display: StatusDisplay) -> None:
        self._display = display

    def __rich__(self) -> Any:
        return self._display.render()


# Bytes being downloaded -------------------------------------------------------------------


class TransferDisplay(_Display):
    """A byte progress bar for downloads; plain output stays silent (paths are printed after)."""

    def __init__(self, out: Output, label: str) -> None:
        self._out = out
        self._label = label
        self._progress: Any = None
        self._task: Any = None

    def start(self) -> None:
        if self._out.quiet or not self._out.live:
            self._out.plain_progress()
            return
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=self._out.err_console(),
            transient=True,
        )
        self._task = self._progress.add_task(self._label, total=None)
        self._progress.start()

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def update(self, done: int, total: int | None) -> None:
        """Record ``done`` bytes out of ``total`` (None when the size is unknown)."""
        if self._progress is not None:
            self._progress.update(self._task, completed=done, total=total)


# A batch run ------------------------------------------------------------------------------


def _waiting_for(progress: BatchProgress) -> str:
    """What an item started waiting for, said as it is: a rate limit only when one was met."""
    seconds = progress.waiting_for_rate_limit
    if progress.waiting_for == "concurrency":
        return (
            f"waiting up to {seconds:.1f}s for a free concurrency slot (the team's generations "
            "in flight are at its limit)"
        )
    return f"rate limited: waiting {seconds:.1f}s"


class BatchDisplay(_Display):
    """Done / failed / in-flight counts of a batch, and the rate-limit waits it went through."""

    def __init__(self, out: Output, total: int | None) -> None:
        self._out = out
        self._total = total
        self._progress: Any = None
        self._task: Any = None
        self._waiting = False
        self._lock = threading.Lock()

    def start(self) -> None:
        if self._out.quiet or not self._out.live:
            self._out.plain_progress()
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=self._out.err_console(),
        )
        self._task = self._progress.add_task("batch", total=self._total, counts="")
        self._progress.start()

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def update(self, progress: BatchProgress) -> None:
        """Show a progress report of the batch helper (called from its worker threads)."""
        # Not-started items (a credit cap, a 402) are counted in ``failed`` too: shown apart,
        # since running the batch again starts them.
        counts = (
            f"ok {progress.done - progress.failed}"
            f"  failed {progress.failed - progress.not_started}"
            + (f"  not started {progress.not_started}" if progress.not_started else "")
            + f"  in flight {progress.in_flight}  waits for limits {progress.rate_limit_waits}"
        )
        if progress.waiting_for_rate_limit > 0:
            counts += f"  ({_waiting_for(progress)})"
        if self._progress is not None:
            self._progress.update(
                self._task, completed=progress.done, total=progress.total, counts=counts
            )
            return
        if self._out.quiet:
            return
        self._plain(progress, counts)

    def _plain(self, progress: BatchProgress, counts: str) -> None:
        with self._lock:
            waiting = progress.waiting_for_rate_limit > 0
            announce_wait = waiting and not self._waiting
            self._waiting = waiting
        if announce_wait:
            self._out.info(_waiting_for(progress))
        item = progress.last
        if item is None:
            return
        of = f"/{progress.total}" if progress.total is not None else ""
        if item.ok:
            gid = item.generation.id if item.generation is not None else "-"
            mark = "skipped (already done)" if item.skipped else "ok"
            what = f"{gid} {mark}"
        elif item.not_started:
            what = f"not started: {_not_started(item.error)}"
        else:
            what = f"failed: {_item_error(item)}"
        prompt = _format.shorten(str(item.request.get("prompt") or ""), 40)
        # ``index`` counts from 0, as in results files, the manifest and ``--name``'s {index}.
        self._out.info(f"[{progress.done}{of}] index {item.index} {what} - {prompt} ({counts})")


def _not_started(error: Any) -> str:
    """Why an item was not started, in a few words (the summary has the whole error)."""
    if isinstance(error, BudgetExceededError):
        return "over the credit cap"
    cause = getattr(error, "__cause__", None)
    if isinstance(error, InsufficientBalanceError) or isinstance(cause, InsufficientBalanceError):
        return "the balance ran out"
    return str(error)


def _item_error(item: Any) -> str:
    if item.error is not None:
        return str(item.error)
    generation = item.generation
    if generation is not None:
        return f"{generation.id} {generation.status}" + (
            f" ({generation.error_message})" if generation.error_message else ""
        )
    return "unknown error"
