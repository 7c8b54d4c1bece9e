"""Enumerated values of the API, as ``Literal`` types.

Two kinds live here:

* **Closed** enums (pure ``Literal``) for values the SDK *sends*: the server rejects anything else,
  so type checkers and editors should too (``ImageSize``, ``VideoResolution``, ``EventType``, …).
* **Open** enums (``Literal[...] | str``) for values the SDK *receives*: the server may add values
  without a new API version, so an unknown value is kept as a plain string and never rejected
  (``GenerationStatus``, ``MediaType``, ``BillingMode``, …). Editors still offer the known values.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

__all__ = [
    "BillingMode",
    "CharacterEventType",
    "CharacterStatus",
    "Currency",
    "EventSubscription",
    "EventType",
    "FileMimeType",
    "FilePurpose",
    "GenerationEventType",
    "GenerationStatus",
    "ImageSize",
    "InferenceType",
    "MediaType",
    "Pose",
    "SizePreset",
    "UploadContentType",
    "UploadExtension",
    "UsageBucketWidth",
    "UsageEventType",
    "UsageGroupBy",
    "UsageStatus",
    "VideoRatio",
    "VideoResolution",
    "WebhookEventType",
]

# Closed enums: values the SDK sends.

ImageSize: TypeAlias = Literal[
    "2k_1_1",
    "2k_3_2",
    "2k_2_3",
    "2k_4_3",
    "2k_3_4",
    "2k_16_9",
    "2k_9_16",
    "2k_21_9",
    "4k_1_1",
    "4k_3_2",
    "4k_2_3",
    "4k_4_3",
    "4k_3_4",
    "4k_16_9",
    "4k_9_16",
    "4k_21_9",
]
"""An image size preset, ``<tier>_<w>_<h>``: tier ``2k`` (long side 2048) or ``4k`` (4096)."""

VideoResolution: TypeAlias = Literal["480p", "720p", "1080p"]
"""A video resolution."""

VideoRatio: TypeAlias = Literal["16:9", "4:3", "1:1", "3:4", "9:16", "21:9"]
"""A video aspect ratio."""

FilePurpose: TypeAlias = Literal["reference", "first_frame", "last_frame"]
"""What an uploaded file is for: a reference image, or a video's first or last frame."""

Pose: TypeAlias = Literal["portrait", "front", "side", "back", "other"]
"""The pose of a character reference image."""

UploadExtension: TypeAlias = Literal["jpeg", "jpg", "png", "webp"]
"""File extension declared when asking for a character upload ticket."""

UploadContentType: TypeAlias = Literal["image/jpeg", "image/png", "image/webp"]
"""Content type declared when asking for a character upload ticket (must match the extension)."""

GenerationEventType: TypeAlias = Literal[
    "image.completed",
    "image.failed",
    "image.cancelled",
    "video.completed",
    "video.failed",
    "video.cancelled",
]
"""The webhook event types whose ``data`` is a generation."""

CharacterEventType: TypeAlias = Literal[
    "character.completed",
    "character.failed",
    "character.cancelled",
]
"""The webhook event types whose ``data`` is a character."""

EventType: TypeAlias = Literal[
    "image.completed",
    "image.failed",
    "image.cancelled",
    "video.completed",
    "video.failed",
    "video.cancelled",
    "usage.balance_low",
    "webhook.endpoint_disabled",
    "character.completed",
    "character.failed",
    "character.cancelled",
]
"""A known webhook event type (the values a webhook endpoint can subscribe to)."""

EventSubscription: TypeAlias = EventType | Literal["*"]
"""An entry of a webhook endpoint's ``events`` list as sent: a known type, or ``"*"`` for all."""

UsageBucketWidth: TypeAlias = Literal["1m", "5m", "15m", "1h", "1d", "7d"]
"""The width of a usage bucket."""

UsageGroupBy: TypeAlias = Literal["status", "api_key_id", "user_id", "type", "model"]
"""A dimension usage buckets can be grouped by."""

# Open enums: values the SDK receives. Unknown values are kept as plain strings.

GenerationStatus: TypeAlias = (
    Literal[
        "pending",
        "queued",
        "processing",
        "succeeded",
        "failed",
        "cancelled",
        "expired",
        "moderation_rejected",
    ]
    | str
)
"""A generation's status. Anything other than pending/queued/processing is terminal."""

MediaType: TypeAlias = Literal["image", "video"] | str
"""Whether a generation made images or a video."""

InferenceType: TypeAlias = Literal["t2i", "i2i", "t2v", "i2v"] | str
"""How a generation was made: text-to-image, image-to-image, text-to-video, image-to-video."""

SizePreset: TypeAlias = ImageSize | str
"""The size preset on a generation; rows from older API eras may carry retired names."""

BillingMode: TypeAlias = Literal["metered", "exempt"] | str
"""How a team is billed. Treat any unknown value as "does not block requests"."""

Currency: TypeAlias = Literal["credit"] | str
"""The currency of an amount; ``"credit"`` today."""

FileMimeType: TypeAlias = Literal["image/png", "image/jpeg", "image/webp"] | str
"""The content type of an uploaded file, detected from its bytes."""

CharacterStatus: TypeAlias = (
    Literal["synthesizing", "reviewing", "ready", "failed", "deleted"] | str
)
"""A character's status. Only ``ready`` characters can be used in a generation."""

UsageStatus: TypeAlias = Literal["completed", "failed", "cancelled", "processing", "pending"] | str
"""A status in the usage vocabulary (``succeeded`` is reported as ``completed``)."""

UsageEventType: TypeAlias = Literal["image", "video", "chat", "embedding"] | str
"""The kind of a billed request in the usage events list."""

WebhookEventType: TypeAlias = EventType | str
"""A webhook event type as received: a known type, or a newer one kept as a plain string."""
