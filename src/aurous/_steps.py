"""The steps an SDK method yields: what it needs done, described without doing any I/O.

Every method is a generator of steps (a `Call` to the API, a `Sleep`, a `Now` …). The two drivers
in `aurous._drivers` perform them, with blocking I/O or with ``await``; nothing else differs between
`aurous.Client` and `aurous.AsyncClient`. Between the method and the driver, `aurous._flow` turns
each `Call` into paced and retried `Exchange` steps, the way httpx's ``sync_auth_flow`` wraps an
``auth_flow``.

`Driven` is the one piece of code that steps a generator (first step, send, throw, result,
close): the drivers, `relay` and the batch runtimes all use it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, Generic, Literal, NamedTuple, TypeVar

import httpx

if TYPE_CHECKING:
    import asyncio

    from ._call import Call

__all__ = [
    "Blocking",
    "Callback",
    "Driven",
    "Emit",
    "Exchange",
    "Note",
    "Now",
    "ReadChunks",
    "Shared",
    "Signal",
    "Sleep",
    "Step",
    "Steps",
    "UnreadBody",
    "WaitFor",
    "perform",
    "relay",
]

T = TypeVar("T")

# Steps are NamedTuples: immutable, compared and printed like dataclasses, but a tenth of the
# cost to define (frozen dataclasses were a third of `import aurous`'s own time) and to build.

Reason = Literal["poll", "backoff", "rate_limit", "concurrency"]
"""Why a step waits: polling, a retry's backoff, a rate-limit bucket, a concurrency slot."""


class Sleep(NamedTuple):
    """Wait this many seconds (on the client's clock)."""

    seconds: float
    reason: Reason = "poll"
    detail: Any = None
    """What the wait is for: the error a retry follows, the route whose bucket is empty."""


class Now(NamedTuple):
    """Ask for a monotonic time reading (on the client's clock)."""


class Exchange(NamedTuple):
    """One HTTP request and its response: the only step that touches the network.

    Performed by a driver, which sends ``request`` and returns the response: a 2xx of a
    ``stream`` call unread (the caller streams it with `ReadChunks`), a redirect unread and
    closed, anything else read whole — within ``deadline`` (a reading of the client's monotonic
    clock) and the request's read timeout, and at most ``max_bytes`` long. A failure to send
    raises httpx's own exception; a failure while reading the body raises `UnreadBody`.
    `aurous._transport` turns both into `aurous` errors.
    """

    call: Call[Any]
    attempt: int
    resend_count: int
    """Requests sent for this call before this one (retries and redirects)."""
    request: httpx.Request
    stream: bool
    deadline: float | None
    max_bytes: int


class UnreadBody(Exception):
    """The body of ``response`` could not be read whole: ``error`` says why (a transport or
    decoding error, the size limit, the deadline)."""

    def __init__(self, response: httpx.Response, error: Exception) -> None:
        super().__init__(str(error))
        self.response = response
        self.error = error


class ReadChunks(NamedTuple):
    """Stream ``response``'s body: ``write`` each chunk, then tell ``progress`` its length.

    ``write`` may block on the disk: the async driver runs it in a worker thread (in batches of
    chunks) so the event loop never waits for a file. ``progress`` is the caller's own
    callback and runs where callbacks run (`Callback`). The response is closed at the end.
    """

    response: httpx.Response
    write: Callable[[bytes], Any]
    progress: Callable[[int], Any] | None = None


class Blocking(NamedTuple):
    """Run ``fn(*args)``, which may block (files, ``fsync``, renames); its result.

    Inline on a sync client; in a worker thread on an async one, so the event loop keeps
    serving other requests while a file is written or committed.
    """

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    discard: Callable[[Any], Any] | None = None
    """What to do with the result if the caller was cancelled while ``fn`` ran in its thread
    (close a file ``fn`` opened): the thread cannot be stopped, its result must not leak."""


class Callback(NamedTuple):
    """Call a caller's callback (``on_update``, ``on_progress``) with ``args``.

    On an async client a coroutine function is awaited; a sync client refuses one before
    anything is sent (`aurous._operations`).
    """

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    name: str = "callback"
    """The parameter the callback was given as (for error messages)."""


class Note(NamedTuple):
    """A fact about the call for whoever observes it (tracing, timings); no effect otherwise.

    ``kind`` is ``"poll"`` (``status``), ``"download"`` (``bytes``, ``seconds``, ``url``) …
    """

    kind: str
    facts: Mapping[str, Any]


class Emit(NamedTuple):
    """Hand ``value`` to the caller now and go on when asked for the next one (``watch``: each
    new state of a generation, as an iterator)."""

    value: Any


class Shared(NamedTuple):
    """Apply ``op`` to the state under ``key`` in a shared store (`aurous._store`): blocking on
    a sync client, awaited on an async one. Its result is the operation's."""

    store: Any
    key: str
    kind: Any
    op: Callable[[Any, float], Any]


class WaitFor(NamedTuple):
    """Wait until ``signal`` fires after ``version`` or ``seconds`` pass, whichever is first.

    How a create held back by the concurrency limit sleeps until one of the client's generations
    finishes, without polling.
    """

    signal: Signal
    version: int
    seconds: float
    reason: Reason = "concurrency"


class Signal:
    """Wakes waiters in threads (sync client) and in tasks (async client, any event loop).

    ``version`` counts the times it fired; a waiter passes the version it saw, so a fire that
    happens between deciding to wait and starting to wait is never missed.
    """

    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock
        self._condition = threading.Condition(lock)
        self.version = 0
        self._sleepers = 0  # threads in `wait`: most fires (every accepted create) have none
        self._futures: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def fire_locked(self) -> None:
        """Wake every waiter; the caller holds the lock given to the constructor."""
        self.version += 1
        if self._sleepers:
            self._condition.notify_all()
        if self._futures:
            futures, self._futures = self._futures, []
            for loop, future in futures:
                loop.call_soon_threadsafe(_resolve, future)

    def fire(self) -> None:
        """Wake every waiter (taking the lock)."""
        with self._condition:
            self.fire_locked()

    def wait(self, version: int, seconds: float) -> None:
        """Block this thread until the signal fires after ``version`` or ``seconds`` pass."""
        with self._condition:
            self._sleepers += 1
            try:
                self._condition.wait_for(lambda: self.version != version, timeout=max(0.0, seconds))
            finally:
                self._sleepers -= 1

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
    Step = (
        Call[Any]
        | Exchange
        | Sleep
        | Now
        | ReadChunks
        | WaitFor
        | Blocking
        | Callback
        | Note
        | Shared
        | Emit
    )
else:
    Step = object

Steps = Generator[Step, Any, T]
"""A method body: yields steps, receives their results, returns the method's result."""


class Driven(Generic[T]):
    """A generator being driven: its current ``step`` until it is ``done``, then its ``value``.

    The drivers, `relay` and the batch runtimes step generators only through this, so the
    protocol (prime, send a result or throw an error, catch the return, close) is written once.
    """

    __slots__ = ("_gen", "done", "step", "value")

    def __init__(self, gen: Generator[Any, Any, T]) -> None:
        self._gen = gen
        self.done = False
        self.step: Any = None
        self.value: T | None = None
        self.advance(None)

    def advance(self, value: Any, error: BaseException | None = None) -> None:
        """Send ``value`` (or throw ``error``) in; the next step, or the return value."""
        try:
            self.step = self._gen.send(value) if error is None else self._gen.throw(error)
        except StopIteration as stop:
            self.done = True
            self.value = stop.value

    def close(self) -> None:
        """Close the generator: its ``finally`` blocks (clean-up) run now, not when collected."""
        self._gen.close()

    def result(self) -> T:
        return self.value  # type: ignore[return-value]


def relay(steps: Steps[T], expand: Callable[[Step], Steps[Any]]) -> Steps[T]:
    """``steps``, each step replaced by the steps ``expand`` makes of it.

    What ``expand`` returns goes back to ``steps``, and what it raises (an ``Exception``) is
    thrown into them, so they can handle a failed call like any other. Whatever ends the relay —
    a return, an error, Ctrl-C, a cancelled task — ``steps`` are closed, so their clean-up (a
    partial download removed, say) runs at once, not when they are collected.
    """
    inner = Driven(steps)
    try:
        while not inner.done:
            try:
                value = yield from expand(inner.step)
            except Exception as exc:
                inner.advance(None, exc)
            else:
                inner.advance(value)
        return inner.result()
    finally:
        inner.close()


def perform(step: Step) -> Steps[Any]:
    """The identity expansion: ``step`` itself, for the driver."""
    return (yield step)
