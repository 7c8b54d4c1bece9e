"""Waiting for a generation to finish: polling under one overall deadline (endpoints.md §3.4).

Written as IO-free steps, like every method, so ``client.images.wait`` and the async form share it
and the emulator's manual clock can drive it. The deadline covers the sleeps *and* the HTTP calls:
each poll's request timeout is capped to the time left, and retries happen here (not in the
transport), so nothing can run past it unseen.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx
from typing_extensions import TypedDict

from ._call import Call
from ._errors import (
    APIConnectionError,
    AurousError,
    GenerationFailedError,
    RateLimitError,
    ServerError,
    WaitTimeoutError,
)
from ._operations import Now, Sleep, Steps
from ._params import ImageCreateParams, VideoCreateParams
from ._response import ResponseInfo
from ._retry import backoff_delay, rate_limit_delay
from ._types import RequestOptions
from .types import Generation

__all__ = [
    "BACKOFF_FACTOR",
    "ImageCreateAndWaitArgs",
    "OnUpdate",
    "RequestPacer",
    "VideoCreateAndWaitArgs",
    "capped_timeout",
    "check_wait_args",
    "create_and_wait_steps",
    "failed_error",
    "wait_steps",
]

OnUpdate = Callable[[Generation], None]

BACKOFF_FACTOR = 1.5
"""Each poll interval is this much longer than the previous one (up to ``max_poll_interval``)."""
_JITTER = 0.1
"""Intervals vary by ±10 % so that many waiters do not poll in lock-step."""
_CANCEL_TIMEOUT = 10.0
"""Request timeout of the clean-up cancel sent after the deadline (the deadline is gone)."""


class _CreateOptions(TypedDict, total=False):
    """Per-call options of the create inside ``create_and_wait``.

    ``timeout`` is not among them: there it names the overall deadline of create + wait, which
    also caps the create's request timeout.
    """

    extra_headers: Mapping[str, str]
    """Additional HTTP headers to send with the create."""
    extra_query: Mapping[str, Any]
    """Additional query parameters to send with the create."""
    extra_body: Mapping[str, Any]
    """Additional JSON body fields to send with the create."""
    max_retries: int
    """Override the client's ``max_retries`` for the create."""
    idempotency_key: str | None
    """Reuse a key to resume a create safely; by default a UUID4 is generated per call."""


class ImageCreateAndWaitArgs(ImageCreateParams, _CreateOptions, total=False):
    """Keyword arguments of ``images.create_and_wait`` besides the waiting options."""


class VideoCreateAndWaitArgs(VideoCreateParams, _CreateOptions, total=False):
    """Keyword arguments of ``videos.create_and_wait`` besides the waiting options."""


class RequestPacer(Protocol):
    """Spaces requests of one kind so a rate-limit bucket is not emptied (used by `batch`)."""

    def acquire(self) -> Steps[None]:
        """Steps that return once a request may be sent (sleeping if the bucket is low)."""
        ...

    def observe(self, info: ResponseInfo | None) -> Steps[None]:
        """Learn from the rate-limit headers of the response to the request just sent."""
        ...

    def rate_limited(self, seconds: float) -> None:
        """A request got a 429 and the caller is about to wait ``seconds``."""
        ...


def check_wait_args(timeout: float | None, poll_interval: float, max_poll_interval: float) -> None:
    """Refuse nonsensical waiting arguments before anything is sent."""
    if timeout is not None and timeout < 0:
        raise ValueError(f"timeout must be >= 0 seconds (or None for no deadline), got {timeout!r}")
    if poll_interval <= 0:
        raise ValueError(f"poll_interval must be > 0 seconds, got {poll_interval!r}")
    if max_poll_interval < poll_interval:
        raise ValueError(
            f"max_poll_interval ({max_poll_interval!r}) must be >= poll_interval ({poll_interval!r})"
        )


def capped_timeout(base: httpx.Timeout, remaining: float | None) -> httpx.Timeout:
    """``base`` with every phase limited to ``remaining`` seconds (the time left before a deadline)."""
    if remaining is None:
        return base

    def cap(value: float | None) -> float:
        return remaining if value is None else min(value, remaining)

    return httpx.Timeout(
        connect=cap(base.connect), read=cap(base.read), write=cap(base.write), pool=cap(base.pool)
    )


def _jittered(interval: float, ceiling: float) -> float:
    return min(ceiling, interval * random.uniform(1 - _JITTER, 1 + _JITTER))


def failed_error(generation: Generation) -> GenerationFailedError:
    """The `GenerationFailedError` describing a generation that ended without output."""
    message = f"generation {generation.id} ended with status {generation.status!r}"
    if generation.error_message:
        message += f": {generation.error_message}"
    return GenerationFailedError(message, generation=generation)


def wait_steps(
    target: Generation | str,
    *,
    timeout: float | None,
    poll_interval: float,
    max_poll_interval: float,
    on_update: OnUpdate | None,
    cancel_on_timeout: bool,
    request_timeout: httpx.Timeout,
    max_retries: int,
    started_at: float | None = None,
    pacer: RequestPacer | None = None,
) -> Steps[Generation]:
    """Poll ``GET /v1/images/{id}`` until the status is terminal; return the terminal row.

    ``started_at`` (a reading of the client's clock) starts the deadline earlier, so that
    ``create_and_wait`` counts its create call in the same budget. ``max_retries`` bounds
    consecutive connection/5xx failures; 429s are waited out (``Retry-After``) until the deadline.
    """
    from .resources._generation_base import retrieve_call  # the namespace imports this module

    check_wait_args(timeout, poll_interval, max_poll_interval)
    if isinstance(target, Generation):
        generation_id, last = target.id, target
    elif isinstance(target, str) and target.strip():
        generation_id, last = target, None
    else:
        raise TypeError(f"expected a Generation or a generation id, got {target!r:.60}")
    start: float = started_at if started_at is not None else (yield Now())
    deadline = None if timeout is None else start + timeout
    seen: str | None = None
    if last is not None:
        seen = last.status
        if on_update is not None:
            on_update(last)
        if last.is_terminal:
            return last
    # A row the caller already holds was just read: wait one interval before the first poll.
    pause = poll_interval if last is not None else 0.0
    interval = poll_interval
    failures = 0
    while True:
        if pause > 0:
            now = yield Now()
            if deadline is not None:
                pause = min(pause, deadline - now)
            if pause > 0:
                yield Sleep(pause)
        now = yield Now()
        if deadline is not None and now >= deadline:
            break
        if pacer is not None:
            yield from pacer.acquire()
            now = yield Now()
            if deadline is not None and now >= deadline:
                yield from pacer.observe(None)  # give back the unused reservation
                break
        remaining = None if deadline is None else deadline - now
        options = RequestOptions(timeout=capped_timeout(request_timeout, remaining), max_retries=0)
        try:
            fresh: Generation = yield retrieve_call(generation_id, options)
        except RateLimitError as error:
            if pacer is not None:
                yield from pacer.observe(None)
            pause = rate_limit_delay(error, 1)
            if pacer is not None:
                pacer.rate_limited(pause)
            continue
        except (APIConnectionError, ServerError):
            if pacer is not None:
                yield from pacer.observe(None)
            failures += 1
            if failures > max_retries:
                raise
            pause = backoff_delay(failures)
            continue
        except AurousError:
            if pacer is not None:
                yield from pacer.observe(None)
            raise
        if pacer is not None:
            yield from pacer.observe(fresh._response)
        failures = 0
        last = fresh
        if fresh.status != seen:
            seen = fresh.status
            if on_update is not None:
                on_update(fresh)
        if fresh.is_terminal:
            return fresh
        pause = _jittered(interval, max_poll_interval)
        interval = min(max_poll_interval, interval * BACKOFF_FACTOR)
    raise (
        yield from _timeout_error(generation_id, last, timeout, cancel_on_timeout, on_update, seen)
    )


def _timeout_error(
    generation_id: str,
    last: Generation | None,
    timeout: float | None,
    cancel: bool,
    on_update: OnUpdate | None,
    seen: str | None,
) -> Steps[WaitTimeoutError]:
    """The error to raise at the deadline, after cancelling the generation when asked."""
    from .resources._generation_base import cancel_call

    state = f"still {last.status!r}" if last is not None else "not read yet"
    message = f"generation {generation_id} is {state} after waiting {timeout or 0:g}s"
    if not cancel:
        return WaitTimeoutError(message, generation=last)
    options = RequestOptions(timeout=_CANCEL_TIMEOUT)
    try:
        cancelled: Generation = yield cancel_call(generation_id, options)
    except AurousError as error:
        failure = WaitTimeoutError(f"{message}; cancelling it failed: {error}", generation=last)
        failure.__cause__ = error
        return failure
    if cancelled.status != seen and on_update is not None:
        on_update(cancelled)
    return WaitTimeoutError(
        f"{message}; it was cancelled (status {cancelled.status!r})", generation=cancelled
    )


def create_and_wait_steps(
    create: Call[Generation],
    *,
    raise_on_failure: bool,
    timeout: float | None,
    poll_interval: float,
    max_poll_interval: float,
    on_update: OnUpdate | None,
    cancel_on_timeout: bool,
    request_timeout: httpx.Timeout,
    max_retries: int,
) -> Steps[Generation]:
    """Send ``create``, then wait for the generation, all within one ``timeout``."""
    check_wait_args(timeout, poll_interval, max_poll_interval)
    start: float = yield Now()
    create.options["timeout"] = capped_timeout(request_timeout, timeout)
    created: Generation = yield create
    generation = yield from wait_steps(
        created,
        timeout=timeout,
        poll_interval=poll_interval,
        max_poll_interval=max_poll_interval,
        on_update=on_update,
        cancel_on_timeout=cancel_on_timeout,
        request_timeout=request_timeout,
        max_retries=max_retries,
        started_at=start,
    )
    if raise_on_failure and not generation.is_succeeded:
        raise failed_error(generation)
    return generation
