"""The two drivers: perform a method's steps with blocking I/O (`Client`) or ``await`` (`AsyncClient`).

They are the only code that differs between the clients. Each step is tiny — send one attempt,
sleep, read the clock, stream a body, wait for a signal — and everything above them (pacing,
retries, polling, downloading, batches) is written once as steps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ._clock import SystemClock
from ._errors import APIConnectionError, APITimeoutError
from ._steps import Now, ReadChunks, Send, Sleep, Steps, WaitFor

if TYPE_CHECKING:
    from ._client import _BaseClient
    from ._transport import AsyncTransport, SyncTransport

__all__ = ["drive_async", "drive_sync", "run_async", "run_sync"]

T = TypeVar("T")

_MANUAL_CLOCK_GRACE = 0.02
"""Real seconds a wait on a manual clock (the emulator's, in tests) lets other threads and tasks
run before it advances the clock: otherwise waiters would race time ahead of the work they wait
for."""


def run_sync(client: _BaseClient[Any, Any], steps: Steps[T]) -> T:
    """Run a method's steps on ``client`` with blocking I/O and return its result."""
    return drive_sync(client._transport, client._flow.wrap(steps))


async def run_async(client: _BaseClient[Any, Any], steps: Steps[T]) -> T:
    """Run a method's steps on ``client`` with ``await`` and return its result."""
    return await drive_async(client._transport, client._flow.wrap(steps))


def drive_sync(transport: SyncTransport, steps: Steps[T]) -> T:
    """Perform ``steps`` (already wrapped by the flow) until they return."""
    clock = transport.clock
    try:
        step = next(steps)
        while True:
            try:
                if isinstance(step, Send):
                    value: Any = transport.send(step)
                elif isinstance(step, Now):
                    value = clock.monotonic()
                elif isinstance(step, Sleep):
                    clock.sleep(step.seconds)
                    value = None
                elif isinstance(step, WaitFor):
                    if isinstance(clock, SystemClock):
                        step.signal.wait(step.version, step.seconds)
                    else:
                        # A manual clock moves only when someone sleeps: give the threads that
                        # may fire the signal a moment first, then let the time pass.
                        step.signal.wait(step.version, _MANUAL_CLOCK_GRACE)
                        if step.signal.version == step.version:
                            clock.sleep(step.seconds)
                    value = None
                elif isinstance(step, ReadChunks):
                    _read_chunks(step)
                    value = None
                else:
                    raise TypeError(f"not a step the driver can perform: {step!r:.80}")
            except Exception as exc:
                step = steps.throw(exc)
            else:
                step = steps.send(value)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        steps.close()


async def drive_async(transport: AsyncTransport, steps: Steps[T]) -> T:
    """Perform ``steps`` (already wrapped by the flow) with ``await`` until they return."""
    clock = transport.clock
    value: Any
    try:
        step = next(steps)
        while True:
            try:
                if isinstance(step, Send):
                    value = await transport.send(step)
                elif isinstance(step, Now):
                    value = clock.monotonic()
                elif isinstance(step, Sleep):
                    await clock.asleep(step.seconds)
                    value = None
                elif isinstance(step, WaitFor):
                    if isinstance(clock, SystemClock):
                        await step.signal.wait_async(step.version, step.seconds)
                    else:
                        await step.signal.wait_async(step.version, _MANUAL_CLOCK_GRACE)
                        if step.signal.version == step.version:
                            await clock.asleep(step.seconds)
                    value = None
                elif isinstance(step, ReadChunks):
                    await _aread_chunks(step)
                    value = None
                else:
                    raise TypeError(f"not a step the driver can perform: {step!r:.80}")
            except Exception as exc:
                step = steps.throw(exc)
            else:
                step = steps.send(value)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        steps.close()


def _read_chunks(step: ReadChunks) -> None:
    try:
        for chunk in step.response.iter_bytes():
            step.sink(chunk)
    except (httpx.TransportError, httpx.DecodingError) as exc:
        raise _stream_error(exc, step.response) from exc
    finally:
        step.response.close()


async def _aread_chunks(step: ReadChunks) -> None:
    try:
        async for chunk in step.response.aiter_bytes():
            step.sink(chunk)
    except (httpx.TransportError, httpx.DecodingError) as exc:
        raise _stream_error(exc, step.response) from exc
    finally:
        await step.response.aclose()


def _stream_error(exc: Exception, response: httpx.Response) -> APIConnectionError:
    """A body that broke off mid-stream surfaces as the SDK's connection error, like a send."""
    request = response.request
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    return cls(
        f"reading the body of {request.method} {request.url} failed: {type(exc).__name__}: {exc}",
        request=request,
    )
