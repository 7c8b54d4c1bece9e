"""Typed models of everything the API returns, the enums it uses, and nested request params.

Every model keeps fields a newer server adds (readable as attributes and in ``to_dict()``), and
every open enum keeps values this SDK does not know as plain strings.
"""

from .account import Balance, ImagePricing, Pricing, Team, VideoPricing
from .batch import BatchProgress, BatchResult
from .character import (
    Character,
    CharacterAttributes,
    CharacterRef,
    CharacterUpload,
    UploadClassification,
)
from .deleted import CharacterDeleted, DeletedObject, FileDeleted, WebhookEndpointDeleted
from .estimate import Estimate
from .events import (
    BalanceLowEvent,
    BaseEvent,
    CharacterEvent,
    EndpointDisabledEvent,
    Event,
    GenerationEvent,
    UnknownEvent,
    parse_callback_payload,
    parse_event,
)
from .file import File
from .generation import Cost, Generation, LoraRef
from .lists import ModelList
from .literals import (
    BillingMode,
    CharacterEventType,
    CharacterStatus,
    Currency,
    EventSubscription,
    EventType,
    FileMimeType,
    FilePurpose,
    GenerationEventType,
    GenerationStatus,
    ImageSize,
    InferenceType,
    MediaType,
    Pose,
    SizePreset,
    UploadContentType,
    UploadExtension,
    UsageBucketWidth,
    UsageEventType,
    UsageGroupBy,
    UsageStatus,
    VideoRatio,
    VideoResolution,
    WebhookEventType,
)
from .lora import Lora, VideoLora
from .params import CharacterAttributesParam, LoraParam
from .usage import UsageBucket, UsageEvent, UsageGroup, UsageMetrics
from .webhook_endpoint import WebhookEndpoint, WebhookTestFire

__all__ = [
    "Balance",
    "BalanceLowEvent",
    "BaseEvent",
    "BatchProgress",
    "BatchResult",
    "BillingMode",
    "Character",
    "CharacterAttributes",
    "CharacterAttributesParam",
    "CharacterDeleted",
    "CharacterEvent",
    "CharacterEventType",
    "CharacterRef",
    "CharacterStatus",
    "CharacterUpload",
    "Cost",
    "Currency",
    "DeletedObject",
    "EndpointDisabledEvent",
    "Estimate",
    "Event",
    "EventSubscription",
    "EventType",
    "File",
    "FileDeleted",
    "FileMimeType",
    "FilePurpose",
    "Generation",
    "GenerationEvent",
    "GenerationEventType",
    "GenerationStatus",
    "ImagePricing",
    "ImageSize",
    "InferenceType",
    "Lora",
    "LoraParam",
    "LoraRef",
    "MediaType",
    "ModelList",
    "Pose",
    "Pricing",
    "SizePreset",
    "Team",
    "UnknownEvent",
    "UploadClassification",
    "UploadContentType",
    "UploadExtension",
    "UsageBucket",
    "UsageBucketWidth",
    "UsageEvent",
    "UsageEventType",
    "UsageGroup",
    "UsageGroupBy",
    "UsageMetrics",
    "UsageStatus",
    "VideoLora",
    "VideoPricing",
    "VideoRatio",
    "VideoResolution",
    "WebhookEndpoint",
    "WebhookEndpointDeleted",
    "WebhookEventType",
    "WebhookTestFire",
    "parse_callback_payload",
    "parse_event",
]
