"""The generation resource (``object: "inference"``): one image batch or one video."""

from __future__ import annotations

from .._models import AurousModel
from ._common import Credits, FiniteCredits, Number, Timestamp
from .literals import (
    Currency,
    GenerationStatus,
    InferenceType,
    MediaType,
    SizePreset,
    VideoRatio,
    VideoResolution,
)

__all__ = ["Cost", "Generation", "LoraRef"]

_NON_TERMINAL_STATUSES = frozenset({"pending", "queued", "processing"})


class Cost(AurousModel):
    """A price in credits, with how it splits into parts.

    On a generation it is the amount held (non-terminal rows), the amount charged (``succeeded``),
    or ``0`` in every part (any other terminal status: the hold was released).
    """

    amount: Credits
    """Credits (finite, ``>= 0``). Equals the sum of ``breakdown``."""
    currency: Currency | None = None
    """``"credit"``. Some documented estimate examples leave it out."""
    breakdown: dict[str, FiniteCredits]
    """How ``amount`` splits into parts, e.g. ``{"base": 1, "enhance": 1}``; may hold new keys."""


class LoraRef(AurousModel):
    """A LoRA applied to a generation, as listed on the generation (it carries no weight)."""

    id: str
    """The LoRA's ``lora_…`` id."""
    name: str
    """The LoRA's display name."""


class Generation(AurousModel):
    """An image or video generation (``object: "inference"``).

    Image rows carry the image fields (``output_urls``, ``width``, ``size_preset``, ``seed``, …),
    video rows the ``video_*`` fields and ``output_video_url``; the other media type's fields are
    ``None``. Use :attr:`is_terminal` to know whether the status can still change and
    :attr:`outputs` for the result URLs.
    """

    object: str = "inference"
    """Always ``"inference"``, for images and videos alike."""
    id: str
    """``img_…`` for images, ``vid_…`` for videos."""
    status: GenerationStatus
    """``pending``, ``queued``, ``processing`` (non-terminal), or ``succeeded``, ``failed``,
    ``cancelled``, ``expired``, ``moderation_rejected``. Unknown values are kept and count as
    terminal."""
    prompt: str | None = None
    """The prompt used. ``None`` for a video created without a prompt."""
    created_at: Timestamp
    """When the generation was created."""
    media_type: MediaType | None = None
    """``"image"`` or ``"video"``; ``None`` on old rows (see :attr:`kind`, which falls back to the
    id prefix)."""
    negative_prompt: str | None = None
    """Image only: the negative prompt as sent, or ``None``."""
    output_urls: list[str] | None = None
    """Image only: signed URLs of the images, one per image. Empty until ``succeeded``."""
    output_video_url: str | None = None
    """Video only: signed URL of the video; ``None`` until ``succeeded``."""
    reference_image_urls: list[str] | None = None
    """Image only: the reference inputs as sent (``file_…`` ids stay ids), or the character's
    reference URLs; ``None`` when there were none."""
    error_message: str | None = None
    """Why the generation ended without output (free text), e.g. ``"provider_timeout"``.
    ``None`` unless the status is ``failed`` (or another failure status)."""
    duration_ms: int | None = None
    """Processing time in milliseconds, set once the generation is terminal."""
    cost: Cost | None = None
    """Credits held (non-terminal), charged (``succeeded``) or ``0`` (other terminal statuses)."""
    width: int | None = None
    """Image only: width in pixels. Read it from here; never compute it from the preset."""
    height: int | None = None
    """Image only: height in pixels."""
    image_count: int | None = None
    """Image only: how many images were requested (1–4)."""
    size_preset: SizePreset | None = None
    """Image only: the size preset used, e.g. ``"2k_16_9"``; ``None`` when width/height were sent.
    Older rows may carry retired names."""
    inference_type: InferenceType
    """``t2i`` for images; ``t2v`` (text-to-video) or ``i2v`` (with a first frame) for videos."""
    cfg_rescale: Number | None = None
    """Image only: echoed only when the request set it."""
    denoise_strength: Number | None = None
    """Image only: echoed only when the request set it and references or a character were used."""
    seed: int | None = None
    """Image only: the seed the model used (of the first image for batches); set on success."""
    video_duration: int | None = None
    """Video only: duration in seconds."""
    video_resolution: VideoResolution | str | None = None
    """Video only: ``"480p"``, ``"720p"`` or ``"1080p"``."""
    video_ratio: VideoRatio | str | None = None
    """Video only: aspect ratio, e.g. ``"16:9"``."""
    video_camera_fixed: bool | None = None
    """Video only: whether the camera was fixed."""
    character_id: str | None = None
    """Image only: the character used, or ``None``."""
    loras: list[LoraRef] | None = None
    """The LoRAs applied, in request order; ``None`` when no LoRA was used."""
    aurous_version: str
    """The API version in force when the generation was created (frozen)."""
    creation_request_id: str
    """The ``Aurous-Request-Id`` of the request that created the generation."""
    completed_at: Timestamp | None = None
    """When the generation reached a terminal status; ``None`` before that."""

    @property
    def is_terminal(self) -> bool:
        """Whether the status is final: anything but ``pending``, ``queued`` and ``processing``."""
        return self.status not in _NON_TERMINAL_STATUSES

    @property
    def is_succeeded(self) -> bool:
        """Whether the generation succeeded and its outputs are ready."""
        return self.status == "succeeded"

    @property
    def is_failed(self) -> bool:
        """Whether the generation ended without output (failed, cancelled, expired, …)."""
        return self.is_terminal and not self.is_succeeded

    @property
    def kind(self) -> MediaType | None:
        """``"image"`` or ``"video"``: ``media_type``, or else inferred from the id prefix."""
        if self.media_type is not None:
            return self.media_type
        if self.id.startswith("img_"):
            return "image"
        if self.id.startswith("vid_"):
            return "video"
        return None

    @property
    def outputs(self) -> list[str]:
        """The result URLs: every image URL, or the video URL; ``[]`` while there are none."""
        urls = list(self.output_urls or ())
        if self.output_video_url is not None:
            urls.append(self.output_video_url)
        return urls
