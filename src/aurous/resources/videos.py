"""``client.videos``: video generations (retrieved and cancelled through the image routes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

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

        Args:
            video_lora_id: A video LoRA id (``lora_…``), slug or legacy UUID.
            prompt: What to generate, 1–4000 characters; required unless ``first_frame_url`` is
                given.
            first_frame_url: Image-to-video: a ``file_…`` id or an ``https://`` URL of the first
                frame.
            last_frame_url: Interpolation target (``file_…`` id or ``https://`` URL); needs
                ``first_frame_url``.
            resolution: ``480p``, ``720p`` or ``1080p``; default the LoRA's, else ``720p``.
            ratio: Aspect ratio; default the LoRA's, else ``16:9``.
            duration: Seconds, 2–12; default the LoRA's, else 5.
            seed: Seed, -1–4294967295 (-1 = random).
            camera_fixed: Keep the camera still; default False.
            watermark: Add a watermark; default False.
            enhance_prompt: AI prompt enhancement (no effect on price); default False.
            webhook_url: An ``https://`` URL that receives an unsigned ``{event, data}`` callback
                when done.
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
            idempotency_key: Reuse a key to resume a call safely; by default a UUID4 is generated
                per call.
        """
        return (yield from video_create_call(args))

    @operation
    def estimate(self, **args: Unpack[VideoEstimateArgs]) -> Steps[Estimate]:
        """Price a video generation without creating it (same arguments as ``create``).

        Args:
            video_lora_id: A video LoRA id (``lora_…``), slug or legacy UUID.
            prompt: What to generate, 1–4000 characters; required unless ``first_frame_url`` is
                given.
            first_frame_url: Image-to-video: a ``file_…`` id or an ``https://`` URL of the first
                frame.
            last_frame_url: Interpolation target (``file_…`` id or ``https://`` URL); needs
                ``first_frame_url``.
            resolution: ``480p``, ``720p`` or ``1080p``; default the LoRA's, else ``720p``.
            ratio: Aspect ratio; default the LoRA's, else ``16:9``.
            duration: Seconds, 2–12; default the LoRA's, else 5.
            seed: Seed, -1–4294967295 (-1 = random).
            camera_fixed: Keep the camera still; default False.
            watermark: Add a watermark; default False.
            enhance_prompt: AI prompt enhancement (no effect on price); default False.
            webhook_url: An ``https://`` URL that receives an unsigned ``{event, data}`` callback
                when done.
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
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
        on_update: Callable[[Generation], Awaitable[None] | None] | None = None,
        cancel_on_timeout: bool = False,
        **params: Unpack[VideoCreateAndWaitArgs],
    ) -> Steps[Generation]:
        """Create a video generation and wait for it (``create`` + ``wait``, one deadline).

        With ``raise_on_failure=True`` a video that ends without output raises
        ``aurous.GenerationFailedError``.

        >>> v = client.videos.create_and_wait(prompt="waves at dusk", resolution="720p")

        Args:
            raise_on_failure: Raise ``aurous.GenerationFailedError`` when the generation ends
                without output, instead of returning it.
            timeout: Seconds for the create and the wait together, one deadline over every request
                and sleep (``None``: no deadline).
            poll_interval: Seconds before the first poll; each next pause is about 1.5 times longer.
            max_poll_interval: The longest pause between two polls, in seconds.
            on_update: Called with the first state seen and on every status change.
            cancel_on_timeout: Cancel the generation when the deadline passes (before raising
                ``WaitTimeoutError``).
            video_lora_id: A video LoRA id (``lora_…``), slug or legacy UUID.
            prompt: What to generate, 1–4000 characters; required unless ``first_frame_url`` is
                given.
            first_frame_url: Image-to-video: a ``file_…`` id or an ``https://`` URL of the first
                frame.
            last_frame_url: Interpolation target (``file_…`` id or ``https://`` URL); needs
                ``first_frame_url``.
            resolution: ``480p``, ``720p`` or ``1080p``; default the LoRA's, else ``720p``.
            ratio: Aspect ratio; default the LoRA's, else ``16:9``.
            duration: Seconds, 2–12; default the LoRA's, else 5.
            seed: Seed, -1–4294967295 (-1 = random).
            camera_fixed: Keep the camera still; default False.
            watermark: Add a watermark; default False.
            enhance_prompt: AI prompt enhancement (no effect on price); default False.
            webhook_url: An ``https://`` URL that receives an unsigned ``{event, data}`` callback
                when done.
            extra_headers: Additional HTTP headers to send with the create.
            extra_query: Additional query parameters to send with the create.
            extra_body: Additional JSON body fields to send with the create.
            max_retries: Override the client's ``max_retries`` for the create.
            idempotency_key: Reuse a key to resume a create safely; by default a UUID4 is generated
                per call.
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
                completions=self._client._completions,
            )
        )
