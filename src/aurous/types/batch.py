"""What a batch hands back: one `BatchResult` per request, and `BatchProgress` snapshots."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from .._errors import AurousError
from .generation import Generation

__all__ = ["BatchProgress", "BatchResult"]


@dataclasses.dataclass(frozen=True)
class BatchResult:
    """The outcome of one request of a batch (results come back in input order)."""

    index: int
    """Position of the request in the input."""
    request: dict[str, Any]
    """The create parameters (a plain prompt string becomes ``{"prompt": …}``)."""
    idempotency_key: str
    """The key its create was sent with (and resent with, on retries and resumed runs)."""
    generation: Generation | None = None
    """The generation, terminal unless waiting failed; ``None`` when it was never created."""
    error: AurousError | None = None
    """Why the item did not succeed: the API error, a `WaitTimeoutError`, or a
    `GenerationFailedError` for a generation that ended failed/cancelled/expired/…"""
    paths: list[Path] = dataclasses.field(default_factory=list)
    """Files written when the batch was given ``download_to``."""
    skipped: bool = False
    """True when a resumed run took the result from the manifest (already finished)."""

    @property
    def ok(self) -> bool:
        """Whether the generation succeeded (and its outputs were downloaded, if asked)."""
        return self.error is None and self.generation is not None and self.generation.is_succeeded


@dataclasses.dataclass(frozen=True)
class BatchProgress:
    """A snapshot passed to ``on_progress`` after each finished item and on rate-limit waits."""

    total: int | None
    """Number of requests, or ``None`` while a lazily read input is not exhausted."""
    done: int
    """Items finished (successfully or not, including skipped ones)."""
    failed: int
    """Finished items that are not ``ok``."""
    in_flight: int
    """Items currently running."""
    rate_limit_waits: int
    """Times an item waited because of a rate limit (a 429, or pacing that avoided one)."""
    last: BatchResult | None
    """The item that just finished; ``None`` for a status tick."""
    waiting_for_rate_limit: float = 0.0
    """Seconds of the rate-limit wait that just started (0 when this is not such a tick)."""
