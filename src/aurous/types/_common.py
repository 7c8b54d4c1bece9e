"""Field types shared by the resource models: timestamps and numbers that serialise like the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, cast

from pydantic import AfterValidator, Field
from pydantic_core import core_schema

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler

__all__ = ["Credits", "FiniteCredits", "Number", "Timestamp", "format_timestamp"]

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


class _InJson:
    """``Annotated`` metadata: in JSON, a value is written by ``function``.

    What ``pydantic.PlainSerializer(function, return_type=..., when_used="json")`` does, built
    from ``pydantic_core`` directly: importing ``pydantic.functional_serializers`` (which nothing
    else loads for a plain model) was a tenth of what reading a `Generation` costs on top of
    pydantic's own first model.
    """

    __slots__ = ("function", "returns")

    def __init__(self, function: Callable[[Any], Any], returns: core_schema.CoreSchema) -> None:
        self.function = function
        self.returns = returns

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        schema = dict(handler(source))
        schema["serialization"] = core_schema.plain_serializer_function_ser_schema(
            self.function, info_arg=False, return_schema=self.returns, when_used="json"
        )
        return cast("core_schema.CoreSchema", schema)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.function.__name__})"


_AS_RFC_3339 = _InJson(format_timestamp, core_schema.str_schema())
_COMPACT = _InJson(_compact_number, core_schema.any_schema())

Timestamp: TypeAlias = Annotated[datetime, AfterValidator(_as_aware), _AS_RFC_3339]
"""A timezone-aware datetime, read from and written back to RFC 3339 (``Z`` for UTC)."""

Number: TypeAlias = Annotated[float, _COMPACT]
"""A JSON number held as ``float`` (credits, rates, percentiles); whole values serialise as ints."""

Credits: TypeAlias = Annotated[float, Field(ge=0, allow_inf_nan=False), _COMPACT]
"""An amount charged, held or priced, or a rate: a finite number ``>= 0``.

The batch budget adds these up against ``max_credits``: a NaN would make every comparison fail
and a negative amount would lower the spend, so an answer carrying one cannot be read (it is an
`aurous.APIResponseValidationError`) rather than trusted."""

FiniteCredits: TypeAlias = Annotated[float, Field(allow_inf_nan=False), _COMPACT]
"""A balance, or a part of a price: finite, and possibly negative.

A team's ``credits`` and ``available_credits`` can be below zero (the emulator gets there when
the balance is lowered under what is held) and a breakdown part may be an adjustment; neither
is added to a budget's spend, and a lower balance only makes the SDK more careful."""
