"""The LoRA catalogues: image styles (``Lora``) and video models (``VideoLora``)."""

from __future__ import annotations

from .._models import AurousModel
from ._common import Number, Timestamp
from .literals import VideoRatio, VideoResolution

__all__ = ["Lora", "VideoLora"]


class Lora(AurousModel):
    """An image LoRA (style). Pass its ``id`` (or ``slug``) as ``lora_id`` or in ``loras``."""

    id: str
    """``lora_…``: the canonical identifier. Store this, not the slug."""
    name: str
    """Display name."""
    is_public: bool
    """``True`` for the public catalogue, ``False`` for a LoRA private to this team."""
    created_at: Timestamp
    """When the LoRA was added."""
    slug: str | None = None
    """A URL-safe alias accepted wherever the id is. Slugs can change."""
    description: str | None = None
    """What the style does."""
    preview_image_url: str | None = None
    """A preview image on the CDN."""
    default_denoise_strength: Number | None = None
    """The LoRA's own default ``denoise_strength``."""
    default_guidance_scale: Number | None = None
    """The LoRA's own default ``guidance_scale``."""
    default_steps: int | None = None
    """The LoRA's own default ``steps``."""
    has_template: bool | None = None
    """Whether the platform applies a prompt template for this LoRA."""


class VideoLora(AurousModel):
    """A video LoRA (model). Pass its ``id`` (or ``slug``) as ``video_lora_id``."""

    id: str
    """``lora_…``: the canonical identifier."""
    name: str
    """Display name, e.g. ``"Seedance 1.0 Pro"``."""
    is_public: bool
    """``True`` for the public catalogue, ``False`` for a LoRA private to this team."""
    default_resolution: VideoResolution | str
    """Used when a video request leaves out ``resolution``."""
    default_ratio: VideoRatio | str
    """Used when a video request leaves out ``ratio``."""
    default_duration: int
    """Seconds; used when a video request leaves out ``duration``."""
    created_at: Timestamp
    """When the LoRA was added."""
    slug: str | None = None
    """A URL-safe alias accepted wherever the id is. Slugs can change."""
    description: str | None = None
    """What the model does."""
    preview_video_url: str | None = None
    """A preview video on the CDN."""
