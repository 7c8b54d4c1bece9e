"""Resumable batch generation: ``client.images.batch(requests, concurrency=…, manifest=…)``.

The batch is written once. `batch_engine` is a generator that reads the requests lazily, keeps
``concurrency`` items running, journals every item in the manifest and reports progress; each
item (`item_steps`: create → wait → download) is an ordinary IO-free step generator. The sync
client runs items on worker threads and the async client as tasks (`aurous._batch_runtime`);
nothing else differs between them. `aurous._batch_types` holds the values it returns,
`aurous._batch_item` one item, `_batch_manifest` the journal and `_batch_pacing` the pacing.

Safety: every item has one idempotency key for its whole life, recorded durably before its create
is sent; retries (429 ``concurrency_limit_exceeded`` / ``too_many_requests``, dropped connections,
5xx, 409 ``idempotency_key_in_use``) and resumed runs reuse it, so the server replays the original
generation instead of generating and charging twice.
"""

from __future__ import annotations

import collections
import functools
import time
import uuid
from collections.abc import Callable, Coroutine, Generator, Mapping, Sized
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, Generic, overload

from typing_extensions import ParamSpec, Self

from ._batch_item import Created, Job, Outcome, Requeue, Settled, Shared, item_steps
from ._batch_manifest import Entry, Manifest, request_hash
from ._batch_pacing import ConcurrencyCap
from ._batch_runtime import (
    NEXT,
    Finished,
    NextEvent,
    Notify,
    Spawn,
    Tick,
    run_engine_async,
    run_engine_sync,
)
from ._batch_types import BatchPlan, BatchProgress, BatchResult
from ._call import Call
from ._errors import AurousError
from ._operations import Async as AsyncMode
from ._operations import Namespace, Sync, _Checked
from ._wait import failed_error
from .types import Generation

if TYPE_CHECKING:
    from ._client import _BaseClient

__all__ = ["BatchPlan", "BatchProgress", "BatchResult", "batch_engine", "batch_operation"]

P = ParamSpec("P")


def _normalise(index: int, raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        return {"prompt": raw}
    if isinstance(raw, Mapping):
        return {str(k): (list(v) if isinstance(v, tuple) else v) for k, v in raw.items()}
    raise TypeError(
        f"batch request #{index} must be a prompt string or a dict of create parameters, "
        f"not {type(raw).__name__}"
    )


def _create_call(request: dict[str, Any], key: str) -> Call[Generation]:
    """The create call of one request; ValueError/TypeError for parameters that cannot work."""
    from .resources.images import Images, image_create_call

    args = {**request, "idempotency_key": key, "max_retries": 0}
    Images.create._checker()(**args)
    return image_create_call(args)  # type: ignore[arg-type]


def _paths_present(entry: Entry, download_to: Path | None) -> bool:
    if download_to is None:
        return True
    if not entry.paths:
        return False
    folder = download_to.resolve()
    return all(Path(p).is_file() and Path(p).resolve().parent == folder for p in entry.paths)


class _Tally:
    def __init__(self, plan: BatchPlan, shared: Shared, total: int | None) -> None:
        self.plan = plan
        self.shared = shared
        self.total = total
        self.done = 0
        self.failed = 0
        self.results: dict[int, BatchResult] = {}

    def report(self, running: int, last: BatchResult | None, waiting: float = 0.0) -> None:
        if self.plan.on_progress is not None:
            self.plan.on_progress(
                BatchProgress(
                    total=self.total,
                    done=self.done,
                    failed=self.failed,
                    in_flight=running,
                    rate_limit_waits=self.shared.waits,
                    last=last,
                    waiting_for_rate_limit=waiting,
                )
            )

    def finish(self, result: BatchResult, running: int) -> None:
        self.results[result.index] = result
        self.done += 1
        if not result.ok:
            self.failed += 1
        self.report(running, result)


class _Scheduler:
    """Which items run: at most ``concurrency``, and no more generations than the team allows.

    Until the team's concurrency limit is known, creates ramp up like TCP's slow start: one
    first (its rate-limit figures then pace the rest), and one more in flight for every create
    accepted, so the limit is found without a burst of refusals. Once a ``429
    concurrency_limit_exceeded`` taught the limit, `ConcurrencyCap` takes over. Items resuming
    a generation that already exists need no create and are never held back.
    """

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.running: dict[int, Job] = {}
        self.unsettled: set[int] = set()
        """Running items whose generation is being created or in flight."""
        self.holding: set[int] = set()
        """Running items whose generation is in flight on the server."""
        self.cap = ConcurrencyCap()
        self.window = 1
        self.waiting: collections.deque[Job] = collections.deque()
        """Items to start before reading more requests (refused ones, or one not admitted yet)."""

    @property
    def has_room(self) -> bool:
        return len(self.running) < self.concurrency

    def admits(self, job: Job) -> bool:
        if job.generation is not None:
            return True
        if self.cap.limit is None:
            return len(self.unsettled) < self.window
        return self.cap.allows(len(self.unsettled))

    def start(self, job: Job) -> None:
        self.running[job.index] = job
        if job.generation is None or not job.generation.is_terminal:
            self.unsettled.add(job.index)
        if job.generation is not None and not job.generation.is_terminal:
            self.holding.add(job.index)

    def created(self, index: int) -> None:
        if index in self.running:
            self.holding.add(index)
            self.window += 1
            self.cap.accepted()

    def settled(self, index: int) -> None:
        self.unsettled.discard(index)
        self.holding.discard(index)

    def finished(self, index: int) -> Job:
        self.settled(index)
        return self.running.pop(index)

    def requeue(self, job: Job, delay: float) -> None:
        self.cap.refused(len(self.holding))
        job.delay = delay
        self.waiting.appendleft(job)


def batch_engine(
    client: _BaseClient[Any, Any], plan: BatchPlan, notify: Notify
) -> Generator[Spawn | NextEvent, Any, list[BatchResult]]:
    """The whole batch, as orders for a runtime (`aurous._batch_runtime`)."""
    # The emulator's manual clock tells its own Unix time, which its rate-limit resets are in.
    clock_time = getattr(client._clock, "time", None)
    wall_clock = clock_time if callable(clock_time) else time.time
    shared = Shared(client.timeout, client.max_retries, plan, notify, wall_clock)
    manifest = Manifest.open(plan.manifest) if plan.manifest is not None else None
    try:
        total = len(plan.requests) if isinstance(plan.requests, Sized) else None
        if manifest is not None and total is not None:
            manifest.check_length(total)
        tally = _Tally(plan, shared, total)
        scheduler = _Scheduler(plan.concurrency)
        source = iter(plan.requests)
        count = 0
        exhausted = False
        while True:
            while scheduler.has_room:
                if scheduler.waiting:
                    job = scheduler.waiting.popleft()
                else:
                    if exhausted:
                        break
                    try:
                        raw = next(source)
                    except StopIteration:
                        exhausted = True
                        tally.total = count
                        if manifest is not None:
                            manifest.check_length(count)
                        break
                    index, count = count, count + 1
                    prepared = _prepare(index, raw, manifest, plan)
                    if isinstance(prepared, BatchResult):
                        tally.finish(prepared, len(scheduler.running))
                        continue
                    job = prepared
                    if manifest is not None and index not in manifest.entries:
                        manifest.record_start(index, job.digest, job.key)
                if not scheduler.admits(job):
                    scheduler.waiting.appendleft(job)
                    break
                scheduler.start(job)
                yield Spawn(job.index, item_steps(job, shared))
            if not scheduler.running:
                break
            event = yield NEXT
            if isinstance(event, Tick):
                tally.report(len(scheduler.running), None, event.seconds)
            elif isinstance(event, Created):
                scheduler.created(event.index)
            elif isinstance(event, Settled):
                scheduler.settled(event.index)
            elif isinstance(event, Finished):
                job = scheduler.finished(event.index)
                if event.error is not None:
                    raise event.error
                if isinstance(event.value, Requeue):
                    scheduler.requeue(job, event.value.delay)
                    continue
                outcome: Outcome = event.value
                result = BatchResult(
                    job.index,
                    job.request,
                    job.key,
                    outcome.generation,
                    outcome.error,
                    outcome.paths,
                )
                if manifest is not None:
                    manifest.record_finish(
                        job.index,
                        job.digest,
                        job.key,
                        result.generation,
                        result.error,
                        result.paths,
                    )
                tally.finish(result, len(scheduler.running))
        return [tally.results[i] for i in range(count)]
    finally:
        if manifest is not None:
            manifest.close()


def _prepare(index: int, raw: Any, manifest: Manifest | None, plan: BatchPlan) -> Job | BatchResult:
    """The job for request ``index``, or its result when there is nothing to run."""
    request = _normalise(index, raw)
    digest = request_hash(request)
    entry = manifest.check(index, digest) if manifest is not None else None
    given = request.get("idempotency_key")
    key = entry.idempotency_key if entry is not None else (given or str(uuid.uuid4()))
    body = {k: v for k, v in request.items() if k != "idempotency_key"}
    try:
        call = _create_call(body, key)
    except (TypeError, ValueError) as exc:
        error = AurousError(f"batch request #{index} is invalid: {exc}")
        error.__cause__ = exc
        return BatchResult(index, request, key, error=error)
    generation = entry.parsed_generation() if entry is not None else None
    if entry is not None and entry.finished and generation is not None:
        if not generation.is_succeeded:
            return BatchResult(index, request, key, generation, failed_error(generation), [], True)
        if _paths_present(entry, plan.download_to):
            paths = [Path(p) for p in entry.paths] if plan.download_to is not None else []
            return BatchResult(index, request, key, generation, None, paths, True)
    return Job(index, request, digest, key, call, generation)


# ---------------------------------------------------------------------------------------------
# The method


class BatchOperation(_Checked, Generic[P]):
    """Descriptor: a batch method returning results (sync) or a coroutine of them (async)."""

    def __init__(self, fn: Callable[Concatenate[Any, P], BatchPlan]) -> None:
        self._fn = fn
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    @overload
    def __get__(self, inst: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(
        self, inst: Namespace[Sync], owner: type[Any]
    ) -> Callable[P, list[BatchResult]]: ...
    @overload
    def __get__(
        self, inst: Namespace[AsyncMode], owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, list[BatchResult]]]: ...
    def __get__(self, inst: Namespace[Any] | None, owner: type[Any]) -> Any:
        if inst is None:
            return self
        fn = self._fn
        client = inst._client
        check = self._checker()

        @functools.wraps(fn)
        def method(*args: Any, **kwargs: Any) -> Any:
            check(*args, **kwargs)
            plan = fn(inst, *args, **kwargs)
            engine = functools.partial(batch_engine, client, plan)
            if client._is_async:
                return run_engine_async(client, engine)
            return run_engine_sync(client, engine, plan.concurrency)

        return method


def batch_operation(fn: Callable[Concatenate[Any, P], BatchPlan]) -> BatchOperation[P]:
    """Make ``fn`` (which validates the arguments into a `BatchPlan`) a batch method."""
    return BatchOperation(fn)
