"""``client.videos``: video generations (retrieved and cancelled through the image routes)."""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typing_extensions import Unpack

from .._call import Call
from .._download import download_steps
from .._operations import ModeT, Namespace, Steps, operation, single
from .._params import VideoCreateArgs, VideoEstimateArgs
from .._types import RequestOptions
from .._wait import VideoCreateAndWaitArgs, create_and_wait_steps, wait_steps
from ..types import Estimate, Generation
from ._common import split_args
from .images import cancel_call, retrieve_call

__all__ = ["Videos", "video_create_call"]


def _check_video_body(body: dict[str, Any]) -> None:
    if body.get("prompt") is None and body.get("first_frame_url") is None:
        raise ValueError("a video needs a prompt, a first_frame_url, or both")
    if body.get("last_frame_url") is not None and body.get("first_frame_url") is None:
        raise ValueError("last_frame_url needs first_frame_url")


def video_create_call(args: VideoCreateArgs) -> Call[Generation]:
    """The call of ``POST /v1/videos`` for these arguments (validated, IO-free)."""
    body, options, key = split_args(args)
    _check_video_body(body)
    return Call(
        "POST",
        "/v1/videos",
        json=body,
        parse=Generation.model_validate,
        idempotent=True,
        idempotency_key=key,
        options=options,
    )


class Videos(Namespace[ModeT]):
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
        body, options, _ = split_args(args)
        _check_video_body(body)
        call = Call(
            "POST", "/v1/videos/estimate", json=body, parse=Estimate.model_validate, options=options
        )
        return (yield from single(call))

    @operation
    def retrieve(self, generation_id: str, **options: Unpack[RequestOptions]) -> Steps[Generation]:
        """Fetch the live state of a video generation (calls ``GET /v1/images/{id}``)."""
        return (yield from single(retrieve_call(generation_id, options)))

    @operation
    def cancel(self, generation_id: str, **options: Unpack[RequestOptions]) -> Steps[Generation]:
        """Cancel a video generation (calls ``POST /v1/images/{id}/cancel``)."""
        return (yield from single(cancel_call(generation_id, options)))

    # ---- helpers: waiting and downloading (aurous._wait, aurous._download) -------------------

    @operation
    def wait(
        self,
        generation_or_id: Generation | str,
        *,
        timeout: float | None = 600,
        poll_interval: float = 2.0,
        max_poll_interval: float = 15.0,
        on_update: Callable[[Generation], None] | None = None,
        cancel_on_timeout: bool = False,
    ) -> Steps[Generation]:
        """Poll a video generation until its status is terminal (``GET /v1/images/{id}``).

        Same behaviour as ``client.images.wait``: one deadline over every sleep and request,
        backoff with jitter from ``poll_interval`` to ``max_poll_interval``, 429s waited out,
        ``on_update`` on every status change, ``aurous.WaitTimeoutError`` at the deadline
        (after cancelling, with ``cancel_on_timeout=True``).

        >>> v = client.videos.wait(client.videos.create(prompt="waves"), timeout=900)
        """
        return (
            yield from wait_steps(
                generation_or_id,
                timeout=timeout,
                poll_interval=poll_interval,
                max_poll_interval=max_poll_interval,
                on_update=on_update,
                cancel_on_timeout=cancel_on_timeout,
                request_timeout=self._client.timeout,
                max_retries=self._client.max_retries,
            )
        )

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

    @operation
    def download(
        self,
        generation_or_id: Generation | str,
        dest: str | os.PathLike[str] = ".",
        *,
        overwrite: bool = False,
        on_progress: Callable[[int, int | None], None] | None = None,
    ) -> Steps[builtins.list[Path]]:
        """Stream a succeeded video to disk (``<id>-0.mp4`` in a directory, or exactly ``dest``).

        Atomic like ``client.images.download``; a body that breaks off is resumed with
        ``Range: bytes=<have>-`` within the client's ``max_retries``. Raises
        ``aurous.OutputExpiredError`` (410) or ``aurous.InvalidRequestError``
        (``output_not_available``, 422).

        >>> client.videos.download(v, "clip.mp4", on_progress=lambda done, total: ...)
        """
        return (
            yield from download_steps(
                generation_or_id,
                dest,
                overwrite=overwrite,
                on_progress=on_progress,
                max_retries=self._client.max_retries,
            )
        )
