"""``client.loras`` and ``client.video_loras``: the style and video-model catalogues."""

from __future__ import annotations

from typing_extensions import Unpack

from .._operations import ModeT, Namespace, operation
from .._requests import request
from .._steps import Steps
from .._types import RequestOptions
from ..types import Lora, VideoLora
from ..types.lists import ModelList

__all__ = ["Loras", "VideoLoras"]


class Loras(Namespace[ModeT]):
    """Image LoRAs: ``client.loras``."""

    _path = "loras"

    @operation
    def list(self, **options: Unpack[RequestOptions]) -> Steps[ModelList[Lora]]:
        """Every image LoRA visible to the team (public and private), newest first.

        Args:
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        return (yield from request("GET", "/v1/loras", ModelList[Lora], options))

    @operation
    def retrieve(self, lora_id: str, **options: Unpack[RequestOptions]) -> Steps[Lora]:
        """One image LoRA by id (``lora_…``), slug or legacy UUID.

        Args:
            lora_id: A LoRA id (``lora_…``), slug or legacy UUID.
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        path = {"lora_id": lora_id}
        return (yield from request("GET", "/v1/loras/{lora_id}", Lora, options, path=path))


class VideoLoras(Namespace[ModeT]):
    """Video LoRAs (video models): ``client.video_loras``."""

    _path = "video_loras"

    @operation
    def list(self, **options: Unpack[RequestOptions]) -> Steps[ModelList[VideoLora]]:
        """Every video LoRA visible to the team, newest first.

        Args:
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        return (yield from request("GET", "/v1/video_loras", ModelList[VideoLora], options))

    @operation
    def retrieve(self, lora_id: str, **options: Unpack[RequestOptions]) -> Steps[VideoLora]:
        """One video LoRA by id (``lora_…``), slug or legacy UUID.

        Args:
            lora_id: A LoRA id (``lora_…``), slug or legacy UUID.
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        path = {"lora_id": lora_id}
        return (
            yield from request("GET", "/v1/video_loras/{lora_id}", VideoLora, options, path=path)
        )
