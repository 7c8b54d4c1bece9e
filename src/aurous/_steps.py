"""The steps an SDK method yields: what it needs done, described without doing any I/O.

Every method is a generator of steps (a `Call` to the API, a `Sleep`, a `Now` …). The two drivers
in `aurous._drivers` perform them, with blocking I/O or with ``await``; nothing else differs between
`aurous.Client` and `aurous.AsyncClient`. Between the method and the driver, `aurous._flow` turns
each `Call` into paced and retried `Send` steps, the way httpx's ``sync_auth_flow`` wraps an
``auth_flow``.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import httpx

if TYPE_CHECKING:
    import asyncio

    from ._call import Call

__all__ = [
    "Now",
    "ReadChunks",
    "Send",
    "Signal",
    "Sleep",
    "Step",
    "Steps",
    "WaitFor",
    "perform",
    "relay",
]

T = TypeVar("T")

Reason = Literal["poll", "backoff", "rate_limit"]


@dataclasses.dataclass(frozen=True)
class Sleep:
    """Wait this many seconds (on the client's clock)."""

    seconds: float
    reason: Reason = "poll"
    """Why: the batch counts ``rate_limit`` waits for its progress report."""


@dataclasses.dataclass(frozen=True)
class Now:
    """Ask for a monotonic time reading (on the client's clock)."""


@dataclasses.dataclass(frozen=True)
class ReadChunks:
    """Stream ``response``'s body into ``sink`` chunk by chunk, then close the response."""

    response: httpx.Response
    sink: Callable[[bytes], None]


@dataclasses.dataclass(frozen=True)
class Send:
    """One attempt at a `Call`: build the HTTP request, send it, follow redirects.

    Performed by the transport; the answer is the 2xx ``httpx.Response`` (anything else raises the
    matching `aurous.AurousError`). Only `aurous._flow` yields these.
    """

    call: Call[Any]
    attempt: int
    timeout: httpx.Timeout


@dataclasses.dataclass(frozen=True)
class WaitFor:
    """Wait until ``signal`` fires after ``version`` or ``seconds`` pass, whichever is first.

    How a create held back by the concurrency limit sleeps until one of the client's generations
    finishes, without polling.
    """

    signal: Signal
    version: int
    seconds: float
    reason: Reason = "rate_limit"


class Signal:
    """Wakes waiters in threads (sync client) and in tasks (async client, any event loop).

    ``version`` counts the times it fired; a waiter passes the version it saw, so a fire that
    happens between deciding to wait and starting to wait is never missed.
    """

    def __init__(self, lock: threading.Lock) -> None:
        self._condition = threading.Condition(lock)
        self.version = 0
        self._futures: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def fire_locked(self) -> None:
        """Wake every waiter; the caller holds the lock given to the constructor."""
        self.version += 1
        self._condition.notify_all()
        futures, self._futures = self._futures, []
        for loop, future in futures:
            loop.call_soon_threadsafe(_resolve, future)

    def wait(self, version: int, seconds: float) -> None:
        """Block this thread until the signal fires after ``version`` or ``seconds`` pass."""
        with self._condition:
            self._condition.wait_for(lambda: self.version != version, timeout=max(0.0, seconds))

    async def wait_async(self, version: int, seconds: float) -> None:
        """Suspend this task until the signal fires after ``version`` or ``seconds`` pass."""
        # Deferred: a program using only the sync client never loads asyncio (an event loop is
        # running here, so this is a lookup).
        import asyncio

        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (loop, future)
        with self._condition:
            if self.version != version:
                return
            self._futures.append(entry)
        try:
            await asyncio.wait([future], timeout=max(0.0, seconds))
        finally:
            if not future.done():
                future.cancel()
            with self._condition:
                if entry in self._futures:
                    self._futures.remove(entry)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


if TYPE_CHECKING:
    Step = Call[Any] | Send | Sleep | Now | ReadChunks | WaitFor
else:
    Step = object

Steps = Generator[Step, Any, T]
"""A method body: yields steps, receives their results, returns the method's result."""


def relay(steps: Steps[T], expand: Callable[[Step], Steps[Any]]) -> Steps[T]:
    """``steps``, each step replaced by the steps ``expand`` makes of it.

    What ``expand`` returns goes back to ``steps``, and what it raises (an ``Exception``) is
    thrown into them, so they can handle a failed call like any other. Whatever ends the relay —
    a return, an error, Ctrl-C, a cancelled task — ``steps`` are closed, so their clean-up (a
    partial download removed, say) runs at once, not when they are collected.
    """
    try:
        step = next(steps)
        while True:
            try:
                value = yield from expand(step)
            except Exception as exc:
                step = steps.throw(exc)
            else:
                step = steps.send(value)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        steps.close()


def perform(step: Step) -> Steps[Any]:
    """The identity expansion: ``step`` itself, for the driver."""
    return (yield step)
