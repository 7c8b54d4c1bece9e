"""Request bodies, each written once as a ``TypedDict`` (field docs list ranges and defaults).

Methods take them as keyword arguments (``**params: Unpack[ImageCreateParams]``), so editors and type
checkers see every field; `batch` takes them as plain dicts. ``None`` means "not sent".
"""

from __future__ import annotations

from collections.abc import Sequence

from typing_extensions import Required, TypedDict

from ._types import RequestOptions
from .types.literals import ImageSize, VideoRatio, VideoResolution
from .types.params import LoraParam

__all__ = [
    "ImageCreateArgs",
    "ImageCreateParams",
    "VideoCreateArgs",
    "VideoCreateParams",
]


class ImageCreateParams(TypedDict, total=False):
    """The body of ``POST /v1/images`` and ``POST /v1/images/estimate``."""

    prompt: Required[str]
    """What to generate, 1–4000 characters."""
    negative_prompt: str | None
    """What to avoid, 1–4000 characters."""
    lora_id: str | None
    """An image LoRA id (``lora_…``), slug or legacy UUID. Not with ``loras``."""
    loras: Sequence[LoraParam] | None
    """Stacked LoRAs, in order: ``[{"lora": id_or_slug, "weight": 0.0–2.0 (default 1.0)}]``.
    Not with ``lora_id``."""
    character_id: str | None
    """A ready character (``char_…``). Not with ``reference_image_urls``."""
    reference_image_urls: Sequence[str] | None
    """Reference images: ``file_…`` ids or ``https://`` URLs. Not with ``character_id``."""
    size: ImageSize | None
    """A size preset (``2k_1_1`` … ``4k_21_9``); default ``2k_1_1``. Not with ``width``/``height``."""
    width: int | None
    """Custom width, 1024–4096 (rounded to a multiple of 32). Only together with ``height``."""
    height: int | None
    """Custom height, 1024–4096 (rounded to a multiple of 32). Only together with ``width``."""
    steps: int | None
    """Sampling steps, 1–100; default the LoRA's, else 30."""
    guidance_scale: float | None
    """Guidance scale, 0.1–30; default the LoRA's, else 7.5."""
    cfg_rescale: float | None
    """CFG rescale, 0.0–1.0."""
    denoise_strength: float | None
    """Denoise strength, 0.0–1.0; applies only with references or a character."""
    seed: int | None
    """Seed, 0–4294967295; random when left out."""
    count: int | None
    """Number of images, 1–4 (default 1)."""
    enhance_prompt: bool | None
    """Let an LLM rewrite the prompt (multiplies the price); default False."""
    webhook_url: str | None
    """An ``https://`` URL that receives an unsigned ``{event, data}`` callback when done."""


class VideoCreateParams(TypedDict, total=False):
    """The body of ``POST /v1/videos`` and ``POST /v1/videos/estimate``."""

    video_lora_id: str | None
    """A video LoRA id (``lora_…``), slug or legacy UUID."""
    prompt: str | None
    """What to generate, 1–4000 characters; required unless ``first_frame_url`` is given."""
    first_frame_url: str | None
    """Image-to-video: a ``file_…`` id or an ``https://`` URL of the first frame."""
    last_frame_url: str | None
    """Interpolation target (``file_…`` id or ``https://`` URL); needs ``first_frame_url``."""
    resolution: VideoResolution | None
    """``480p``, ``720p`` or ``1080p``; default the LoRA's, else ``720p``."""
    ratio: VideoRatio | None
    """Aspect ratio; default the LoRA's, else ``16:9``."""
    duration: int | None
    """Seconds, 2–12; default the LoRA's, else 5."""
    seed: int | None
    """Seed, -1–4294967295 (-1 = random)."""
    camera_fixed: bool | None
    """Keep the camera still; default False."""
    watermark: bool | None
    """Add a watermark; default False."""
    enhance_prompt: bool | None
    """AI prompt enhancement (no effect on price); default False."""
    webhook_url: str | None
    """An ``https://`` URL that receives an unsigned ``{event, data}`` callback when done."""


class ImageCreateArgs(ImageCreateParams, RequestOptions, total=False):
    """Keyword arguments of ``images.create``: the body plus per-call options."""

    idempotency_key: str | None
    """Reuse a key to resume a call safely; by default a UUID4 is generated per call."""


class VideoCreateArgs(VideoCreateParams, RequestOptions, total=False):
    """Keyword arguments of ``videos.create``: the body plus per-call options."""

    idempotency_key: str | None
    """Reuse a key to resume a call safely; by default a UUID4 is generated per call."""


class ImageEstimateArgs(ImageCreateParams, RequestOptions, total=False):
    """Keyword arguments of ``images.estimate``: the body plus per-call options."""


class VideoEstimateArgs(VideoCreateParams, RequestOptions, total=False):
    """Keyword arguments of ``videos.estimate``: the body plus per-call options."""
