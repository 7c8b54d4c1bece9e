"""Waiting for a generation to finish: polling under one overall deadline.

Written as IO-free steps, like every method, so ``client.images.wait`` and the async form share it
and the emulator's manual clock can drive it. The deadline covers the sleeps *and* the HTTP calls:
each poll carries it, so its timeouts, retries and rate-limit waits (`aurous._flow`) stop there too.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from typing import Any

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
from ._params import ImageCreateParams, VideoCreateParams
from ._requests import cancel_call, retrieve_call
from ._retry import rate_limit_delay
from ._steps import Callback, Note, Now, Sleep, Steps
from ._types import RequestOptions
from .types import Generation

__all__ = [
    "BACKOFF_FACTOR",
    "ImageCreateAndWaitArgs",
    "OnUpdate",
    "VideoCreateAndWaitArgs",
    "check_wait_args",
    "create_and_wait_steps",
    "wait_steps",
]

OnUpdate = Callable[[Generation], Any]
"""Called with each new state: a plain function, or (on `AsyncClient`) a coroutine function."""

BACKOFF_FACTOR = 1.5
"""Each poll interval is this much longer than the previous one (up to ``max_poll_interval``)."""
_JITTER = 0.1
"""Intervals vary by ±10 % so that many waiters do not poll in lock-step."""
_CANCEL_TIMEOUT = 10.0
"""Request timeout of the clean-up cancel sent after the deadline (the deadline is gone)."""
_RETRY_ROOM = 0.25
"""Seconds a failed poll needs left before the deadline to be worth another try."""


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


def check_wait_args(timeout: float | None, poll_interval: float, max_poll_interval: float) -> None:
    """Refuse nonsensical waiting arguments before anything is sent."""
    if timeout is not None and not (math.isfinite(timeout) and timeout >= 0):
        raise ValueError(
            f"timeout must be a finite number of seconds >= 0 (or None for no deadline), "
            f"got {timeout!r}"
        )
    if not (math.isfinite(poll_interval) and poll_interval > 0):
        raise ValueError(
            f"poll_interval must be a finite number of seconds > 0, got {poll_interval!r}"
        )
    if not (math.isfinite(max_poll_interval) and max_poll_interval >= poll_interval):
        raise ValueError(
            f"max_poll_interval ({max_poll_interval!r}) must be finite and >= poll_interval "
            f"({poll_interval!r})"
        )


def _jittered(interval: float, ceiling: float) -> float:
    return min(ceiling, interval * random.uniform(1 - _JITTER, 1 + _JITTER))


def _target(target: Generation | str) -> tuple[str, Generation | None]:
    if isinstance(target, Generation):
        return target.id, target
    if isinstance(target, str) and target.strip():
        return target, None
    raise TypeError(f"expected a Generation or a generation id, got {target!r:.60}")


def wait_steps(
    target: Generation | str,
    *,
    timeout: float | None,
    poll_interval: float,
    max_poll_interval: float,
    on_update: OnUpdate | None,
    cancel_on_timeout: bool,
    started_at: float | None = None,
) -> Steps[Generation]:
    """Poll ``GET /v1/images/{id}`` until the status is terminal; return the terminal row.

    ``started_at`` (a reading of the client's clock) starts the deadline earlier, so that
    ``create_and_wait`` counts its create call in the same budget. Each poll is retried like any
    call (``max_retries``); a 429 that cannot be waited out within the deadline pauses polling.
    """
    check_wait_args(timeout, poll_interval, max_poll_interval)
    generation_id, last = _target(target)
    start: float = started_at if started_at is not None else (yield Now())
    deadline = None if timeout is None else start + timeout
    poller = _Poller(generation_id, deadline, on_update)
    if last is not None:
        yield from poller.update(last)
        if last.is_terminal:
            return last
    # A row the caller already holds was just read: wait one interval before the first poll.
    pause = poll_interval if last is not None else 0.0
    interval = poll_interval
    limited = 0
    while True:
        if not (yield from poller.sleep(pause)):
            break
        try:
            fresh = yield from poller.poll()
        except RateLimitError as error:
            limited += 1
            pause = rate_limit_delay(error, limited)
            continue
        except (APIConnectionError, ServerError):
            if (yield from poller.out_of_time()):
                break
            raise
        limited = 0
        if fresh is None:
            break
        if fresh.is_terminal:
            return fresh
        pause = _jittered(interval, max_poll_interval)
        interval = min(max_poll_interval, interval * BACKOFF_FACTOR)
    raise (yield from poller.timed_out(timeout, cancel_on_timeout))


class _Poller:
    """One wait's state: the deadline, the last row seen and whom to tell about changes."""

    def __init__(self, generation_id: str, deadline: float | None, on_update: OnUpdate | None):
        self.generation_id = generation_id
        self.deadline = deadline
        self.on_update = on_update
        self.last: Generation | None = None
        self.seen: str | None = None

    def update(self, generation: Generation) -> Steps[None]:
        self.last = generation
        if generation.status != self.seen:
            self.seen = generation.status
            if self.on_update is not None:
                yield Callback(self.on_update, (generation,), "on_update")

    def sleep(self, pause: float) -> Steps[bool]:
        """Sleep ``pause`` (cut at the deadline); False once the deadline has passed."""
        if pause > 0:
            now: float = yield Now()
            if self.deadline is not None:
                pause = min(pause, self.deadline - now)
            if pause > 0:
                yield Sleep(pause)
        now = yield Now()
        return self.deadline is None or now < self.deadline

    def out_of_time(self) -> Steps[bool]:
        """Whether a failed poll left too little time to be worth reporting as anything but a timeout."""
        if self.deadline is None:
            return False
        now: float = yield Now()
        return bool(self.deadline - now < _RETRY_ROOM)

    def poll(self) -> Steps[Generation | None]:
        call = retrieve_call(self.generation_id, RequestOptions())
        call.deadline = self.deadline
        fresh: Generation = yield from call
        yield Note("poll", {"generation_id": fresh.id, "status": fresh.status})
        yield from self.update(fresh)
        return fresh

    def timed_out(self, timeout: float | None, cancel: bool) -> Steps[WaitTimeoutError]:
        """The error to raise at the deadline, after cancelling the generation when asked."""
        last = self.last
        state = f"still {last.status!r}" if last is not None else "not read yet"
        message = f"generation {self.generation_id} is {state} after waiting {timeout or 0:g}s"
        if not cancel:
            return WaitTimeoutError(message, generation=last)
        try:
            cancelled = yield from cancel_call(
                self.generation_id, RequestOptions(timeout=_CANCEL_TIMEOUT)
            )
        except AurousError as error:
            failure = WaitTimeoutError(f"{message}; cancelling it failed: {error}", generation=last)
            failure.__cause__ = error
            return failure
        yield from self.update(cancelled)
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
) -> Steps[Generation]:
    """Send ``create``, then wait for the generation, all within one ``timeout``."""
    check_wait_args(timeout, poll_interval, max_poll_interval)
    start: float = yield Now()
    if timeout is not None:
        create.deadline = start + timeout
    created = yield from create
    generation = yield from wait_steps(
        created,
        timeout=timeout,
        poll_interval=poll_interval,
        max_poll_interval=max_poll_interval,
        on_update=on_update,
        cancel_on_timeout=cancel_on_timeout,
        started_at=start,
    )
    if raise_on_failure and not generation.is_succeeded:
        raise GenerationFailedError(generation=generation)
    return generation
