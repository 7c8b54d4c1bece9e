"""The batch engine: reads the requests lazily, keeps ``concurrency`` items running, journals them.

`batch_engine` is a generator of orders for a runtime (`_runtime`): the same engine runs on
worker threads for `aurous.Client` and on tasks for `aurous.AsyncClient`, for images and videos
alike (the plan's ``media`` picks the create).

Safety: every item has one idempotency key for its whole life, recorded durably in the manifest
before its create is sent; retries and resumed runs reuse it, so the server replays the original
generation instead of generating and charging twice.

Money: with ``max_credits`` every item is priced before its create is sent (`_pricing`: the
rate card, or one estimate per price class, run as a job of its own), and a create goes only if
the batch's spend (`_budget.Ledger`) stays within the cap. An item that does not fit waits while
running items may still release their holds, then is reported not started and the next one is
tried. A ``402`` (the team's balance ran out) stops every later start: running items finish,
the rest are reported not started, and running the batch again on its manifest starts them.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Callable, Generator, Sized
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import (
    APIStatusError,
    AurousError,
    BudgetExceededError,
    GenerationFailedError,
    InsufficientBalanceError,
    RateLimitError,
    ServerError,
)
from .._steps import Blocking, Callback
from ..types import Generation
from ._budget import Ledger
from ._item import Job, Outcome, item_steps
from ._manifest import Entry, Manifest
from ._pricing import PriceBook, amount_of, credits_text
from ._requests import create_call, normalise
from ._runtime import (
    NEXT,
    Finished,
    Order,
    Spawn,
    Tick,
    run_engine_async,
    run_engine_sync,
)
from ._types import BatchPlan, BatchProgress, BatchResult

if TYPE_CHECKING:
    from .._client import _BaseClient

__all__ = ["Created", "batch_engine", "run_batch_async", "run_batch_sync"]

_PRICING = -1
"""Spawn index of the job pricing the next item (at most one runs at a time)."""


@dataclasses.dataclass(frozen=True)
class Created:
    """Item ``index``'s create was answered with ``generation`` (its hold counts from now)."""

    index: int
    generation: Generation


def run_batch_sync(
    client: _BaseClient[Any, Any], plan: BatchPlan, name: str = ""
) -> list[BatchResult]:
    """Run ``plan`` on worker threads of the sync ``client``."""
    engine = functools.partial(batch_engine, client, plan)
    return run_engine_sync(client, engine, plan.concurrency, name)


async def run_batch_async(
    client: _BaseClient[Any, Any], plan: BatchPlan, name: str = ""
) -> list[BatchResult]:
    """Run ``plan`` as tasks of the async ``client``."""
    return await run_engine_async(client, functools.partial(batch_engine, client, plan), name)


def _paths_present(entry: Entry, download_to: Path | None) -> bool:
    if download_to is None:
        return True
    if not entry.paths:
        return False
    folder = download_to.resolve()
    return all(Path(p).is_file() and Path(p).resolve().parent == folder for p in entry.paths)


class _Tally:
    def __init__(self, plan: BatchPlan, total: int | None, ledger: Ledger) -> None:
        self.plan = plan
        self.total = total
        self.ledger = ledger
        self.done = 0
        self.failed = 0
        self.not_started = 0
        self.waits = 0
        self.results: dict[int, BatchResult] = {}
        self.outbox: list[BatchProgress] = []
        """Reports for ``on_progress``, handed over by the engine as `Callback` orders."""

    def report(
        self, running: int, last: BatchResult | None, waiting: float = 0.0, kind: str = ""
    ) -> None:
        if self.plan.on_progress is not None:
            self.outbox.append(
                BatchProgress(
                    total=self.total,
                    done=self.done,
                    failed=self.failed,
                    in_flight=running,
                    rate_limit_waits=self.waits,
                    last=last,
                    waiting_for_rate_limit=waiting,
                    not_started=self.not_started,
                    spent=float(self.ledger.total),
                    waiting_for=kind or None,  # type: ignore[arg-type]
                )
            )

    def finish(self, result: BatchResult, running: int) -> None:
        self.results[result.index] = result
        self.done += 1
        if not result.ok:
            self.failed += 1
        if result.not_started:
            self.not_started += 1
        self.report(running, result)


_GO, _WAIT, _PRICE, _DONE = "go", "wait", "price", "done"
"""What admission decides for the next item: start it, wait for running items (they may
release holds), price it first, or nothing (it was reported not started)."""


class _Engine:
    """One run of a batch: what is running, what is pending, what was spent."""

    def __init__(
        self,
        client: _BaseClient[Any, Any],
        plan: BatchPlan,
        notify: Callable[[Any], None],
        manifest: Manifest | None,
    ) -> None:
        self.client = client
        self.plan = plan
        self.notify = notify
        self.manifest = manifest
        total = len(plan.requests) if isinstance(plan.requests, Sized) else None
        if manifest is not None and total is not None:
            manifest.check_length(total)
        self.ledger = Ledger(plan.max_credits, manifest.entries if manifest is not None else None)
        self.book = PriceBook(plan.media) if plan.max_credits is not None else None
        self.tally = _Tally(plan, total, self.ledger)
        self.running: dict[int, Job] = {}
        self.source = iter(plan.requests)
        self.count = 0
        self.exhausted = False
        self.pending: Job | None = None
        """The next item: read, but waiting for its price or for room in the budget."""
        self.pricing = False
        self.stopped: tuple[int, InsufficientBalanceError] | None = None
        """The item whose create was refused for lack of credits, and that refusal."""

    def run(self) -> Generator[Order, Any, list[BatchResult]]:
        while True:
            yield from self._fill()
            yield from self._flush()
            if not self.running and not self.pricing:
                assert self.pending is None
                assert self.exhausted
                return [self.tally.results[i] for i in range(self.count)]
            event = yield NEXT
            if isinstance(event, Tick):
                self.tally.waits += 1
                self.tally.report(len(self.running), None, event.seconds, event.kind)
            elif isinstance(event, Created):
                self.ledger.created(event.index, event.generation)
            elif isinstance(event, Finished) and event.index == _PRICING:
                self._priced(event)
            elif isinstance(event, Finished):
                self._finished(event)
            # What the event changed is journalled and reported before the next item starts.
            yield from self._flush()

    def _flush(self) -> Generator[Order, Any, None]:
        """Write what the manifest queued, then tell ``on_progress`` (in that order: a report
        never runs ahead of the journal)."""
        if self.manifest is not None and self.manifest.pending:
            yield Blocking(self.manifest.flush)
        outbox = self.tally.outbox
        callback = self.plan.on_progress
        while outbox and callback is not None:
            yield Callback(callback, (outbox.pop(0),), "on_progress")

    # ---- starting items ------------------------------------------------------------------------
    def _fill(self) -> Generator[Order, Any, None]:
        """Start items while there is room (and money)."""
        while not self.pricing and len(self.running) < self.plan.concurrency:
            job = self.pending or self._read()
            if job is None:
                return
            self.pending = job
            verdict = self._admit(job)
            if verdict == _WAIT:
                return
            if verdict == _PRICE:
                assert self.book is not None
                self.pricing = True
                yield Spawn(_PRICING, self.book.steps(job.request, patient=True))
                return
            self.pending = None
            if verdict == _GO:
                spawn = self._spawn(job)
                # The item's key is on disk before its create can be sent.
                yield from self._flush()
                yield spawn

    def _read(self) -> Job | None:
        """The next request that needs running (the others are reported at once), or None."""
        while not self.exhausted:
            try:
                raw = next(self.source)
            except StopIteration:
                self.exhausted = True
                self.tally.total = self.count
                if self.manifest is not None:
                    self.manifest.check_length(self.count)
                return None
            index, self.count = self.count, self.count + 1
            prepared = _prepare(index, raw, self.manifest, self.plan)
            if isinstance(prepared, BatchResult):
                self.tally.finish(prepared, len(self.running))
                continue
            return prepared
        return None

    def _admit(self, job: Job) -> str:
        # A known generation (a resumed item) needs no create: nothing to price or stop.
        if job.generation is not None:
            return _GO
        if self.stopped is not None:
            self._not_started(job, self._stop_error(job))
            return _DONE
        if self.book is None:
            return _GO
        if job.price is None:
            known = self.book.known(job.request)
            if known is None:
                return _PRICE
            job.price = amount_of(known)
        ledger = self.ledger
        if ledger.fits(job.index, job.price):
            return _GO
        if self.running:
            return _WAIT  # their holds may yet be released: decide when they end
        self._not_started(job, self._over_budget(job, job.price, ledger.others(job.index)))
        return _DONE

    def _spawn(self, job: Job) -> Spawn:
        manifest = self.manifest
        if job.generation is None:
            if job.price is not None:
                self.ledger.reserve(job.index, job.price)
            entry = manifest.entries.get(job.index) if manifest is not None else None
            if manifest is not None and (entry is None or not entry.started):
                manifest.record_start(job.index, job.digest, job.key, job.price)
        self.running[job.index] = job
        on_created = functools.partial(_created, self.notify, job.index)
        steps = item_steps(
            job, self.plan, self.client.max_retries, on_created, self.client._completions
        )
        return Spawn(job.index, steps)

    # ---- events --------------------------------------------------------------------------------
    def _priced(self, event: Finished) -> None:
        self.pricing = False
        job = self.pending
        assert job is not None
        if event.error is None:
            job.price = amount_of(event.value)
        elif isinstance(event.error, AurousError):
            self.pending = None
            self._unpriced(job, event.error)
        else:
            raise event.error

    def _finished(self, event: Finished) -> None:
        job = self.running.pop(event.index)
        if event.error is not None:
            raise event.error
        outcome: Outcome = event.value
        self.ledger.finished(job.index, job.price, outcome.generation, outcome.error)
        error = outcome.error
        # Refused before anything was made: the balance ran out (a 402), or the client copy's
        # budget would have been exceeded (nothing was sent).
        refused = outcome.generation is None and isinstance(
            error, (InsufficientBalanceError, BudgetExceededError)
        )
        if isinstance(error, InsufficientBalanceError) and refused and self.stopped is None:
            self.stopped = (job.index, error)
        result = BatchResult(
            job.index,
            job.request,
            job.key,
            outcome.generation,
            error,
            outcome.paths,
            not_started=refused,
        )
        if self.manifest is not None:
            self.manifest.record_finish(
                job.index,
                job.digest,
                job.key,
                result.generation,
                error,
                result.paths,
                not_started=refused,
            )
        self.tally.finish(result, len(self.running))

    # ---- items that do not run -----------------------------------------------------------------
    def _not_started(self, job: Job, error: AurousError) -> None:
        """Report ``job`` as not started (nothing was sent for it in this run)."""
        manifest = self.manifest
        if manifest is not None:
            entry = manifest.entries.get(job.index)
            # An item an earlier run may have sent keeps that record: its key must be replayed.
            if entry is None or not entry.started:
                manifest.record_finish(
                    job.index, job.digest, job.key, None, error, [], not_started=True
                )
        result = BatchResult(job.index, job.request, job.key, error=error, not_started=True)
        self.tally.finish(result, len(self.running))

    def _unpriced(self, job: Job, error: AurousError) -> None:
        """``job`` could not be priced: the API refused its parameters, or could not answer."""
        refused = (
            isinstance(error, APIStatusError)
            and not isinstance(error, (RateLimitError, ServerError))
            and error.status_code < 500
        )
        if not refused:
            # The API did not answer: nothing was sent for the item, a later run can price it.
            self._not_started(job, error)
            return
        # The estimate checks what the create checks: the create would be refused just the same.
        if self.manifest is not None:
            self.manifest.record_finish(job.index, job.digest, job.key, None, error, [])
        result = BatchResult(job.index, job.request, job.key, error=error)
        self.tally.finish(result, len(self.running))

    def _stop_error(self, job: Job) -> AurousError:
        assert self.stopped is not None
        first, refusal = self.stopped
        again = "with the same manifest " if self.manifest is not None else ""
        error = AurousError(
            f"batch request #{job.index} was not started: the team's balance ran out (request "
            f"#{first} was refused: {refusal}). Add credits, then run the batch again {again}"
            "to start the requests not started."
        )
        error.__cause__ = refusal
        return error

    def _over_budget(self, job: Job, price: Decimal, spent: Decimal) -> BudgetExceededError:
        cap = self.plan.max_credits
        assert cap is not None
        return BudgetExceededError(
            f"batch request #{job.index} was not started: its price ({credits_text(price)} "
            f"credits) would take the batch's spend ({credits_text(spent)} credits committed or "
            f"held) past max_credits={credits_text(cap)}",
            max_credits=float(cap),
            spent=float(spent),
            cost=float(price),
        )


def batch_engine(
    client: _BaseClient[Any, Any], plan: BatchPlan, notify: Callable[[Any], None]
) -> Generator[Order, Any, list[BatchResult]]:
    """The whole batch, as orders for a runtime (`_runtime`)."""
    manifest: Manifest | None = None
    if plan.manifest is not None:
        manifest = yield Blocking(Manifest.open, (plan.manifest, plan.media), Manifest.close)
    try:
        results = yield from _Engine(client, plan, notify, manifest).run()
        if manifest is not None:
            yield Blocking(manifest.close)
        return results
    finally:
        if manifest is not None:
            manifest.close()  # after an error or a stop: whatever is queued, then the lock


def _created(notify: Callable[[Any], None], index: int, generation: Generation) -> None:
    notify(Created(index, generation))


def _prepare(index: int, raw: Any, manifest: Manifest | None, plan: BatchPlan) -> Job | BatchResult:
    """The job for request ``index``, or its result when there is nothing to run."""
    request = normalise(index, raw)
    try:
        # The media is part of the hash: a manifest of the other media matches no item.
        digest = manifest.digest(request) if manifest is not None else ""
    except (TypeError, ValueError):
        # Not JSON (a set, a lone surrogate): the check of the call below refuses it as this
        # item's error, naming the parameter, instead of failing the whole batch here.
        digest = ""
    entry = manifest.check(index, digest) if manifest is not None else None
    given = request.get("idempotency_key")
    key = entry.idempotency_key if entry is not None else (given or str(uuid.uuid4()))
    body = {k: v for k, v in request.items() if k != "idempotency_key"}
    try:
        call = create_call(plan.media, body, key)
        _check_file_name(plan, body)
    except (TypeError, ValueError) as exc:
        error = AurousError(f"batch request #{index} is invalid: {exc}")
        error.__cause__ = exc
        return BatchResult(index, request, key, error=error)
    generation = entry.generation if entry is not None else None
    if entry is not None and entry.finished and generation is not None:
        if not generation.is_succeeded:
            error = GenerationFailedError(generation=generation)
            return BatchResult(index, request, key, generation, error, [], True)
        if _paths_present(entry, plan.download_to):
            paths = [Path(p) for p in entry.paths] if plan.download_to is not None else []
            return BatchResult(index, request, key, generation, None, paths, True)
    return Job(index, request, digest, key, call, generation)


def _check_file_name(plan: BatchPlan, body: dict[str, Any]) -> None:
    template = plan.file_name
    if template is None or template.numbers_outputs:
        return
    count = body.get("count")
    if plan.media == "image" and count is not None and count > 1:
        raise ValueError(
            f"count={count} makes {count} images, but file_name {template.template!r} has no "
            "{n} to tell them apart"
        )
