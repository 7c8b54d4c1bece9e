"""``client.videos``: video generations (retrieved and cancelled through the image routes)."""

from __future__ import annotations

from typing import Any

from typing_extensions import Unpack

from .._call import Call
from .._operations import ModeT, Namespace, Steps, operation, single
from .._params import VideoCreateArgs, VideoEstimateArgs
from .._types import RequestOptions
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
