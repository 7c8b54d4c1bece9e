"""A validated ``batch`` call (`BatchPlan`); the values it hands back live in `aurous.types.batch`."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from .._wait import check_wait_args
from ..types.batch import BatchProgress, BatchResult
from ._names import FileNameTemplate

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
    max_credits: Decimal | None = None
    file_name: FileNameTemplate | None = None

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
        max_credits: float | None = None,
        file_name: str | None = None,
    ) -> BatchPlan:
        if isinstance(requests, (str, bytes, Mapping)):
            raise TypeError("requests must be an iterable of prompts or parameter dicts")
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be a positive int, got {concurrency!r}")
        check_wait_args(wait_timeout, poll_interval, max_poll_interval)
        if file_name is not None and download_to is None:
            raise ValueError("file_name names downloads: it needs download_to")
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
            _cap(max_credits),
            FileNameTemplate.parse(file_name) if file_name is not None else None,
        )


def _cap(max_credits: Any) -> Decimal | None:
    if max_credits is None:
        return None
    if isinstance(max_credits, bool) or not isinstance(max_credits, (int, float, Decimal)):
        raise TypeError(f"max_credits must be a number of credits, not {max_credits!r:.60}")
    if not math.isfinite(max_credits) or max_credits < 0:
        raise ValueError(f"max_credits must be a finite number >= 0, got {max_credits!r}")
    return max_credits if isinstance(max_credits, Decimal) else Decimal(repr(max_credits))
