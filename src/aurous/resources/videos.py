"""``client.videos``: video generations (retrieved and cancelled through the image routes)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from typing_extensions import Unpack

from .._batch import BatchPlan, BatchProgress, batch_operation, estimate_batch_steps
from .._operations import ModeT, operation
from .._params import VideoCreateArgs, VideoEstimateArgs
from .._requests import check_video_body, estimate_call, video_create_call
from .._steps import Steps
from .._wait import VideoCreateAndWaitArgs, create_and_wait_steps
from ..types import Estimate, Generation
from ..types.batch import BatchEstimate
from ._generation_base import GenerationNamespace

__all__ = ["Videos"]


class Videos(GenerationNamespace[ModeT]):
    """Video generations: ``client.videos``."""

    @operation
    def create(self, **args: Unpack[VideoCreateArgs]) -> Steps[Generation]:
        """Start a video generation (text-to-video, or image-to-video with ``first_frame_url``).

        >>> g = client.videos.create(video_lora_id="seedance-1-pro", prompt="waves", resolution="720p")
        """
        return (yield from video_create_call(args))

    @operation
    def estimate(self, **args: Unpack[VideoEstimateArgs]) -> Steps[Estimate]:
        """Price a video generation without creating it (same arguments as ``create``)."""
        return (yield from estimate_call("/v1/videos/estimate", args, check_video_body))

    # ---- helpers: waiting, downloading, batches ------------------------------------------------

    @operation
    def create_and_wait(
        self,
        *,
        raise_on_failure: bool = False,
        timeout: float | None = 600,
        poll_interval: float = 2.0,
        max_poll_interval: float = 15.0,
        on_update: Callable[[Generation], None] | None = None,
        cancel_on_timeout: bool = False,
        **params: Unpack[VideoCreateAndWaitArgs],
    ) -> Steps[Generation]:
        """Create a video generation and wait for it (``create`` + ``wait``, one deadline).

        With ``raise_on_failure=True`` a video that ends without output raises
        ``aurous.GenerationFailedError``.

        >>> v = client.videos.create_and_wait(prompt="waves at dusk", resolution="720p")
        """
        return (
            yield from create_and_wait_steps(
                video_create_call(params),
                raise_on_failure=raise_on_failure,
                timeout=timeout,
                poll_interval=poll_interval,
                max_poll_interval=max_poll_interval,
                on_update=on_update,
                cancel_on_timeout=cancel_on_timeout,
            )
        )

    @batch_operation
    def batch(
        self,
        requests: Iterable[str | Mapping[str, Any]],
        *,
        concurrency: int = 8,
        manifest: str | os.PathLike[str] | None = None,
        on_progress: Callable[[BatchProgress], None] | None = None,
        download_to: str | os.PathLike[str] | None = None,
        wait_timeout: float | None = 600,
        poll_interval: float = 2.0,
        max_poll_interval: float = 15.0,
        max_credits: float | None = None,
        file_name: str | None = None,
    ) -> BatchPlan:
        """Generate many videos: create, wait (and download) each, ``concurrency`` at a time.

        The same engine and options as ``client.images.batch``: ``requests`` are prompts or
        dicts of ``videos.create`` parameters, read lazily; one ``aurous.BatchResult`` per
        request, in input order, errors captured per item; pacing, retries with each item's own
        idempotency key, the resumable ``manifest``, ``on_progress``, ``max_credits`` (items
        priced before their create; ``not_started`` items resume with a larger cap) and the
        stop on a ``402``. ``download_to`` downloads each video (``<id>-0.mp4``, or by the
        ``file_name`` template: ``{index}``, ``{id}``, ``{n}``).

        >>> results = client.videos.batch(
        ...     [{"prompt": "waves at dusk", "resolution": "720p", "duration": 5}],
        ...     manifest="videos.jsonl", download_to="clips/", max_credits=100,
        ... )
        """
        return BatchPlan.build(
            "video",
            requests,
            concurrency=concurrency,
            manifest=manifest,
            on_progress=on_progress,
            download_to=download_to,
            wait_timeout=wait_timeout,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            max_credits=max_credits,
            file_name=file_name,
        )

    @operation
    def estimate_batch(
        self,
        requests: Iterable[str | Mapping[str, Any]],
        *,
        concurrency: int = 8,
        download: bool = False,
        poll_interval: float = 2.0,
        max_poll_interval: float = 15.0,
        generation_seconds: float | None = None,
        use_rate_card: bool = True,
    ) -> Steps[BatchEstimate]:
        """Price a video batch and bound its duration without creating anything.

        As ``client.images.estimate_batch``. A video's price is ``base_per_second ×
        resolution_factor × duration`` of the card with the resolved resolution and duration:
        requests that set both, or use no LoRA (720p, 5 s), are priced from the card (checked
        once against the endpoint); those leaving them to their LoRA's defaults are asked of
        ``POST /v1/videos/estimate`` once per (LoRA, resolution, duration). The API documents
        no typical video duration: without ``generation_seconds`` or usage history,
        ``min_duration`` counts generation time as 0 (``generation_seconds`` is then None).
        """
        return (
            yield from estimate_batch_steps(
                self._client,
                "video",
                requests,
                concurrency=concurrency,
                download=download,
                poll_interval=poll_interval,
                max_poll_interval=max_poll_interval,
                generation_seconds=generation_seconds,
                use_rate_card=use_rate_card,
            )
        )
