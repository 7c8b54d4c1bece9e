"""Resumable batch generation: ``client.images.batch(requests, concurrency=…, manifest=…)`` and
``client.videos.batch(…)``, their cost preview ``estimate_batch``, and request/result files.

The batch is written once, for images and videos. `_engine.batch_engine` is a generator that
reads the requests lazily, keeps ``concurrency`` items running, journals every item in the
manifest (`_manifest`), keeps the spend within ``max_credits`` (`_budget`, `_pricing`) and reports
progress; each item (`_item.item_steps`: create → wait → download) is an ordinary IO-free step
generator. The sync client runs items on worker threads and the async client as tasks
(`_runtime`); nothing else differs between them. Rate limits and the team's concurrency limit are
the client's business (`aurous._pacing`), shared with every other call on that client.

Importing this package loads only the values it hands back and the method descriptor; the engine
is imported when a batch runs, the preview when a batch is estimated, the file helpers when they
are used.
"""

from __future__ import annotations

from ._operation import batch_operation
from ._types import BatchPlan, BatchProgress, BatchResult, OnBatchProgress

__all__ = [
    "BatchPlan",
    "BatchProgress",
    "BatchResult",
    "OnBatchProgress",
    "batch_operation",
]
