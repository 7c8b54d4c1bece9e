"""One item of a batch: create (with its idempotency key), wait, download — as IO-free steps.

An item never raises for an API failure: the outcome carries the error. Rate limits, the team's
concurrency limit, dropped connections and 5xx are the client's business (`aurous._flow`): the
create is simply sent again with the same key until it is answered, so the server replays the
original generation instead of making (and charging) a second one.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from .._call import Call
from .._completion import Completions
from .._download import download_steps
from .._errors import AurousError, GenerationFailedError, IdempotencyKeyInUseError, WaitTimeoutError
from .._retry import conflict_delay
from .._steps import Note, Sleep, Steps
from .._wait import wait_steps
from ..types import Generation
from ._types import BatchPlan

__all__ = ["Job", "Outcome", "item_steps"]

_CONFLICT_RETRIES = 8
"""409 ``idempotency_key_in_use`` retries beyond the client's: the run this one resumes may still
be sending the same create (0.5 s doubling to 8 s). A deliberate second loop beside the flow's
(see ARCHITECTURE.md): it outlasts ``max_retries``, because giving up here would leave an item
whose create may be committed without its generation."""


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
    price: Decimal | None = None
    """Its estimated price (batches with ``max_credits``)."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How an item ended (what its `BatchResult` reports)."""

    generation: Generation | None
    error: AurousError | None
    paths: list[Path]


def _create(job: Job) -> Steps[Generation]:
    """Create with the item's key; a batch waits for rate limits and free slots as long as needed."""
    conflicts = 0
    while True:
        call = dataclasses.replace(job.call, max_rate_limit_wait=math.inf)
        try:
            return (yield from call)
        except IdempotencyKeyInUseError:
            conflicts += 1
            if conflicts > _CONFLICT_RETRIES:
                raise
            yield Sleep(conflict_delay(conflicts), "backoff", IdempotencyKeyInUseError)


def item_steps(
    job: Job,
    plan: BatchPlan,
    max_retries: int,
    on_created: Callable[[Generation], None] | None = None,
    completions: Completions | None = None,
) -> Steps[Outcome]:
    """One item: create (or pick up the known generation), wait, download; errors captured.

    ``on_created(generation)`` is told the created row (what it holds counts for a budget).
    """
    generation = job.generation
    yield Note("batch_item", {"index": job.index, "idempotency_key": job.key})
    try:
        if generation is None:
            generation = yield from _create(job)
            if on_created is not None:
                on_created(generation)
        if not generation.is_terminal:
            generation = yield from wait_steps(
                generation,
                timeout=plan.wait_timeout,
                poll_interval=plan.poll_interval,
                max_poll_interval=plan.max_poll_interval,
                on_update=None,
                cancel_on_timeout=False,
                completions=completions,
            )
        if not generation.is_succeeded:
            return Outcome(generation, GenerationFailedError(generation=generation), [])
        paths: list[Path] = []
        if plan.download_to is not None:
            template = plan.file_name
            paths = yield from download_steps(
                generation,
                # Always a directory, even one named like a file ("run.v2").
                os.path.join(plan.download_to, ""),
                overwrite=True,
                on_progress=None,
                max_retries=max_retries,
                name=None
                if template is None
                else (lambda row, n: template.render(job.index, row.id, n)),
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
