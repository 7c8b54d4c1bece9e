"""The batch engine: reads the requests lazily, keeps ``concurrency`` items running, journals them.

`batch_engine` is a generator of orders for a runtime (`_runtime`): the same engine runs on
worker threads for `aurous.Client` and on tasks for `aurous.AsyncClient`.

Safety: every item has one idempotency key for its whole life, recorded durably in the manifest
before its create is sent; retries and resumed runs reuse it, so the server replays the original
generation instead of generating and charging twice.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Generator, Mapping, Sized
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._call import Call
from .._errors import AurousError, GenerationFailedError
from .._requests import (
    check_image_request,
    check_video_request,
    image_create_call,
    video_create_call,
)
from ..types import Generation
from ._item import Job, Outcome, item_steps
from ._manifest import Entry, Manifest, request_hash
from ._runtime import NEXT, Finished, NextEvent, Spawn, Tick, run_engine_async, run_engine_sync
from ._types import BatchPlan, BatchProgress, BatchResult

if TYPE_CHECKING:
    from .._client import _BaseClient

__all__ = ["batch_engine", "run_batch_async", "run_batch_sync"]


def run_batch_sync(client: _BaseClient[Any, Any], plan: BatchPlan) -> list[BatchResult]:
    """Run ``plan`` on worker threads of the sync ``client``."""
    engine = functools.partial(batch_engine, client, plan)
    return run_engine_sync(client, engine, plan.concurrency)


async def run_batch_async(client: _BaseClient[Any, Any], plan: BatchPlan) -> list[BatchResult]:
    """Run ``plan`` as tasks of the async ``client``."""
    return await run_engine_async(client, functools.partial(batch_engine, client, plan))


def _normalise(index: int, raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        return {"prompt": raw}
    if isinstance(raw, Mapping):
        return {str(k): (list(v) if isinstance(v, tuple) else v) for k, v in raw.items()}
    raise TypeError(
        f"batch request #{index} must be a prompt string or a dict of create parameters, "
        f"not {type(raw).__name__}"
    )


def _create_call(plan: BatchPlan, request: dict[str, Any], key: str) -> Call[Generation]:
    """The create call of one request; ValueError/TypeError for parameters that cannot work."""
    args = {**request, "idempotency_key": key}
    if plan.media == "video":
        check_video_request(args)
        return video_create_call(args)
    check_image_request(args)
    return image_create_call(args)


def _paths_present(entry: Entry, download_to: Path | None) -> bool:
    if download_to is None:
        return True
    if not entry.paths:
        return False
    folder = download_to.resolve()
    return all(Path(p).is_file() and Path(p).resolve().parent == folder for p in entry.paths)


class _Tally:
    def __init__(self, plan: BatchPlan, total: int | None) -> None:
        self.plan = plan
        self.total = total
        self.done = 0
        self.failed = 0
        self.waits = 0
        self.results: dict[int, BatchResult] = {}

    def report(self, running: int, last: BatchResult | None, waiting: float = 0.0) -> None:
        if self.plan.on_progress is not None:
            self.plan.on_progress(
                BatchProgress(
                    total=self.total,
                    done=self.done,
                    failed=self.failed,
                    in_flight=running,
                    rate_limit_waits=self.waits,
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


def batch_engine(
    client: _BaseClient[Any, Any], plan: BatchPlan, notify: Any
) -> Generator[Spawn | NextEvent, Any, list[BatchResult]]:
    """The whole batch, as orders for a runtime (`_runtime`)."""
    manifest = Manifest.open(plan.manifest) if plan.manifest is not None else None
    try:
        total = len(plan.requests) if isinstance(plan.requests, Sized) else None
        if manifest is not None and total is not None:
            manifest.check_length(total)
        tally = _Tally(plan, total)
        running: dict[int, Job] = {}
        source = iter(plan.requests)
        count = 0
        exhausted = False
        while True:
            while not exhausted and len(running) < plan.concurrency:
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
                    tally.finish(prepared, len(running))
                    continue
                if manifest is not None and index not in manifest.entries:
                    manifest.record_start(index, prepared.digest, prepared.key)
                running[index] = prepared
                yield Spawn(index, item_steps(prepared, plan, client.max_retries))
            if not running:
                break
            event = yield NEXT
            if isinstance(event, Tick):
                tally.waits += 1
                tally.report(len(running), None, event.seconds)
            elif isinstance(event, Finished):
                job = running.pop(event.index)
                if event.error is not None:
                    raise event.error
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
                tally.finish(result, len(running))
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
        call = _create_call(plan, body, key)
    except (TypeError, ValueError) as exc:
        error = AurousError(f"batch request #{index} is invalid: {exc}")
        error.__cause__ = exc
        return BatchResult(index, request, key, error=error)
    generation = entry.parsed_generation() if entry is not None else None
    if entry is not None and entry.finished and generation is not None:
        if not generation.is_succeeded:
            error = GenerationFailedError(generation=generation)
            return BatchResult(index, request, key, generation, error, [], True)
        if _paths_present(entry, plan.download_to):
            paths = [Path(p) for p in entry.paths] if plan.download_to is not None else []
            return BatchResult(index, request, key, generation, None, paths, True)
    return Job(index, request, digest, key, call, generation)
