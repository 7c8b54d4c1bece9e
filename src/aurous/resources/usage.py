"""``client.usage``: usage in time buckets, and per-request usage rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from typing_extensions import Unpack

from .._operations import ModeT, Namespace
from .._pagination import EventPage, PageRequest, TokenPage, page_request, paginated
from .._types import RequestOptions
from ..types import UsageBucket, UsageEvent
from ..types.literals import (
    InferenceType,
    UsageBucketWidth,
    UsageEventType,
    UsageGroupBy,
    UsageStatus,
)

__all__ = ["Usage"]


class Usage(Namespace[ModeT]):
    """Usage reporting: ``client.usage``.

    Times are ``datetime`` objects (naive ones are taken as UTC) or RFC 3339 strings. List filters
    take a sequence (sent comma-separated) or a single value.
    """

    _path = "usage"

    @paginated
    def list(
        self,
        *,
        start_time: datetime | str,
        end_time: datetime | str | None = None,
        bucket_width: UsageBucketWidth | None = None,
        group_by: Sequence[UsageGroupBy] | UsageGroupBy | None = None,
        status: Sequence[UsageStatus] | UsageStatus | None = None,
        type: Sequence[InferenceType] | InferenceType | None = None,
        api_key_id: Sequence[str] | str | None = None,
        user_id: str | None = None,
        lora_id: str | None = None,
        character_id: str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> PageRequest[UsageBucket]:
        """Usage in buckets of ``bucket_width`` (default ``1d``) over ``[start_time, end_time)``.

        Buckets come newest first, empty ones included; iterating pages lazily through
        ``page_token``. ``group_by`` takes at most two of ``status``, ``api_key_id``, ``user_id``,
        ``type`` and ``model``; ``limit`` is buckets per page (1–100, default 24).

        >>> for bucket in client.usage.list(start_time=datetime(2026, 5, 1), bucket_width="1h"):
        ...     print(bucket.bucket_start, bucket.groups)

        Args:
            start_time: Start of the period (a ``datetime`` or an RFC 3339 string), included.
            end_time: End of the period, excluded (default: now).
            bucket_width: ``"1m"``, ``"1h"`` or ``"1d"`` (default ``"1d"``).
            group_by: Split each bucket by up to two of ``status``, ``api_key_id``, ``user_id``,
                ``type`` and ``model``.
            status: Only generations with this status (or any of these).
            type: Only this kind of generation (or any of these).
            api_key_id: Only generations created with this API key (or any of these).
            user_id: Only generations of this user.
            lora_id: Only generations that used this LoRA.
            character_id: Only generations that used this character.
            limit: Buckets per page (1–100, default 24).
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        query = {
            "start_time": start_time,
            "end_time": end_time,
            "bucket_width": bucket_width,
            "group_by": group_by,
            "status": status,
            "type": type,
            "api_key_id": api_key_id,
            "user_id": user_id,
            "lora_id": lora_id,
            "character_id": character_id,
            "limit": limit,
        }
        return page_request(
            "/v1/usage", page=TokenPage, item=UsageBucket, query=query, options=options
        )

    @paginated
    def list_events(
        self,
        *,
        start_time: datetime | str,
        end_time: datetime | str | None = None,
        type: Sequence[UsageEventType] | UsageEventType | None = None,
        status: Sequence[UsageStatus] | UsageStatus | None = None,
        model: str | None = None,
        api_key_id: Sequence[str] | str | None = None,
        user_id: str | None = None,
        lora_id: str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> PageRequest[UsageEvent]:
        """One row per image/video generation created in ``[start_time, end_time)``, newest first.

        Iterating pages lazily through ``cursor`` (the same filters are sent on every page);
        ``limit`` is rows per page (1–500, default 100). ``start_time`` may be at most 730 days
        in the past.

        Args:
            start_time: Start of the period (a ``datetime`` or an RFC 3339 string), included.
            end_time: End of the period, excluded (default: now).
            type: Only this kind of generation (or any of these).
            status: Only generations with this status (or any of these).
            model: Only generations of this model.
            api_key_id: Only generations created with this API key (or any of these).
            user_id: Only generations of this user.
            lora_id: Only generations that used this LoRA.
            limit: Rows per page (1–500, default 100).
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        query = {
            "start_time": start_time,
            "end_time": end_time,
            "type": type,
            "status": status,
            "model": model,
            "api_key_id": api_key_id,
            "user_id": user_id,
            "lora_id": lora_id,
            "limit": limit,
        }
        return page_request(
            "/v1/usage/events", page=EventPage, item=UsageEvent, query=query, options=options
        )
