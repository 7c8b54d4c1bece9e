"""``client.videos``: video generations (retrieved and cancelled through the image routes)."""

from __future__ import annotations

from collections.abc import Callable

from typing_extensions import Unpack

from .._operations import ModeT, operation
from .._params import VideoCreateArgs, VideoEstimateArgs
from .._requests import check_video_body, estimate_call, video_create_call
from .._steps import Steps
from .._wait import VideoCreateAndWaitArgs, create_and_wait_steps
from ..types import Estimate, Generation
from ._generation_base import GenerationNamespace

__all__ = ["Videos"]


class Videos(GenerationNamespace[ModeT]):
    """Video generations: ``client.videos``."""

    _path = "videos"
    _media = "video"

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
