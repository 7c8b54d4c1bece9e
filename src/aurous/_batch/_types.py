"""The values a batch hands back: `BatchResult`, `BatchProgress`, and the validated `BatchPlan`."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from .._errors import AurousError
from .._wait import check_wait_args
from ..types import Generation

__all__ = ["BatchPlan", "BatchProgress", "BatchResult", "OnBatchProgress"]


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


OnBatchProgress = Callable[[BatchProgress], None]


@dataclasses.dataclass(frozen=True)
class BatchPlan:
    """A validated ``batch`` call, before anything runs."""

    media: Literal["image", "video"]
    requests: Iterable[str | Mapping[str, Any]]
    concurrency: int
    manifest: Path | None
    on_progress: OnBatchProgress | None
    download_to: Path | None
    wait_timeout: float | None
    poll_interval: float
    max_poll_interval: float

    @classmethod
    def build(
        cls,
        media: Literal["image", "video"],
        requests: Iterable[str | Mapping[str, Any]],
        *,
        concurrency: int,
        manifest: str | os.PathLike[str] | None,
        on_progress: OnBatchProgress | None,
        download_to: str | os.PathLike[str] | None,
        wait_timeout: float | None,
        poll_interval: float,
        max_poll_interval: float,
    ) -> BatchPlan:
        if isinstance(requests, (str, bytes, Mapping)):
            raise TypeError("requests must be an iterable of prompts or parameter dicts")
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be a positive int, got {concurrency!r}")
        check_wait_args(wait_timeout, poll_interval, max_poll_interval)
        return cls(
            media,
            requests,
            concurrency,
            Path(os.fspath(manifest)) if manifest is not None else None,
            on_progress,
            Path(os.fspath(download_to)) if download_to is not None else None,
            wait_timeout,
            poll_interval,
            max_poll_interval,
        )
