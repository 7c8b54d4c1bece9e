"""Watching calls: the seam where tracing, metrics and timings see what a call does.

A client may have an `Observer` (OpenTelemetry tracing and metrics, the command line's timings).
For each public call it is asked for a `Watch`; the watch sees every step the call performs —
each HTTP `Exchange` (retries and redirects included), each `Sleep` with its reason (a retry's
backoff, a rate limit), each `WaitFor` (a concurrency slot), each `Note` (a poll, a download) —
and then the call's result or error. It may replace a step before it is performed (an
`Exchange` whose request carries a ``traceparent``).

`watched` wraps a call's steps once, outside the flow, the way the flow wraps a method's steps:
nothing else in the SDK knows that observing exists, and a client without an observer pays one
attribute check per call.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ._steps import Step, Steps, relay

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

    from ._client import _BaseClient

__all__ = ["Observer", "Observers", "Watch", "telemetry", "watched"]

T = TypeVar("T")


class Watch(Protocol):
    """What an observer keeps of one call (a span, a timeline)."""

    def step(self, step: Step) -> Step:
        """``step`` is about to be performed; returns the step to perform (usually the same)."""
        ...

    def stepped(self, step: Step, value: Any) -> None:
        """``step`` was performed and gave ``value``."""
        ...

    def failed(self, step: Step, error: BaseException) -> None:
        """Performing ``step`` raised ``error`` (the call may still handle it: a retry)."""
        ...

    def end(self, result: Any, error: BaseException | None) -> None:
        """The call returned ``result``, or raised ``error``."""
        ...


class Observer(Protocol):
    """Watches a client's calls."""

    def watch(
        self, name: str, client: _BaseClient[Any, Any], parent: Watch | None = None
    ) -> Watch | None:
        """A watch for the call ``name`` (``"images.create_and_wait"``), ``None`` to skip it.

        ``parent`` is the watch of the call this one is part of (a batch's item: the batch).
        """
        ...


class Observers:
    """Several observers as one (tracing and the command line's timings, say)."""

    def __init__(self, *observers: Observer) -> None:
        self.observers = observers

    def watch(
        self, name: str, client: _BaseClient[Any, Any], parent: Watch | None = None
    ) -> Watch | None:
        parents = parent.watches if isinstance(parent, _Watches) else None
        watches = []
        for n, observer in enumerate(self.observers):
            up = parents[n] if parents is not None else parent
            watches.append(observer.watch(name, client, up))
        if not any(w is not None for w in watches):
            return None
        return _Watches(watches)


class _Watches:
    def __init__(self, watches: list[Watch | None]) -> None:
        self.watches = watches

    def step(self, step: Step) -> Step:
        for watch in self.watches:
            if watch is not None:
                step = watch.step(step)
        return step

    def stepped(self, step: Step, value: Any) -> None:
        for watch in self.watches:
            if watch is not None:
                watch.stepped(step, value)

    def failed(self, step: Step, error: BaseException) -> None:
        for watch in self.watches:
            if watch is not None:
                watch.failed(step, error)

    def end(self, result: Any, error: BaseException | None) -> None:
        for watch in self.watches:
            if watch is not None:
                watch.end(result, error)


_OTEL_API = ("opentelemetry.trace", "opentelemetry.metrics")


def telemetry(
    tracer_provider: TracerProvider | None = None, meter_provider: MeterProvider | None = None
) -> Observer | None:
    """The OpenTelemetry observer of a new client, or None when the program does not trace.

    Given neither provider, a client reports to OpenTelemetry's global ones, but only if the
    program has imported the API: a program that configured a provider has, and one that never
    did neither loads OpenTelemetry nor pays anything per call.
    """
    asked = tracer_provider is not None or meter_provider is not None
    if not asked and _OTEL_API[0] not in sys.modules and _OTEL_API[1] not in sys.modules:
        return None
    try:
        # Loaded by name, on demand: OpenTelemetry is an optional extra (``aurous[otel]``), and
        # this is the one place the SDK reaches for it.
        otel = importlib.import_module("aurous._otel")
    except ImportError as exc:
        if not asked:
            return None  # an OpenTelemetry too old or too broken to trace with: no tracing
        raise ImportError(
            "tracing needs the OpenTelemetry API: pip install 'aurous[otel]'"
        ) from exc
    made: Observer = otel.observer(tracer_provider, meter_provider)
    return made


def watched(steps: Steps[T], watch: Watch) -> Steps[T]:
    """``steps`` with every step shown to ``watch``, and their outcome."""

    def expand(step: Step) -> Steps[Any]:
        step = watch.step(step)
        try:
            value = yield step
        except BaseException as error:
            watch.failed(step, error)
            raise
        watch.stepped(step, value)
        return value

    try:
        result = yield from relay(steps, expand)
    except BaseException as error:
        watch.end(None, error)
        raise
    watch.end(result, None)
    return result
