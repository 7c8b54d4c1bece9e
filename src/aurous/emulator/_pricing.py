"""The 2026-05-15 rate card and the cost formulas: image = base × count (× the enhance
multiplier), video = base per second × resolution factor × duration."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

__all__ = ["PRICING", "image_cost", "pricing_object", "video_cost"]

IMAGE_BASE = Decimal(1)
ENHANCE_MULTIPLIER = Decimal(2)
REFERENCE_PER_IMAGE = Decimal(0)
VIDEO_BASE_PER_SECOND = Decimal("0.5")
RESOLUTION_FACTOR = {"480p": Decimal(1), "720p": Decimal("1.5"), "1080p": Decimal("2.5")}

PRICING: dict[str, Any] = {
    "object": "pricing",
    "version": "2026-05-15",
    "currency": "credit",
    "description": (
        "Baseline rate card per Aurous-Version. Your team may have negotiated rates or "
        "platform-tuned multipliers that differ from these numbers — call POST "
        "/v1/images/estimate or POST /v1/videos/estimate with the same body you would POST to "
        "/v1/images or /v1/videos for an exact amount before charging."
    ),
    "image": {
        "base": IMAGE_BASE,
        "enhance_prompt_multiplier": ENHANCE_MULTIPLIER,
        "reference_image_per_image": REFERENCE_PER_IMAGE,
    },
    "video": {
        "base_per_second": VIDEO_BASE_PER_SECOND,
        "resolution_factor": dict(RESOLUTION_FACTOR),
    },
}


def pricing_object(version: str) -> dict[str, Any]:
    """``GET /v1/pricing`` for the resolved ``version``."""
    return {**PRICING, "version": version}


def image_cost(count: int, enhance: bool) -> tuple[Decimal, dict[str, Decimal]]:
    """``(amount, breakdown)`` of an image generation."""
    base_total = IMAGE_BASE * count
    amount = base_total * (ENHANCE_MULTIPLIER if enhance else 1)
    breakdown = {"base": base_total}
    if enhance:
        breakdown["enhance"] = amount - base_total
    return amount, breakdown


def video_cost(resolution: str, duration: int) -> tuple[Decimal, dict[str, Decimal]]:
    """``(amount, breakdown)`` of a video generation (resolved inputs)."""
    amount = VIDEO_BASE_PER_SECOND * RESOLUTION_FACTOR[resolution] * duration
    return amount, {"base": amount}


def cost_object(amount: Decimal, breakdown: dict[str, Decimal]) -> dict[str, Any]:
    """The cost object (spec/openapi.yaml, schema ``Cost``)."""
    return {"amount": amount, "currency": "credit", "breakdown": dict(breakdown)}
