"""Usage reporting: aggregated buckets (``GET /v1/usage``) and per-request rows."""

from __future__ import annotations

from .._models import AurousModel
from ._common import Credits, Number, Timestamp
from .literals import UsageEventType, UsageStatus

__all__ = ["UsageBucket", "UsageEvent", "UsageGroup", "UsageMetrics"]


class UsageMetrics(AurousModel):
    """Aggregated figures of one group in one bucket."""

    request_count: int
    """Generations created in the bucket, any status."""
    successful_count: int
    """Of those, how many succeeded."""
    failed_count: int
    """Of those, how many ended in a failure status (failed, expired, moderation_rejected, …)."""
    cancelled_count: int
    """Of those, how many were cancelled."""
    credits_used: Credits
    """Credits charged."""
    duration_ms_p50: Number
    """Median processing time of the finished generations, in ms (``0`` when none)."""
    duration_ms_p95: Number
    """95th percentile processing time of the finished generations, in ms (``0`` when none)."""
    image_count: int
    """Images produced by successful image generations."""
    video_seconds: int
    """Seconds of video produced by successful video generations."""
    total_input_tokens: int | None = None
    """LLM input tokens; ``0`` for image and video traffic."""
    total_output_tokens: int | None = None
    """LLM output tokens; ``0`` for image and video traffic."""


class UsageGroup(AurousModel):
    """The metrics of one combination of ``group_by`` values within a bucket."""

    key: dict[str, str | None]
    """One entry per ``group_by`` dimension, e.g. ``{"type": "t2i"}``; ``{}`` without grouping."""
    metrics: UsageMetrics
    """The figures for this group."""


class UsageBucket(AurousModel):
    """Usage aggregated over one time interval (``object: "usage.bucket"``)."""

    object: str = "usage.bucket"
    """Always ``"usage.bucket"``."""
    bucket_start: Timestamp
    """Start of the interval (inclusive)."""
    bucket_end: Timestamp
    """End of the interval (exclusive)."""
    groups: list[UsageGroup]
    """One entry per group with at least one generation; ``[]`` for an empty bucket."""


class UsageEvent(AurousModel):
    """One billed request (an image or video generation) in the usage events list."""

    id: str
    """The generation id (``img_…``, ``vid_…``)."""
    type: UsageEventType
    """``"image"`` or ``"video"`` (the service also knows ``chat`` and ``embedding``)."""
    model: str | None = None
    """The model, for LLM rows; ``None`` for images and videos."""
    status: UsageStatus
    """In the usage vocabulary: ``completed``, ``failed``, ``cancelled``, ``processing``,
    ``pending``."""
    created_at: Timestamp
    """When the generation was created."""
    completed_at: Timestamp | None = None
    """When the generation finished; ``None`` before that."""
    duration_ms: int | None = None
    """Processing time in milliseconds, once finished."""
    input_tokens: int
    """LLM input tokens; ``0`` for images and videos."""
    output_tokens: int
    """LLM output tokens; ``0`` for images and videos."""
    credits_charged: Credits
    """Credits charged; ``0`` unless ``completed``."""
    api_key_id: str
    """``apikey_…``: the key that created the generation."""
    user_id: str
    """The key owner's user id."""
    request_id: str
    """The ``Aurous-Request-Id`` of the creating request."""
