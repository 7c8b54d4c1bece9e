"""Turning API values into short, readable text for tables and messages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ..types import Cost, Generation

__all__ = [
    "amount",
    "cost",
    "elapsed",
    "generation_summary",
    "number",
    "shorten",
    "timestamp",
    "yes_no",
]


def number(value: float | int | Decimal | None) -> str:
    """A number without a needless fraction: ``2``, ``2.5``, ``1019.49``; ``-`` for None."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def amount(value: float | int | Decimal | None, currency: str | None = "credit") -> str:
    """``1 credit``, ``2.5 credits``; the unit follows the API's ``currency``."""
    if value is None:
        return "-"
    unit = currency or "credit"
    plural = unit if unit != "credit" or value == 1 else "credits"
    return f"{number(value)} {plural}"


def cost(value: Cost | None) -> str:
    """A generation's or estimate's cost, e.g. ``2 credits (base 1, enhance 1)``."""
    if value is None:
        return "-"
    text = amount(value.amount, value.currency)
    if len(value.breakdown) > 1:
        parts = ", ".join(f"{name} {number(part)}" for name, part in value.breakdown.items())
        text += f" ({parts})"
    return text


def timestamp(value: dt.datetime | None) -> str:
    """``2026-05-20 10:00:14Z`` (UTC), or ``-``."""
    if value is None:
        return "-"
    utc = value.astimezone(dt.timezone.utc) if value.tzinfo else value
    return utc.strftime("%Y-%m-%d %H:%M:%SZ")


def elapsed(seconds: float) -> str:
    """``4.2s``, ``3m05s``, ``1h02m``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def shorten(text: str | None, width: int = 48) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    if not text:
        return "-"
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def yes_no(value: Any) -> str:
    """``yes`` / ``no`` for booleans, ``-`` for None."""
    if value is None:
        return "-"
    return "yes" if value else "no"


def generation_summary(generation: Generation) -> str:
    """One line: ``img_… succeeded · 2048x1152 · 1 credit``."""
    parts = [generation.id, str(generation.status)]
    if generation.width and generation.height:
        parts.append(f"{generation.width}x{generation.height}")
    if generation.video_duration:
        parts.append(f"{generation.video_duration}s {generation.video_resolution or ''}".strip())
    if generation.cost is not None:
        parts.append(cost(generation.cost))
    return " · ".join(parts)
