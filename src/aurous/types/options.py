"""Per-call request options (`RequestOptions`) and the `NOT_GIVEN` sentinel of update methods."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

import httpx
from typing_extensions import TypedDict

__all__ = ["NOT_GIVEN", "NotGiven", "RequestOptions", "Timeout"]

Timeout = float | httpx.Timeout | None


class NotGiven:
    """Marks an argument that was not passed, where ``None`` has a meaning of its own.

    Used by update methods: ``description=None`` clears a field, while leaving it out keeps it.
    """

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()


class RequestOptions(TypedDict, total=False):
    """Per-call options accepted by every API method."""

    timeout: float | httpx.Timeout | None
    """Override the client's timeout for this call (seconds, or an ``httpx.Timeout``)."""
    extra_headers: Mapping[str, str]
    """Additional HTTP headers to send."""
    extra_query: Mapping[str, Any]
    """Additional query parameters to send."""
    extra_body: Mapping[str, Any]
    """Additional JSON body fields to send (merged over the method's own fields)."""
    max_retries: int
    """Override the client's ``max_retries`` for this call."""
