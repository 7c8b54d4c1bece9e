"""One item of a batch: create (with its idempotency key), wait, download — as IO-free steps.

An item never raises for an API failure: the outcome carries the error. A ``429
concurrency_limit_exceeded`` is handed back to the engine (`Requeue`), which starts the item again
once one of the batch's generations has finished; other 429s, dropped connections, 5xx and 409
``idempotency_key_in_use`` are retried here with the same key.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ._batch_pacing import TokenPacer
from ._batch_runtime import Notify, Tick
from ._batch_types import BatchPlan
from ._call import Call
from ._download import download_steps
from ._errors import (
    APIConnectionError,
    AurousError,
    IdempotencyKeyInUseError,
    RateLimitError,
    ServerError,
    WaitTimeoutError,
)
from ._operations import Now, Sleep, Steps
from ._retry import backoff_delay, rate_limit_delay
from ._wait import failed_error, wait_steps
from .types import Generation

__all__ = ["Created", "Job", "Outcome", "Requeue", "Settled", "Shared", "item_steps"]

_CONFLICT_RETRIES = 8
"""409 ``idempotency_key_in_use`` retries (0.5 s doubling to 8 s: errors.md §5.4)."""


@dataclasses.dataclass
class Shared:
    """What every item of one batch shares: settings, pacing, and the rate-limit wait count."""

    request_timeout: httpx.Timeout
    max_retries: int
    plan: BatchPlan
    notify: Notify
    wall_clock: Callable[[], float]
    """Unix time, to read ``X-RateLimit-Reset`` against."""
    creates: TokenPacer = dataclasses.field(init=False)
    reads: TokenPacer = dataclasses.field(init=False)
    waits: int = 0
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.creates = TokenPacer(self.wall_clock, self.waited)
        self.reads = TokenPacer(self.wall_clock, self.waited)

    def waited(self, seconds: float) -> None:
        with self._lock:
            self.waits += 1
        self.notify(Tick(seconds))


@dataclasses.dataclass
class Job:
    """One item to run: its parameters, key, and what a previous run already learned."""

    index: int
    request: dict[str, Any]
    digest: str
    key: str
    call: Call[Generation]
    generation: Generation | None = None
    """Known from the manifest (a resumed item): no create is sent."""
    delay: float = 0.0
    """Seconds to wait before the next create (``Retry-After`` of a refusal)."""
    first_attempt: float | None = None
    """Client-clock reading of the first create attempt (bounds the retries)."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How an item ended (what its `BatchResult` reports)."""

    generation: Generation | None
    error: AurousError | None
    paths: list[Path]


@dataclasses.dataclass(frozen=True)
class Requeue:
    """The create was refused by the concurrency limit: start the item again later."""

    delay: float
    """The server's ``Retry-After``, slept before the next attempt."""


@dataclasses.dataclass(frozen=True)
class Created:
    """Item ``index`` has a generation in flight on the server (event)."""

    index: int


@dataclasses.dataclass(frozen=True)
class Settled:
    """Item ``index``'s generation is terminal: it no longer counts toward the limit (event)."""

    index: int


def _create(job: Job, shared: Shared) -> Steps[Generation | Requeue]:
    """Create with the item's key, retrying transient failures with the same key.

    A ``429 concurrency_limit_exceeded`` is handed back to the engine (`Requeue`), which starts
    the item again once one of the batch's generations has finished.
    """
    now: float = yield Now()
    if job.first_attempt is None:
        job.first_attempt = now
    if job.delay:
        yield Sleep(job.delay)
    failures = conflicts = 0
    while True:
        yield from shared.creates.acquire()
        try:
            generation: Generation = yield dataclasses.replace(job.call)
        except RateLimitError as error:
            yield from shared.creates.observe(None)
            delay = rate_limit_delay(error, 1)
            now = yield Now()
            limit = shared.plan.wait_timeout
            if limit is not None and now + delay - job.first_attempt > limit:
                raise
            if error.code == "concurrency_limit_exceeded":
                shared.waited(delay)
                return Requeue(delay)
            shared.creates.rate_limited(delay)
            yield Sleep(delay)
            continue
        except IdempotencyKeyInUseError:
            # The same key is still being processed (e.g. by the run this one resumes).
            yield from shared.creates.observe(None)
            conflicts += 1
            if conflicts > _CONFLICT_RETRIES:
                raise
            yield Sleep(backoff_delay(conflicts))
            continue
        except (APIConnectionError, ServerError):
            yield from shared.creates.observe(None)
            failures += 1
            if failures > shared.max_retries:
                raise
            yield Sleep(backoff_delay(failures))
            continue
        except AurousError:
            yield from shared.creates.observe(None)
            raise
        yield from shared.creates.observe(generation._response)
        return generation


def item_steps(job: Job, shared: Shared) -> Steps[Outcome | Requeue]:
    """One item: create (or pick up the known generation), wait, download; errors captured."""
    plan = shared.plan
    generation = job.generation
    try:
        if generation is None:
            created = yield from _create(job, shared)
            if isinstance(created, Requeue):
                return created
            generation = created
            shared.notify(Created(job.index))
        if not generation.is_terminal:
            generation = yield from wait_steps(
                generation,
                timeout=plan.wait_timeout,
                poll_interval=plan.poll_interval,
                max_poll_interval=plan.max_poll_interval,
                on_update=None,
                cancel_on_timeout=False,
                request_timeout=shared.request_timeout,
                max_retries=shared.max_retries,
                pacer=shared.reads,
            )
        shared.notify(Settled(job.index))
        if not generation.is_succeeded:
            return Outcome(generation, failed_error(generation), [])
        paths: list[Path] = []
        if plan.download_to is not None:
            paths = yield from download_steps(
                generation,
                plan.download_to,
                overwrite=True,
                on_progress=None,
                max_retries=shared.max_retries,
                pacer=shared.reads,
            )
        return Outcome(generation, None, paths)
    except WaitTimeoutError as error:
        return Outcome(error.generation or generation, error, [])
    except AurousError as error:
        return Outcome(generation, error, [])
    except OSError as error:
        wrapped = AurousError(f"writing the outputs of batch request #{job.index} failed: {error}")
        wrapped.__cause__ = error
        return Outcome(generation, wrapped, [])
