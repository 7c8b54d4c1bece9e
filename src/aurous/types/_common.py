"""Field types shared by the resource models: timestamps and numbers that serialise like the API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, TypeAlias

from pydantic import AfterValidator, PlainSerializer

__all__ = ["Number", "Timestamp", "format_timestamp"]

_ZERO = timedelta(0)
_EXACT_FLOAT_INT_LIMIT = 2**53


def _as_aware(value: datetime) -> datetime:
    # The API speaks UTC; a timestamp without an offset can only mean UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def format_timestamp(value: datetime) -> str:
    """Write ``value`` in RFC 3339 as the API does: ``Z`` for UTC, fraction only when non-zero."""
    if value.microsecond == 0:
        timespec = "seconds"
    elif value.microsecond % 1000 == 0:
        timespec = "milliseconds"
    else:
        timespec = "microseconds"
    offset = value.utcoffset()
    if offset is None or offset == _ZERO:
        return value.replace(tzinfo=None).isoformat(timespec=timespec) + "Z"
    return value.isoformat(timespec=timespec)


def _compact_number(value: float) -> float | int:
    # The API writes whole amounts without a fraction (``2``, not ``2.0``); do the same so
    # ``to_json()`` reproduces what the server sent.
    if value.is_integer() and abs(value) < _EXACT_FLOAT_INT_LIMIT:
        return int(value)
    return value


Timestamp: TypeAlias = Annotated[
    datetime,
    AfterValidator(_as_aware),
    PlainSerializer(format_timestamp, return_type=str, when_used="json"),
]
"""A timezone-aware datetime, read from and written back to RFC 3339 (``Z`` for UTC)."""

Number: TypeAlias = Annotated[
    float,
    PlainSerializer(_compact_number, return_type=Any, when_used="json"),
]
"""A JSON number held as ``float`` (credits, rates, percentiles); whole values serialise as ints."""
