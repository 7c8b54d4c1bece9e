"""``client.loras`` and ``client.video_loras``: the style and video-model catalogues."""

from __future__ import annotations

from typing_extensions import Unpack

from .._call import Call
from .._models import ModelList
from .._operations import ModeT, Namespace, Steps, operation, single
from .._types import RequestOptions
from ..types import Lora, VideoLora
from ._common import list_parser, path_id, request

__all__ = ["Loras", "VideoLoras"]


class Loras(Namespace[ModeT]):
    """Image LoRAs: ``client.loras``."""

    @operation
    def list(self, **options: Unpack[RequestOptions]) -> Steps[ModelList[Lora]]:
        """Every image LoRA visible to the team (public and private), newest first."""
        call = Call("GET", "/v1/loras", parse=list_parser(Lora), options=options)
        return (yield from single(call))

    @operation
    def retrieve(self, lora_id: str, **options: Unpack[RequestOptions]) -> Steps[Lora]:
        """One image LoRA by id (``lora_…``), slug or legacy UUID."""
        path = f"/v1/loras/{path_id('lora_id', lora_id)}"
        return (yield from single(Call("GET", path, parse=Lora.model_validate, options=options)))


class VideoLoras(Namespace[ModeT]):
    """Video LoRAs (video models): ``client.video_loras``."""

    @operation
    def list(self, **options: Unpack[RequestOptions]) -> Steps[ModelList[VideoLora]]:
        """Every video LoRA visible to the team, newest first."""
        call = Call("GET", "/v1/video_loras", parse=list_parser(VideoLora), options=options)
        return (yield from single(call))

    @operation
    def retrieve(self, lora_id: str, **options: Unpack[RequestOptions]) -> Steps[VideoLora]:
        """One video LoRA by id (``lora_…``), slug or legacy UUID."""
        path = f"/v1/video_loras/{path_id('lora_id', lora_id)}"
        return (yield from request("GET", path, VideoLora, options))
