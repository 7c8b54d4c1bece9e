"""Pricing many requests with few API calls: the rate card where it is exact, else one estimate
per price class.

The API's pricing rules (``GET /v1/pricing`` and ``spec/openapi.yaml``): an image costs
``image.base × count``, times ``image.enhance_prompt_multiplier`` with ``enhance_prompt``; nothing
else in the request changes it (references are priced at ``image.reference_image_per_image``,
``0`` on the current card). A video costs ``video.base_per_second ×
video.resolution_factor[resolution] × duration`` with the *resolved* resolution and duration:
the request's, else the video LoRA's defaults, else ``720p`` and 5 s.

So requests fall into *price classes* (images: count and enhance; videos: LoRA, resolution and
duration) and one price serves a whole class. The card gives it without a request when the
inputs are all known: always for images, and for videos that set both ``resolution`` and
``duration`` or use no LoRA. A video that leaves them to its LoRA's defaults is priced by the
estimate endpoint, once per class. Teams may have negotiated rates the card does not show, so
the first price taken from the card is checked against the estimate endpoint; if they differ,
every class is priced by the endpoint from then on.

`PriceBook` holds what is known; `PriceBook.steps` is an IO-free step generator that learns the
price of one request (the card, the check, or an estimate call), so the batch engine and
``estimate_batch`` share it.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Hashable, Mapping
from decimal import Decimal
from typing import Any

from .._call import Call
from .._requests import check_image_body, check_video_body, estimate_call, request
from .._steps import Steps
from .._types import RequestOptions
from ..types import Estimate, Pricing
from ._requests import Media

__all__ = ["PriceBook", "amount_of", "credits_text", "decimal"]

_IMAGE_RATES = frozenset({"base", "enhance_prompt_multiplier", "reference_image_per_image"})
_VIDEO_RATES = frozenset({"base_per_second", "resolution_factor"})
_DEFAULT_RESOLUTION = "720p"
_DEFAULT_DURATION = 5


def decimal(value: float | int | Decimal) -> Decimal:
    """A credit amount as an exact decimal (through its shortest repr, so 3.75 stays 3.75)."""
    return value if isinstance(value, Decimal) else Decimal(repr(value))


def credits_text(value: Decimal) -> str:
    """An amount as people and the API write it: ``1``, ``3.75`` (not ``1.0``, ``1E+1``)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def amount_of(estimate: Estimate) -> Decimal:
    return decimal(estimate.estimated_cost.amount)


def _number(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)


def _estimate(amount: Decimal, breakdown: Mapping[str, Decimal]) -> Estimate:
    return Estimate.model_validate(
        {
            "object": "estimate",
            "estimated_cost": {
                "amount": _number(amount),
                "currency": "credit",
                "breakdown": {k: _number(v) for k, v in breakdown.items()},
            },
            "currency": "credit",
        }
    )


@dataclasses.dataclass
class PriceBook:
    """The prices one batch (or one preview) has learned, by price class."""

    media: Media
    use_rate_card: bool = True
    card: Pricing | None = None
    card_trusted: bool | None = None
    """None until a card price was checked against the estimate endpoint."""
    prices: dict[Hashable, Estimate] = dataclasses.field(default_factory=dict)
    estimate_calls: int = 0
    card_calls: int = 0
    card_classes: set[Hashable] = dataclasses.field(default_factory=set)
    """Price classes priced from the card (without an estimate call of their own)."""

    # ---- price classes -------------------------------------------------------------------------
    def key(self, request: Mapping[str, Any]) -> Hashable:
        """The inputs that decide the price of ``request`` (equal keys: equal prices)."""
        extra = request.get("extra_body")
        # extra_body may carry anything the server prices: such requests are priced one by one.
        tail = json.dumps(extra, sort_keys=True, default=str) if extra else None
        if self.media == "video":
            lora = request.get("video_lora_id")
            resolution = request.get("resolution")
            duration = request.get("duration")
            if lora is None:
                resolution = resolution or _DEFAULT_RESOLUTION
                duration = duration if duration is not None else _DEFAULT_DURATION
            return ("video", lora, resolution, duration, tail)
        references = request.get("reference_image_urls") or ()
        # References are free on the current card; counted only where the card says otherwise.
        counted = len(references) if self._references_priced() else None
        count = request.get("count")
        return (
            "image",
            1 if count is None else count,
            bool(request.get("enhance_prompt")),
            counted,
            tail,
        )

    def _references_priced(self) -> bool:
        return self.card is None or self.card.image.reference_image_per_image != 0

    # ---- prices without a request ----------------------------------------------------------------
    def known(self, request: Mapping[str, Any]) -> Estimate | None:
        """The price of ``request`` if it is known without asking the API, else None."""
        key = self.key(request)
        found = self.prices.get(key)
        if found is not None:
            return found
        if self.card_trusted:
            priced = self._from_card(request)
            if priced is not None:
                self.prices[key] = priced
                self.card_classes.add(key)
                return priced
        return None

    def _from_card(self, request: Mapping[str, Any]) -> Estimate | None:
        """The card's price for ``request``, or None where the card does not settle it."""
        card = self.card
        if card is None or request.get("extra_body"):
            return None
        if self.media == "image":
            rates = card.image
            if set(rates.model_extra or {}) - _IMAGE_RATES:
                return None  # a rate this SDK does not know might apply
            if request.get("reference_image_urls") and rates.reference_image_per_image != 0:
                return None
            count = request.get("count")
            base = decimal(rates.base) * (1 if count is None else count)
            if not request.get("enhance_prompt"):
                return _estimate(base, {"base": base})
            amount = base * decimal(rates.enhance_prompt_multiplier)
            return _estimate(amount, {"base": base, "enhance": amount - base})
        video = card.video
        if set(video.model_extra or {}) - _VIDEO_RATES:
            return None
        lora = request.get("video_lora_id")
        resolution = request.get("resolution")
        duration = request.get("duration")
        if lora is not None and (resolution is None or duration is None):
            return None  # the LoRA's defaults decide; only the endpoint knows them
        resolution = resolution or _DEFAULT_RESOLUTION
        duration = _DEFAULT_DURATION if duration is None else duration
        factor = video.resolution_factor.get(resolution)
        if factor is None:
            return None
        amount = decimal(video.base_per_second) * decimal(factor) * duration
        return _estimate(amount, {"base": amount})

    # ---- prices that need the API ----------------------------------------------------------------
    def steps(self, request: Mapping[str, Any], *, patient: bool = False) -> Steps[Estimate]:
        """Learn the price of ``request``: fetch the card, check it, or ask the estimate endpoint.

        ``patient``: wait for rate limits as long as it takes (a batch) instead of the client's
        ``max_rate_limit_wait``.
        """
        found = self.known(request)
        if found is not None:
            return found
        if self.use_rate_card and self.card is None:
            call = request_card()
            if patient:
                call.max_rate_limit_wait = math.inf
            self.card = yield from call
            self.card_calls += 1
            found = self.known(request)  # a resumed preview may already trust the card
            if found is not None:
                return found
        carded = self._from_card(request) if self.use_rate_card else None
        if carded is not None and self.card_trusted is False:
            carded = None
        asked = yield from self._ask(request, patient)
        if carded is not None:
            # The first card price meets the endpoint's: agreement means the card is this team's.
            self.card_trusted = math.isclose(
                float(amount_of(carded)), float(amount_of(asked)), rel_tol=1e-9, abs_tol=1e-9
            )
        self.prices[self.key(request)] = asked
        return asked

    def _ask(self, request: Mapping[str, Any], patient: bool) -> Steps[Estimate]:
        args = {k: v for k, v in request.items() if k != "idempotency_key"}
        if self.media == "video":
            call = estimate_call("/v1/videos/estimate", args, check_video_body)
        else:
            call = estimate_call("/v1/images/estimate", args, check_image_body)
        if patient:
            call.max_rate_limit_wait = math.inf
        estimate: Estimate = yield from call
        self.estimate_calls += 1
        return estimate


def request_card() -> Call[Pricing]:
    """The call of ``GET /v1/pricing``."""
    return request("GET", "/v1/pricing", Pricing, RequestOptions())
