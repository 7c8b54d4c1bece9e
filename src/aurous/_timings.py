"""Where a call's time went, for the command line's ``--timings``: an `Observer` without
OpenTelemetry.

`Timings` keeps a `Timeline` per call it watches. Every moment of a call belongs to exactly one
phase, decided at each step the call takes:

- ``pacing``: waiting for a rate-limit bucket, a 429 or a free concurrency slot, and the
  operations on a shared pacing store (Redis, a directory: ``pacing="redis://…"``), which are
  network or disk time spent on pacing;
- ``retrying``: the backoff before a retry (or before resuming a broken download);
- ``queued``: the generation was last seen ``pending`` or ``queued`` (from the create's answer,
  or the row a ``wait`` was handed and told its ``on_update``, until a poll saw it change), polls
  and their sleeps included;
- ``processing``: the generation was last seen ``processing``;
- ``download``: streaming outputs to disk (the whole of a ``download`` call);
- ``request``: everything else — sending the create, reading a row, the SDK's own work.

Time is read on the client's clock (the emulator's manual clock in tests), or on the clock given
to `Timings` (the command line's: the wall clock). Besides the phases a timeline counts the HTTP
requests and the time spent in them, the retries, the waits for limits, the time on a shared
pacing store, the bytes downloaded and what the generation held and charged.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import TYPE_CHECKING, Any

from ._observe import Observers, Watch
from ._steps import Callback, Exchange, Note, ReadChunks, Shared, Sleep, WaitFor
from .types.generation import Generation

if TYPE_CHECKING:
    from ._client import _BaseClient
    from ._clock import Clock

__all__ = ["PHASES", "Timeline", "Timings"]

PHASES = ("pacing", "retrying", "request", "queued", "processing", "download")
"""The phases of a timeline, in the order a chart shows them."""

_STATUS_PHASE = {"pending": "queued", "queued": "queued", "processing": "processing"}
_PACING = ("rate_limit", "concurrency")
"""The reasons of the waits that are pacing (`aurous._steps.Reason`)."""


@dataclasses.dataclass
class Timeline:
    """One call, as the time it spent in each phase and what it learned."""

    name: str
    """The call: ``"images.create_and_wait"``, ``"images.download"`` …"""
    parent: Timeline | None = None
    """The batch a batch item's timeline belongs to."""
    seconds: float = 0.0
    """The whole call, on the client's clock."""
    phases: dict[str, float] = dataclasses.field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    """Seconds per phase (`PHASES`); they add up to ``seconds``."""
    segments: list[tuple[str, float, float]] = dataclasses.field(default_factory=list)
    """``(phase, start, seconds)`` in order, ``start`` counted from the call's start; adjacent
    moments of one phase are one segment."""
    requests: int = 0
    """HTTP requests sent (attempts and redirects)."""
    http_seconds: float = 0.0
    """Time spent in them, bodies read included."""
    retries: int = 0
    pacing_waits: int = 0
    store_seconds: float = 0.0
    """Time spent on a shared pacing store's operations (part of the ``pacing`` phase)."""
    store_operations: int = 0
    statuses: list[tuple[float, str]] = dataclasses.field(default_factory=list)
    """``(when, status)`` each time the generation was seen in a new status."""
    generation_id: str | None = None
    status: str | None = None
    media: str | None = None
    held: float | None = None
    """Credits the generation held while in flight (from the create's answer)."""
    charged: float | None = None
    """Credits charged: the amount on a succeeded row, 0 on any other terminal one."""
    downloaded_bytes: int = 0
    files: int = 0
    error: str | None = None
    """The class name of the error the call raised (or a batch item ended with)."""
    done: bool = False

    def bars(self) -> list[tuple[str, float]]:
        """The phases that took any time, in `PHASES` order: what a chart draws."""
        return [(phase, seconds) for phase, seconds in self.phases.items() if seconds > 0]


def merged(timelines: list[Timeline], name: str = "") -> Timeline:
    """One timeline adding up ``timelines`` (calls made one after the other, such as
    ``create_and_wait`` then ``download``): their phases, counts and cost, in order."""
    total = Timeline(name or " + ".join(t.name for t in timelines))
    offset = 0.0
    for timeline in timelines:
        total.seconds += timeline.seconds
        for phase, seconds in timeline.phases.items():
            total.phases[phase] += seconds
        for phase, start, seconds in timeline.segments:
            _extend(total.segments, phase, offset + start, seconds)
        total.statuses.extend((offset + when, status) for when, status in timeline.statuses)
        offset += timeline.seconds
        total.requests += timeline.requests
        total.http_seconds += timeline.http_seconds
        total.retries += timeline.retries
        total.pacing_waits += timeline.pacing_waits
        total.store_seconds += timeline.store_seconds
        total.store_operations += timeline.store_operations
        total.downloaded_bytes += timeline.downloaded_bytes
        total.files += timeline.files
        for field in ("generation_id", "status", "media", "held", "charged", "error"):
            value = getattr(timeline, field)
            if value is not None:
                setattr(total, field, value)
    total.done = all(t.done for t in timelines)
    return total


def _extend(
    segments: list[tuple[str, float, float]], phase: str, start: float, span: float
) -> None:
    if span <= 0:
        return
    if segments and segments[-1][0] == phase:
        last_phase, last_start, last_span = segments[-1]
        segments[-1] = (last_phase, last_start, last_span + span)
    else:
        segments.append((phase, start, span))


class Timings:
    """Records the timeline of every call of the client it watches.

    >>> timings = Timings.attach(client)
    >>> g = client.images.create_and_wait(prompt="a lighthouse")
    >>> timings.last().bars()
    [('request', 0.12), ('queued', 1.4), ('processing', 6.1)]
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self.timelines: list[Timeline] = []
        self.clock = clock
        """The clock time is read on; ``None``: each watched client's own."""
        self._lock = threading.Lock()

    @classmethod
    def attach(cls, client: _BaseClient[Any, Any], clock: Clock | None = None) -> Timings:
        """Watch ``client``'s calls from now on, beside the observer it already has (tracing).

        ``clock`` replaces the client's for reading time: the command line explains its wall
        time, which an emulator's clock (``speed``) runs ahead of.
        """
        timings = cls(clock)
        current = client._observer
        client._observer = timings if current is None else Observers(current, timings)
        return timings

    def watch(
        self, name: str, client: _BaseClient[Any, Any], parent: Watch | None = None
    ) -> Watch | None:
        up = parent.timeline if isinstance(parent, _TimelineWatch) else None
        watch = _TimelineWatch(Timeline(name, up), self.clock or client._clock)
        with self._lock:
            self.timelines.append(watch.timeline)
        return watch

    def calls(self) -> list[Timeline]:
        """The timelines of the calls made directly (batch items aside)."""
        with self._lock:
            return [t for t in self.timelines if t.parent is None]

    def last(self) -> Timeline | None:
        """The most recent call's timeline, if any."""
        calls = self.calls()
        return calls[-1] if calls else None

    def total(self) -> Timeline:
        """Every call made directly, added up (`merged`)."""
        return merged(self.calls())


class _TimelineWatch:
    """Fills one `Timeline`: at each boundary the time since the last goes to the current phase."""

    __slots__ = (
        "base",
        "clock",
        "current",
        "http_from",
        "mark",
        "started",
        "store_from",
        "timeline",
    )

    def __init__(self, timeline: Timeline, clock: Clock) -> None:
        self.timeline = timeline
        self.clock = clock
        self.started = self.mark = clock.monotonic()
        self.base = "download" if timeline.name.endswith(".download") else "request"
        """The phase of whatever is not a wait: the generation's status once known."""
        self.current = self.base
        self.http_from: float | None = None
        self.store_from: float | None = None

    def _advance(self) -> float:
        now = self.clock.monotonic()
        spent = now - self.mark
        if spent > 0:
            timeline = self.timeline
            timeline.phases[self.current] += spent
            _extend(timeline.segments, self.current, self.mark - self.started, spent)
        self.mark = now
        return now

    def _saw(self, status: Any, now: float) -> None:
        if not isinstance(status, str):
            return
        timeline = self.timeline
        if status != timeline.status:
            timeline.statuses.append((now - self.started, status))
        timeline.status = status
        if self.base != "download":
            self.base = _STATUS_PHASE.get(status, "request")

    # ---- the Watch protocol ----------------------------------------------------------------------
    def step(self, step: Any) -> Any:
        now = self._advance()
        kind = type(step)
        timeline = self.timeline
        if kind is Exchange or kind is ReadChunks:
            self.http_from = now
            if kind is Exchange:
                timeline.requests += 1
            if kind is ReadChunks or step.stream:
                self.current = "download"
        elif kind is Sleep:
            if step.reason in _PACING:
                self.current = "pacing"
                timeline.pacing_waits += 1
            elif step.reason == "backoff":
                self.current = "retrying"
                timeline.retries += 1
        elif kind is WaitFor and step.reason == "concurrency":
            self.current = "pacing"
            timeline.pacing_waits += 1
        elif kind is Shared:
            self.current = "pacing"
            self.store_from = now
        elif kind is Note:
            self._note(step, now)
        elif kind is Callback and step.args and isinstance(step.args[0], Generation):
            # ``on_update`` with the row a ``wait`` was handed: until the first poll, the only
            # word of the status (the time before that poll is queued or processing, not request).
            self._saw(step.args[0].status, now)
        return step

    def stepped(self, step: Any, value: Any) -> None:
        now = self._finish(step)
        if type(step) is Exchange and step.call.creates_generation and not step.stream:
            self._created(value, now, step.call.route)

    def failed(self, step: Any, error: BaseException) -> None:
        self._finish(step)

    def end(self, result: Any, error: BaseException | None) -> None:
        now = self._advance()
        timeline = self.timeline
        timeline.seconds = now - self.started
        timeline.done = True
        failure = error
        generation = result if isinstance(result, Generation) else None
        if error is not None:
            generation = getattr(error, "generation", None)
        elif timeline.name.endswith(".batch.item"):
            generation = getattr(result, "generation", None)
            failure = getattr(result, "error", None)
        if isinstance(generation, Generation):
            timeline.generation_id = generation.id
            timeline.media = generation.kind
            self._saw(generation.status, now)
            if generation.cost is not None:
                amount = float(generation.cost.amount)
                if generation.is_terminal:
                    timeline.charged = amount
                else:
                    timeline.held = amount
        if failure is not None:
            timeline.error = type(failure).__name__

    # ---- boundaries ------------------------------------------------------------------------------
    def _finish(self, step: Any) -> float:
        now = self._advance()
        self.current = self.base
        kind = type(step)
        if self.http_from is not None and kind in (Exchange, ReadChunks):
            self.timeline.http_seconds += now - self.http_from
            self.http_from = None
        elif self.store_from is not None and kind is Shared:
            self.timeline.store_seconds += now - self.store_from
            self.timeline.store_operations += 1
            self.store_from = None
        return now

    def _note(self, step: Note, now: float) -> None:
        facts = step.facts
        timeline = self.timeline
        if step.kind == "poll":
            timeline.generation_id = facts.get("generation_id") or timeline.generation_id
            self._saw(facts.get("status"), now)
        elif step.kind == "download":
            timeline.generation_id = facts.get("generation_id") or timeline.generation_id
            timeline.downloaded_bytes += int(facts.get("bytes", 0))
            timeline.files += int(facts.get("files", 0))

    def _created(self, response: Any, now: float, route: str) -> None:
        """The create's answer: the generation's first status and the credits it holds."""
        if not 200 <= getattr(response, "status_code", 0) < 300:
            return
        try:
            body = json.loads(response.content)
        except ValueError:
            return
        if not isinstance(body, dict):
            return
        timeline = self.timeline
        if isinstance(body.get("id"), str):
            timeline.generation_id = body["id"]
        timeline.media = "video" if "/videos" in route else "image"
        cost = body.get("cost")
        amount = cost.get("amount") if isinstance(cost, dict) else None
        if isinstance(amount, (int, float)) and not isinstance(amount, bool):
            timeline.held = float(amount)
        self._saw(body.get("status"), now)
