"""Typed models of everything the API returns, the enums it uses, and nested request params.

Every model keeps fields a newer server adds (readable as attributes and in ``to_dict()``), and
every open enum keeps values this SDK does not know as plain strings.
"""

# Nothing is imported until a name is first used (PEP 562): a program that reads generations
# builds the generation models only, not the events, usage or character models. A new public
# name goes in both the TYPE_CHECKING block and ``_SOURCES``.

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from .account import Balance, ImagePricing, Pricing, Team, VideoPricing
    from .batch import BatchEstimate, BatchLimits, BatchProgress, BatchResult, BatchStatus
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
    "BatchEstimate",
    "BatchLimits",
    "BatchProgress",
    "BatchResult",
    "BatchStatus",
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


_SOURCES: dict[str, str] = {
    "Balance": ".account",
    "BalanceLowEvent": ".events",
    "BaseEvent": ".events",
    "BatchEstimate": ".batch",
    "BatchLimits": ".batch",
    "BatchProgress": ".batch",
    "BatchResult": ".batch",
    "BatchStatus": ".batch",
    "BillingMode": ".literals",
    "Character": ".character",
    "CharacterAttributes": ".character",
    "CharacterAttributesParam": ".params",
    "CharacterDeleted": ".deleted",
    "CharacterEvent": ".events",
    "CharacterEventType": ".literals",
    "CharacterRef": ".character",
    "CharacterStatus": ".literals",
    "CharacterUpload": ".character",
    "Cost": ".generation",
    "Currency": ".literals",
    "DeletedObject": ".deleted",
    "EndpointDisabledEvent": ".events",
    "Estimate": ".estimate",
    "Event": ".events",
    "EventSubscription": ".literals",
    "EventType": ".literals",
    "File": ".file",
    "FileDeleted": ".deleted",
    "FileMimeType": ".literals",
    "FilePurpose": ".literals",
    "Generation": ".generation",
    "GenerationEvent": ".events",
    "GenerationEventType": ".literals",
    "GenerationStatus": ".literals",
    "ImagePricing": ".account",
    "ImageSize": ".literals",
    "InferenceType": ".literals",
    "Lora": ".lora",
    "LoraParam": ".params",
    "LoraRef": ".generation",
    "MediaType": ".literals",
    "ModelList": ".lists",
    "Pose": ".literals",
    "Pricing": ".account",
    "SizePreset": ".literals",
    "Team": ".account",
    "UnknownEvent": ".events",
    "UploadClassification": ".character",
    "UploadContentType": ".literals",
    "UploadExtension": ".literals",
    "UsageBucket": ".usage",
    "UsageBucketWidth": ".literals",
    "UsageEvent": ".usage",
    "UsageEventType": ".literals",
    "UsageGroup": ".usage",
    "UsageGroupBy": ".literals",
    "UsageMetrics": ".usage",
    "UsageStatus": ".literals",
    "VideoLora": ".lora",
    "VideoPricing": ".account",
    "VideoRatio": ".literals",
    "VideoResolution": ".literals",
    "WebhookEndpoint": ".webhook_endpoint",
    "WebhookEndpointDeleted": ".deleted",
    "WebhookEventType": ".literals",
    "WebhookTestFire": ".webhook_endpoint",
    "parse_callback_payload": ".events",
    "parse_event": ".events",
}

if not TYPE_CHECKING:  # hidden from type checkers: see aurous._lazy
    __getattr__, __dir__ = lazy_attributes(__name__, _SOURCES, __all__)
