"""The two drivers: perform a method's steps with blocking I/O (`Client`) or ``await`` (`AsyncClient`).

They are the only code that differs between the clients. Each step is tiny — exchange one HTTP
request, sleep, read the clock, stream a body, run a blocking function, call a callback, wait for
a signal — and everything above them (pacing, retries, redirects, polling, downloading, batches)
is written once as steps. The async driver keeps the event loop free: disk I/O (`Blocking`, the
writes of `ReadChunks`) runs in a worker thread, and callbacks that are coroutine functions are
awaited.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ._clock import Clock, SystemClock
from ._observe import watched
from ._response import APIResponse
from ._steps import (
    Blocking,
    Callback,
    Driven,
    Emit,
    Exchange,
    Note,
    Now,
    ReadChunks,
    Shared,
    Sleep,
    Steps,
    UnreadBody,
    WaitFor,
    relay,
)
from ._transport import BodyTooLarge, _user_stacklevel

if TYPE_CHECKING:
    from ._client import _BaseClient

__all__ = ["AsyncDriver", "SyncDriver", "prepare", "run_async", "run_sync"]

T = TypeVar("T")

_MANUAL_CLOCK_GRACE = 0.02
"""Real seconds a wait on a manual clock (the emulator's, in tests) lets other threads and tasks
run before it advances the clock: otherwise waiters would race time ahead of the work they wait
for."""
_WRITE_BATCH = 256 * 1024
"""Bytes the async driver gathers before handing them to a worker thread to write: one thread
hop per quarter megabyte, not one per network chunk."""


logger = logging.getLogger("aurous")
_warned_in_loop = False


def run_sync(client: _BaseClient[Any, Any], steps: Steps[T], name: str = "") -> T:
    """Run the steps of the call ``name`` on ``client`` with blocking I/O; its result."""
    if not _warned_in_loop:
        _check_event_loop(name)
    driver: SyncDriver = client._driver
    return driver.run(prepare(client, steps, name))


def _check_event_loop(name: str) -> None:
    """Warn (once per process) when a sync call runs on a thread that runs an event loop: it
    blocks that loop, and every other task on it, until the call returns."""
    # Only a program that loaded asyncio can be running a loop: the others never import it.
    asyncio = sys.modules.get("asyncio")
    if asyncio is None or asyncio._get_running_loop() is None:
        return
    if "ipykernel" in sys.modules:
        return  # a notebook's cells run inside its kernel's loop, where blocking is expected
    global _warned_in_loop
    _warned_in_loop = True
    message = (
        f"aurous.Client.{name or 'method'}() was called inside a running asyncio event loop: "
        "it blocks the loop (and every other task on it) until it returns. Use "
        "aurous.AsyncClient and await it, or run the call in a thread (asyncio.to_thread)."
    )
    logger.warning(message)
    warnings.warn(message, RuntimeWarning, stacklevel=_user_stacklevel())


async def run_async(client: _BaseClient[Any, Any], steps: Steps[T], name: str = "") -> T:
    """Run the steps of the call ``name`` on ``client`` with ``await``; its result."""
    driver: AsyncDriver = client._driver
    return await driver.run(prepare(client, steps, name))


def prepare(client: _BaseClient[Any, Any], steps: Steps[T], name: str) -> Steps[T]:
    """A method's steps as the driver performs them: calls expanded by the client's flow,
    watched by its observer (if any), answered as `APIResponse` on a raw view."""
    steps = client._flow.wrap(steps)
    observer = client._observer
    if observer is not None:
        watch = observer.watch(name, client)
        if watch is not None:
            steps = watched(steps, watch)
    if client._plain is not client:
        return with_response(steps)  # type: ignore[return-value]
    return steps


def with_response(steps: Steps[T]) -> Steps[APIResponse[T]]:
    """``steps``, returning their result in an `APIResponse` with the last HTTP response the
    call received (a ``with_raw_response`` view)."""
    last: list[Any] = [None, None]

    def expand(step: Any) -> Steps[Any]:
        value = yield step
        if type(step) is Exchange and not value.is_redirect:
            last[:] = [value, step.call.idempotency_key]
        return value

    result = yield from relay(steps, expand)
    return APIResponse(last[0], result, last[1])


def _deadline(step: Exchange, clock: Clock) -> float | None:
    """When the body must be read by: the call's deadline, and ``read`` seconds after the
    headers arrived (httpx's read timeout bounds each read; this bounds them all, so a server
    trickling a byte at a time cannot stretch a call)."""
    timeout = step.request.extensions.get("timeout")
    read = timeout.get("read") if isinstance(timeout, dict) else None
    until = step.deadline
    if isinstance(read, (int, float)):
        by_read = clock.monotonic() + read
        until = by_read if until is None else min(until, by_read)
    return until


def _guard(chunk: bytes, size: int, limit: int, until: float | None, clock: Clock) -> int:
    size += len(chunk)
    if size > limit:
        raise BodyTooLarge(limit)
    if until is not None and clock.monotonic() > until:
        raise httpx.ReadTimeout("the response body did not arrive in time")
    return size


class _GuardedStream(httpx.SyncByteStream):
    """A response body that stops at the size limit and at the deadline."""

    def __init__(self, inner: Any, clock: Clock, until: float | None, limit: int) -> None:
        self._inner, self._clock, self._until, self._limit = inner, clock, until, limit

    def __iter__(self) -> Iterator[bytes]:
        size = 0
        for chunk in self._inner:
            size = _guard(chunk, size, self._limit, self._until, self._clock)
            yield chunk

    def close(self) -> None:
        self._inner.close()


class _AsyncGuardedStream(httpx.AsyncByteStream):
    """`_GuardedStream` for the async client."""

    def __init__(self, inner: Any, clock: Clock, until: float | None, limit: int) -> None:
        self._inner, self._clock, self._until, self._limit = inner, clock, until, limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        size = 0
        async for chunk in self._inner:
            size = _guard(chunk, size, self._limit, self._until, self._clock)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


def _keeps_body_unread(step: Exchange, response: httpx.Response) -> bool:
    status = response.status_code
    return (step.stream and 200 <= status < 300) or 300 <= status < 400


def _refuse_awaitable(result: Any, step: Callback) -> None:
    if hasattr(result, "__await__"):
        close = getattr(result, "close", None)
        if callable(close):
            close()  # no "never awaited" warning on top of the error
        raise TypeError(
            f"{step.name} returned an awaitable, which aurous.Client cannot await: pass a plain "
            "function, or use aurous.AsyncClient"
        )


class SyncDriver:
    """Performs steps with blocking I/O through an ``httpx.Client``."""

    __slots__ = ("clock", "http")

    def __init__(self, http: httpx.Client, clock: Clock) -> None:
        self.http = http
        self.clock = clock

    def run(self, steps: Steps[T]) -> T:
        """Perform ``steps`` (already wrapped by the flow) until they return."""
        driven = Driven(steps)
        try:
            while not driven.done:
                try:
                    value = self.perform(driven.step)
                except Exception as exc:
                    driven.advance(None, exc)
                else:
                    driven.advance(value)
            return driven.result()
        finally:
            driven.close()

    def perform(self, step: Any) -> Any:
        kind = type(step)
        if kind is Exchange:
            return self.exchange(step)
        if kind is Now:
            return self.clock.monotonic()
        if kind is Sleep:
            self.clock.sleep(step.seconds)
        elif kind is Blocking:
            return step.fn(*step.args)
        elif kind is Callback:
            _refuse_awaitable(step.fn(*step.args), step)
        elif kind is WaitFor:
            self.wait_for(step)
        elif kind is ReadChunks:
            self.read_chunks(step)
        elif kind is Shared:
            return step.store.apply(step.key, step.kind, step.op)
        elif kind is not Note and kind is not Emit:  # an Emit outside a stream: not wanted
            raise TypeError(f"not a step the driver can perform: {step!r:.80}")
        return None

    def exchange(self, step: Exchange) -> httpx.Response:
        response = self.http.send(step.request, stream=True, follow_redirects=False)
        if _keeps_body_unread(step, response):
            if not response.is_success:
                response.close()
            return response
        until = _deadline(step, self.clock)
        response.stream = _GuardedStream(response.stream, self.clock, until, step.max_bytes)
        try:
            response.read()
        except (httpx.TransportError, httpx.DecodingError, BodyTooLarge) as exc:
            raise UnreadBody(response, exc) from exc
        finally:
            response.close()
        return response

    def wait_for(self, step: WaitFor) -> None:
        if isinstance(self.clock, SystemClock):
            step.signal.wait(step.version, step.seconds)
            return
        # A manual clock moves only when someone sleeps: give the threads that may fire the
        # signal a moment first, then let the time pass.
        step.signal.wait(step.version, _MANUAL_CLOCK_GRACE)
        if step.signal.version == step.version:
            self.clock.sleep(step.seconds)

    @staticmethod
    def read_chunks(step: ReadChunks) -> None:
        response = step.response
        try:
            for chunk in response.iter_bytes():
                step.write(chunk)
                if step.progress is not None:
                    step.progress(len(chunk))
        finally:
            response.close()


class AsyncDriver:
    """Performs steps with ``await`` through an ``httpx.AsyncClient``."""

    __slots__ = ("clock", "http")

    def __init__(self, http: httpx.AsyncClient, clock: Clock) -> None:
        self.http = http
        self.clock = clock

    async def run(self, steps: Steps[T]) -> T:
        """Perform ``steps`` (already wrapped by the flow) with ``await`` until they return."""
        driven = Driven(steps)
        try:
            while not driven.done:
                try:
                    value = await self.perform(driven.step)
                except Exception as exc:
                    driven.advance(None, exc)
                else:
                    driven.advance(value)
            return driven.result()
        finally:
            driven.close()

    async def perform(self, step: Any) -> Any:
        kind = type(step)
        if kind is Exchange:
            return await self.exchange(step)
        if kind is Now:
            return self.clock.monotonic()
        if kind is Sleep:
            await self.clock.asleep(step.seconds)
        elif kind is Blocking:
            return await _blocking(step)
        elif kind is Callback:
            result = step.fn(*step.args)
            if hasattr(result, "__await__"):
                await result
        elif kind is WaitFor:
            await self.wait_for(step)
        elif kind is ReadChunks:
            await self.read_chunks(step)
        elif kind is Shared:
            return await step.store.aapply(step.key, step.kind, step.op)
        elif kind is not Note and kind is not Emit:
            raise TypeError(f"not a step the driver can perform: {step!r:.80}")
        return None

    async def exchange(self, step: Exchange) -> httpx.Response:
        response = await self.http.send(step.request, stream=True, follow_redirects=False)
        if _keeps_body_unread(step, response):
            if not response.is_success:
                await response.aclose()
            return response
        until = _deadline(step, self.clock)
        response.stream = _AsyncGuardedStream(response.stream, self.clock, until, step.max_bytes)
        try:
            await response.aread()
        except (httpx.TransportError, httpx.DecodingError, BodyTooLarge) as exc:
            raise UnreadBody(response, exc) from exc
        finally:
            await response.aclose()
        return response

    async def wait_for(self, step: WaitFor) -> None:
        if isinstance(self.clock, SystemClock):
            await step.signal.wait_async(step.version, step.seconds)
            return
        await step.signal.wait_async(step.version, _MANUAL_CLOCK_GRACE)
        if step.signal.version == step.version:
            await self.clock.asleep(step.seconds)

    @staticmethod
    async def read_chunks(step: ReadChunks) -> None:
        response = step.response
        pending = bytearray()

        async def write() -> None:
            # ``progress`` hears of bytes once they are written: a body cut off mid-stream is
            # resumed from what is on disk.
            data = bytes(pending)
            pending.clear()
            await _to_thread(step.write, data)
            if step.progress is not None:
                result = step.progress(len(data))
                if hasattr(result, "__await__"):
                    await result

        try:
            try:
                async for chunk in response.aiter_bytes():
                    pending += chunk
                    if len(pending) >= _WRITE_BATCH:
                        await write()
            except (httpx.TransportError, httpx.DecodingError):
                if pending:
                    await write()  # what arrived is good: a resume starts after it
                raise
            if pending:
                await write()
        finally:
            await response.aclose()


async def _blocking(step: Blocking) -> Any:
    return await _to_thread(step.fn, *step.args, discard=step.discard)


async def _to_thread(fn: Any, *args: Any, discard: Any = None) -> Any:
    """``fn(*args)`` in a worker thread. A thread cannot be stopped: a cancelled caller waits
    for it, so that when the task has ended nothing still writes, moves or locks its files;
    what the thread made is handed to ``discard``, and the cancellation goes on."""
    # Deferred: a program using only the sync client never loads asyncio (an event loop is
    # running here, so this is a lookup).
    import asyncio

    work = asyncio.ensure_future(asyncio.to_thread(fn, *args))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        while not work.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([work])
        if discard is not None and not work.cancelled() and work.exception() is None:
            discard(work.result())
        raise
