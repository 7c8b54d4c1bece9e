"""A validated ``batch`` call (`BatchPlan`); the values it hands back live in `aurous.types.batch`."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from .._wait import check_wait_args
from ..types.batch import BatchProgress, BatchResult

__all__ = ["BatchPlan", "BatchProgress", "BatchResult", "OnBatchProgress"]


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
