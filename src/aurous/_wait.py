"""Waiting for a generation to finish: polling under one overall deadline.

Written as IO-free steps, like every method, so ``client.images.wait`` and the async form share it
and the emulator's manual clock can drive it. The deadline covers the sleeps *and* the HTTP calls:
each poll carries it, so its timeouts, retries and rate-limit waits (`aurous._flow`) stop there too.
"""

from __future__ import annotations

import bisect
import functools
import logging
import math
import random
from collections.abc import Callable, Mapping
from typing import Any

from typing_extensions import TypedDict

from ._call import Call
from ._completion import Completions
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    AurousError,
    GenerationFailedError,
    RateLimitError,
    ServerError,
    WaitTimeoutError,
)
from ._params import ImageCreateParams, VideoCreateParams
from ._requests import cancel_call, path_id, retrieve_call
from ._retry import rate_limit_delay
from ._steps import Callback, Emit, Note, Now, Sleep, Steps, WaitFor
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

logger = logging.getLogger("aurous")

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
_SIMULATED_POLLS = 200
"""Polls after the first that `first_poll` follows one by one; the rest it counts at once."""
_BACKSTOP = 2.0
"""While deliveries arrive, the first poll waits twice the usual duration (the backstop)."""
_FRESH = frozenset({"pending", "queued"})
"""A row in these statuses has just been created: its whole duration is ahead of it."""
_OUT_OF_TIME = object()
_RANK = {"pending": 0, "queued": 0, "processing": 1}


def _newer(pushed: Generation, last: Generation | None) -> bool:
    """Whether a pushed state is ahead of the last one seen (statuses only move forward)."""
    if last is None:
        return True
    return _RANK.get(pushed.status, 2) > _RANK.get(last.status, 2)


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


@functools.lru_cache(maxsize=64)
def first_poll(
    durations: tuple[float, ...], poll_interval: float, max_poll_interval: float
) -> float:
    """The first poll's pause that finds generations lasting ``durations`` (sorted) finished
    soonest on average, when the polls after it follow the back-off schedule.

    Each duration from the median up is a candidate, so that the first poll finds at least
    half of them finished (about one read per generation): the median finds most at once, a
    later one finds the slow ones without a second poll. Durations are measured from creation
    and the pause starts only when the create is answered, so a pause of exactly a duration
    finds that generation finished: equal durations give that duration, with no margin.
    """
    n = len(durations)
    best, best_mean = durations[-1], math.inf
    for t in sorted(set(durations[(n - 1) // 2 :])):
        done = bisect.bisect_right(durations, t)
        total = t * done
        at, interval = t, poll_interval
        for _ in range(_SIMULATED_POLLS):
            if done == n:
                break
            at += interval
            found = bisect.bisect_right(durations, at)
            total += at * (found - done)
            done = found
            interval = min(max_poll_interval, interval * BACKOFF_FACTOR)
        else:
            # Far apart against a short ceiling (a week-long duration polled every second): the
            # polls left come every ``interval``, so each finishes on the first at or past it.
            total += sum(at + math.ceil((d - at) / interval) * interval for d in durations[done:])
        mean = total / n
        if mean <= best_mean:  # a tie goes to the later poll: fewer requests
            best, best_mean = t, mean
    return best


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
    completions: Completions | None = None,
    emit: bool = False,
) -> Steps[Generation]:
    """Poll ``GET /v1/images/{id}`` until the status is terminal; return the terminal row.

    ``started_at`` (a reading of the client's clock) starts the deadline earlier, so that
    ``create_and_wait`` counts its create call in the same budget. Each poll is retried like any
    call (``max_retries``); a 429 that cannot be waited out within the deadline pauses polling.
    With the client's ``completions``, a webhook delivery ends the wait at once (no further
    poll) and the first poll comes near the usual duration. ``emit``: each new state is also
    an `Emit` step (``watch``).
    """
    check_wait_args(timeout, poll_interval, max_poll_interval)
    generation_id, last = _target(target)
    start: float = started_at if started_at is not None else (yield Now())
    deadline = None if timeout is None else start + timeout
    poller = _Poller(generation_id, deadline, on_update, completions, emit)
    try:
        return (
            yield from poller.run(
                last, timeout, poll_interval, max_poll_interval, cancel_on_timeout
            )
        )
    except AurousError as error:
        if error.generation is None:
            error.generation = poller.last
        raise


class _Poller:
    """One wait's state: the deadline, the last row seen and whom to tell about changes."""

    def __init__(
        self,
        generation_id: str,
        deadline: float | None,
        on_update: OnUpdate | None,
        completions: Completions | None = None,
        emit: bool = False,
    ):
        self.generation_id = generation_id
        self.deadline = deadline
        self.on_update = on_update
        self.completions = completions
        self.emit = emit
        self.last: Generation | None = None
        self.seen: str | None = None
        if completions is not None:
            completions.expect(Generation)

    def run(
        self,
        last: Generation | None,
        timeout: float | None,
        poll_interval: float,
        max_poll_interval: float,
        cancel_on_timeout: bool,
    ) -> Steps[Generation]:
        """Poll until the status is terminal (`wait_steps`); ``last``: a row already held."""
        if last is not None:
            yield from self.update(last)
            if last.is_terminal:
                return last
        # A row the caller already holds was just read: wait before the first poll — about as
        # long as generations like it usually take, when the client has seen some finish.
        pause = self._first_pause(last, poll_interval, max_poll_interval)
        interval = poll_interval
        limited = 0
        while True:
            pushed = yield from self.sleep(pause)
            if pushed is _OUT_OF_TIME:
                break
            if pushed is not None:
                # A webhook told the state: no request needed.
                assert isinstance(pushed, Generation)
                yield from self.update(pushed)
                if pushed.is_terminal:
                    return pushed
                pause = self._next_pause(interval, max_poll_interval)
                continue
            try:
                fresh = yield from self.poll()
            except RateLimitError as error:
                limited += 1
                pause = rate_limit_delay(error, limited)
                continue
            except (APIConnectionError, ServerError):
                if (yield from self.out_of_time()):
                    break
                raise
            limited = 0
            if fresh is None:
                break
            if fresh.is_terminal:
                return fresh
            pause = self._next_pause(interval, max_poll_interval)
            interval = min(max_poll_interval, interval * BACKOFF_FACTOR)
        raise (yield from self.timed_out(timeout, cancel_on_timeout))

    def _first_pause(
        self, last: Generation | None, poll_interval: float, max_poll_interval: float
    ) -> float:
        if last is None:
            return 0.0
        completions = self.completions
        if completions is None:
            return poll_interval
        kind, model = last.kind, getattr(last, "model", None)
        fresh = last.status in _FRESH
        if completions.pushing:
            # Deliveries arrive: the first poll is only the backstop for one that is lost.
            typical = completions.typical(kind, model) if fresh else None
            return max(poll_interval, (typical or poll_interval) * _BACKSTOP)
        durations = completions.durations(kind, model) if fresh else ()
        if not durations:
            return poll_interval
        return first_poll(durations, poll_interval, max_poll_interval)

    def _next_pause(self, interval: float, max_poll_interval: float) -> float:
        completions = self.completions
        if completions is not None and completions.pushing:
            return max_poll_interval  # a backstop: as seldom as the caller allows
        return _jittered(interval, max_poll_interval)

    def update(self, generation: Generation) -> Steps[None]:
        self.last = generation
        if generation.status != self.seen:
            self.seen = generation.status
            if self.emit:
                yield Emit(generation)
            if self.on_update is not None:
                yield Callback(self.on_update, (generation,), "on_update")
        if generation.is_terminal and self.completions is not None:
            self.completions.learn(generation)

    def sleep(self, pause: float) -> Steps[Generation | object | None]:
        """Sleep ``pause`` (cut at the deadline), or until a webhook pushes a newer state.

        The newer state (a `Generation`), ``None`` when the pause is over, or `_OUT_OF_TIME`
        once the deadline has passed.
        """
        now: float = yield Now()
        end = now + pause
        if self.deadline is not None:
            end = min(end, self.deadline)
        completions = self.completions
        while True:
            if completions is not None:
                version = completions.signal.version  # first: a push in between is not missed
                pushed = completions.latest(self.generation_id)
                if pushed is not None and _newer(pushed, self.last):
                    return pushed
            if now >= end:
                break
            if completions is None:
                yield Sleep(end - now)
            else:
                yield WaitFor(completions.signal, version, end - now, "poll")
            now = yield Now()
        if self.deadline is not None and now >= self.deadline:
            return _OUT_OF_TIME
        return None

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
        if logger.isEnabledFor(logging.DEBUG):
            info = fresh._response
            logger.debug(
                "generation %s is %s",
                fresh.id,
                fresh.status,
                extra={
                    "generation_id": fresh.id,
                    "generation_status": fresh.status,
                    "request_id": None if info is None else info.request_id,
                },
            )
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
    completions: Completions | None = None,
) -> Steps[Generation]:
    """Send ``create``, then wait for the generation, all within one ``timeout``.

    Every `AurousError` raised once the create was sent carries its ``idempotency_key`` and
    the last row read (``generation``): the caller's natural retry — the same create with that
    key — then gets this generation back instead of starting (and paying for) a second one.
    """
    check_wait_args(timeout, poll_interval, max_poll_interval)
    start: float = yield Now()
    deadline = None if timeout is None else start + timeout
    create.deadline = deadline
    poller: _Poller | None = None
    try:
        created = yield from create
        poller = _Poller(_pollable_id(created, create), deadline, on_update, completions)
        generation = yield from poller.run(
            created, timeout, poll_interval, max_poll_interval, cancel_on_timeout
        )
        if raise_on_failure and not generation.is_succeeded:
            raise GenerationFailedError(generation=generation)
    except AurousError as error:
        # The same error, not a wrapper: callers catch it by its class.
        if error.idempotency_key is None:
            error.idempotency_key = create.idempotency_key
        if error.generation is None and poller is not None:
            error.generation = poller.last
        raise
    return generation


def _pollable_id(created: Generation, create: Call[Generation]) -> str:
    """The id of the generation ``create`` answered, or the error for an id no poll can use
    (empty, dots, a lone surrogate): the answer is unusable, and the key recovers it."""
    try:
        path_id("generation_id", created.id)
    except (TypeError, ValueError) as exc:
        info = created._response
        error = APIResponseValidationError(
            f"{create.method} {create.path} answered a generation whose id cannot be polled "
            f"({exc})",
            response=None,
            idempotency_key=create.idempotency_key,
            request_id=info.request_id if info is not None else None,
        )
        error.generation = created
        raise error from None
    return created.id
