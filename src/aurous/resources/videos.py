"""``client.videos``: video generations (retrieved and cancelled through the image routes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from typing_extensions import Unpack

from .._call import Call
from .._operations import ModeT, Steps, operation, single
from .._params import VideoCreateArgs, VideoEstimateArgs
from .._wait import VideoCreateAndWaitArgs, create_and_wait_steps
from ..types import Estimate, Generation
from ._generation_base import GenerationNamespace, create_call, estimate_call

__all__ = ["Videos", "video_create_call"]


def _check_video_body(body: dict[str, Any]) -> None:
    if body.get("prompt") is None and body.get("first_frame_url") is None:
        raise ValueError("a video needs a prompt, a first_frame_url, or both")
    if body.get("last_frame_url") is not None and body.get("first_frame_url") is None:
        raise ValueError("last_frame_url needs first_frame_url")


def video_create_call(args: VideoCreateArgs) -> Call[Generation]:
    """The call of ``POST /v1/videos`` for these arguments (validated, IO-free)."""
    return create_call("/v1/videos", args, _check_video_body)


class Videos(GenerationNamespace[ModeT]):
    """Video generations: ``client.videos``."""

    @operation
    def create(self, **args: Unpack[VideoCreateArgs]) -> Steps[Generation]:
        """Start a video generation (text-to-video, or image-to-video with ``first_frame_url``).

        >>> g = client.videos.create(video_lora_id="seedance-1-pro", prompt="waves", resolution="720p")
        """
        return (yield from single(video_create_call(args)))

    @operation
    def estimate(self, **args: Unpack[VideoEstimateArgs]) -> Steps[Estimate]:
        """Price a video generation without creating it (same arguments as ``create``)."""
        return (yield from single(estimate_call("/v1/videos/estimate", args, _check_video_body)))

    # ---- helpers: waiting and downloading (aurous._wait, aurous._download) -------------------

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
                video_create_call(params),  # type: ignore[arg-type]
                raise_on_failure=raise_on_failure,
                timeout=timeout,
                poll_interval=poll_interval,
                max_poll_interval=max_poll_interval,
                on_update=on_update,
                cancel_on_timeout=cancel_on_timeout,
                request_timeout=self._client.timeout,
                max_retries=self._client.max_retries,
            )
        )
