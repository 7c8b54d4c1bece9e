"""The two ways a batch moves: worker threads (sync client) and asyncio tasks (async client).

The batch itself is written once, as a generator (`_engine.batch_engine`) that yields orders:
`Spawn` (run this item's steps concurrently), `NEXT` (give me the next event: an item
`Finished`, a `Tick` when an item starts waiting on a limit, or a value an item passed to
``notify``, such as the batch's ``Created``), and the `Blocking` (manifest writes) and `Callback`
(``on_progress``) steps, performed as the drivers perform them: on the async client, files are
written in a worker thread and coroutine callbacks awaited. Each item is an ordinary step
generator, wrapped by the client's flow and performed by its driver, on the client's own
connection pool and clock — a sync client built on a user-supplied ``httpx.Client`` (the
emulator's in-process one, a proxy, …) batches through that very client. This module holds only
how orders are carried out.
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

from .._observe import Watch, watched
from .._steps import Blocking, Callback, Driven, Sleep, Steps, WaitFor, relay

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
    """An item started waiting ``seconds`` for a limit (progress only): a rate-limit bucket or
    a 429 (``kind="rate_limit"``), or a free concurrency slot (``kind="concurrency"``)."""

    seconds: float
    kind: str = "rate_limit"


def _limit_wait(step: Any) -> Tick | None:
    """The `Tick` of a wait for a limit that ``step`` is, or None."""
    if isinstance(step, WaitFor) and step.reason == "concurrency":
        return Tick(step.seconds, "concurrency")
    if isinstance(step, Sleep) and step.reason == "rate_limit":
        return Tick(step.seconds, "rate_limit")
    return None


Order = Spawn | NextEvent | Blocking | Callback
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
        waiting = _limit_wait(step)
        if waiting is not None and not (isinstance(step, WaitFor) and held):
            notify(waiting)
        held = isinstance(step, WaitFor) and step.reason == "concurrency"
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


class _Watched:
    """The batch's own watch (when the client has an observer), and its items' watches."""

    def __init__(self, client: _BaseClient[Any, Any], name: str) -> None:
        self.client = client
        self.name = name
        observer = client._observer
        self.watch: Watch | None = None if observer is None else observer.watch(name, client)

    def item(self, steps: Steps[Any], stop: threading.Event | None, notify: Notify) -> Steps[Any]:
        """An item's steps as a worker performs them: the flow, its watch, stopping."""
        client = self.client
        steps = client._flow.wrap(steps)
        observer = client._observer
        if observer is not None:
            watch = observer.watch(f"{self.name}.item", client, self.watch)
            if watch is not None:
                steps = watched(steps, watch)
        return _stoppable(steps, stop, notify)

    def end(self, result: Any, error: BaseException | None) -> None:
        if self.watch is not None:
            self.watch.end(result, error)


def run_engine_sync(
    client: _BaseClient[Any, Any], engine: EngineFactory[T], concurrency: int, name: str = ""
) -> T:
    """Drive a batch engine with a pool of ``concurrency`` worker threads."""
    watch = _Watched(client, name)
    try:
        result = _run_engine_sync(client, engine, concurrency, watch)
    except BaseException as error:
        watch.end(None, error)
        raise
    watch.end(result, None)
    return result


def _run_engine_sync(
    client: _BaseClient[Any, Any], engine: EngineFactory[T], concurrency: int, watch: _Watched
) -> T:
    events: queue.SimpleQueue[Any] = queue.SimpleQueue()
    stop = threading.Event()
    driver = client._driver
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="aurous-batch")
    orders: Driven[T] | None = None
    try:
        orders = Driven(engine(events.put))
        while not orders.done:
            order = orders.step
            try:
                reply: Any = None
                if isinstance(order, Spawn):
                    steps = watch.item(order.steps, stop, events.put)
                    future = pool.submit(driver.run, steps)
                    future.add_done_callback(functools.partial(_report, events, order.index))
                elif isinstance(order, NextEvent):
                    while reply is None:
                        try:
                            reply = events.get(timeout=_INTERRUPT_CHECK)
                        except queue.Empty:
                            continue
                else:
                    reply = driver.perform(order)
            except Exception as exc:
                orders.advance(None, exc)
            else:
                orders.advance(reply)
        return orders.result()
    finally:
        # Stop the items still running at their next step and let their clean-up finish,
        # so no thread keeps sending requests (or writing files) behind the caller's back.
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        if orders is not None:
            orders.close()


def _report_task(
    events: asyncio.Queue[Any], index: int, tasks: set[asyncio.Task[Any]], task: asyncio.Task[Any]
) -> None:
    tasks.discard(task)
    if task.cancelled():
        return
    error = task.exception()
    events.put_nowait(Finished(index, None if error is not None else task.result(), error))


async def run_engine_async(
    client: _BaseClient[Any, Any], engine: EngineFactory[T], name: str = ""
) -> T:
    """Drive a batch engine with one asyncio task per running item."""
    watch = _Watched(client, name)
    try:
        result = await _run_engine_async(client, engine, watch)
    except BaseException as error:
        watch.end(None, error)
        raise
    watch.end(result, None)
    return result


async def _run_engine_async(
    client: _BaseClient[Any, Any], engine: EngineFactory[T], watch: _Watched
) -> T:
    events: asyncio.Queue[Any] = asyncio.Queue()
    driver = client._driver
    tasks: set[asyncio.Task[Any]] = set()
    orders: Driven[T] | None = None
    try:
        orders = Driven(engine(events.put_nowait))
        while not orders.done:
            order = orders.step
            try:
                reply: Any = None
                if isinstance(order, Spawn):
                    steps = watch.item(order.steps, None, events.put_nowait)
                    task = asyncio.ensure_future(driver.run(steps))
                    tasks.add(task)
                    task.add_done_callback(
                        functools.partial(_report_task, events, order.index, tasks)
                    )
                elif isinstance(order, NextEvent):
                    reply = await events.get()
                else:
                    reply = await driver.perform(order)
            except Exception as exc:
                orders.advance(None, exc)
            else:
                orders.advance(reply)
        return orders.result()
    finally:
        running = list(tasks)
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        if orders is not None:
            orders.close()
