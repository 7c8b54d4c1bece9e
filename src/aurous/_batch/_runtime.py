"""The two ways a batch moves: worker threads (sync client) and asyncio tasks (async client).

The batch itself is written once, as a generator (`_engine.batch_engine`) that yields two kinds of
orders: `Spawn` (run this item's steps concurrently) and `NEXT` (give me the next event: an item
`Finished`, a `Tick` when an item starts waiting on a rate limit, or a value an item passed to
``notify``, such as the batch's ``Created``). Each item is an ordinary
step generator, wrapped by the client's flow and performed by its driver, on the client's own
transport and clock — a sync client built on a user-supplied ``httpx.Client`` (the emulator's
in-process one, a proxy, …) batches through that very client. This module holds only how orders
are carried out.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import queue
import threading
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Final, TypeVar

from .._drivers import drive_async, drive_sync
from .._steps import Sleep, Steps, WaitFor, relay

if TYPE_CHECKING:
    from .._client import _BaseClient

__all__ = [
    "NEXT",
    "EngineFactory",
    "Finished",
    "NextEvent",
    "Notify",
    "Spawn",
    "Tick",
    "run_engine_async",
    "run_engine_sync",
]

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Spawn:
    """Start running ``steps`` (one item) concurrently; reported back as `Finished`."""

    index: int
    steps: Steps[Any]


class NextEvent:
    """Wait for the next `Finished` or `Tick`."""


NEXT: Final = NextEvent()


@dataclasses.dataclass(frozen=True)
class Finished:
    """Item ``index`` ended: its return ``value``, or the ``error`` it raised."""

    index: int
    value: Any = None
    error: BaseException | None = None


@dataclasses.dataclass(frozen=True)
class Tick:
    """An item started waiting ``seconds`` for a rate limit (progress only)."""

    seconds: float


def _rate_limit_wait(step: Any) -> float | None:
    """Seconds of a rate-limit wait that ``step`` is, or None."""
    if isinstance(step, WaitFor) or (isinstance(step, Sleep) and step.reason == "rate_limit"):
        return step.seconds
    return None


Order = Spawn | NextEvent
Notify = Callable[[Any], None]
"""How items report events (a `Tick`, or any value of the engine's own) to the engine."""
EngineFactory = Callable[[Notify], Generator[Order, Any, T]]
_INTERRUPT_CHECK = 0.5
"""Seconds between wake-ups of the sync engine's wait, so Ctrl-C is seen promptly everywhere."""
_SLEEP_SLICE = 0.5
"""Longest single sleep of an item on a worker thread (how soon it notices a stop)."""


class _Stopped(BaseException):
    """Thrown into an item's steps when the batch stops (a BaseException: nothing catches it)."""


def _stoppable(steps: Steps[T], stop: threading.Event | None, notify: Notify) -> Steps[T]:
    """``steps`` with their rate-limit waits reported as `Tick` events, and (worker threads,
    given a ``stop``) abandoned at the next step once ``stop`` is set; clean-up still runs.

    On a worker thread long sleeps (a 15 s poll interval, a rate-limit wait) are taken in
    slices, so a stopped batch does not wait them out; the total slept on the client's clock is
    unchanged. Tasks need neither: cancelling a task stops it where it waits.
    """
    held = False  # a create held at the gate re-waits after every wake-up: one wait, one Tick

    def expand(step: Any) -> Steps[Any]:
        nonlocal held
        if stop is not None and stop.is_set():
            raise _Stopped
        waiting = _rate_limit_wait(step)
        if waiting is not None and not (isinstance(step, WaitFor) and held):
            notify(Tick(waiting))
        held = isinstance(step, WaitFor)
        if stop is None or not isinstance(step, (Sleep, WaitFor)) or step.seconds <= _SLEEP_SLICE:
            return (yield step)
        yield from _sliced(step, stop)
        if stop.is_set():
            raise _Stopped
        return None

    return relay(steps, expand)


def _sliced(step: Sleep | WaitFor, stop: threading.Event) -> Steps[None]:
    left = step.seconds
    while left > 0 and not stop.is_set():
        part = min(left, _SLEEP_SLICE)
        if isinstance(step, WaitFor):
            if step.signal.version != step.version:
                return
            yield WaitFor(step.signal, step.version, part, step.reason)
        else:
            yield Sleep(part, step.reason)
        left -= part


def _report(events: queue.SimpleQueue[Any], index: int, future: Future[Any]) -> None:
    if future.cancelled():
        return
    error = future.exception()
    events.put(Finished(index, None if error is not None else future.result(), error))


def run_engine_sync(client: _BaseClient[Any, Any], engine: EngineFactory[T], concurrency: int) -> T:
    """Drive a batch engine with a pool of ``concurrency`` worker threads."""
    events: queue.SimpleQueue[Any] = queue.SimpleQueue()
    stop = threading.Event()
    orders = engine(events.put)
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="aurous-batch")
    try:
        order = next(orders)
        while True:
            reply: Any = None
            if isinstance(order, Spawn):
                steps = _stoppable(client._flow.wrap(order.steps), stop, events.put)
                future = pool.submit(drive_sync, client._transport, steps)
                future.add_done_callback(functools.partial(_report, events, order.index))
            else:
                while reply is None:
                    try:
                        reply = events.get(timeout=_INTERRUPT_CHECK)
                    except queue.Empty:
                        continue
            order = orders.send(reply)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    finally:
        # Stop the items still running at their next step and let their clean-up finish,
        # so no thread keeps sending requests (or writing files) behind the caller's back.
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        orders.close()


def _report_task(
    events: asyncio.Queue[Any], index: int, tasks: set[asyncio.Task[Any]], task: asyncio.Task[Any]
) -> None:
    tasks.discard(task)
    if task.cancelled():
        return
    error = task.exception()
    events.put_nowait(Finished(index, None if error is not None else task.result(), error))


async def run_engine_async(client: _BaseClient[Any, Any], engine: EngineFactory[T]) -> T:
    """Drive a batch engine with one asyncio task per running item."""
    events: asyncio.Queue[Any] = asyncio.Queue()
    orders = engine(events.put_nowait)
    tasks: set[asyncio.Task[Any]] = set()
    try:
        order = next(orders)
        while True:
            reply: Any = None
            if isinstance(order, Spawn):
                steps = _stoppable(client._flow.wrap(order.steps), None, events.put_nowait)
                task = asyncio.ensure_future(drive_async(client._transport, steps))
                tasks.add(task)
                task.add_done_callback(functools.partial(_report_task, events, order.index, tasks))
            else:
                reply = await events.get()
            order = orders.send(reply)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    finally:
        running = list(tasks)
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        orders.close()
