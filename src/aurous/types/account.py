"""Account resources: the team's balance, the price card and the team itself."""

from __future__ import annotations

from .._models import AurousModel
from ._common import Credits, FiniteCredits, Timestamp
from .literals import BillingMode, Currency

__all__ = ["Balance", "ImagePricing", "Pricing", "Team", "VideoPricing"]


class Balance(AurousModel):
    """The team's credit balance (``GET /v1/balance``; also the data of ``usage.balance_low``)."""

    credits: FiniteCredits
    """Total credits: ``available_credits + held_credits``."""
    held_credits: Credits
    """Credits held for generations that have not finished yet."""
    available_credits: FiniteCredits
    """``credits - held_credits``: what new paid requests are checked against. Below zero when
    more is held than the team has."""
    currency: Currency
    """``"credit"``."""
    billing_mode: BillingMode
    """``"metered"`` (charged, blocked when short of credits) or ``"exempt"`` (never charged or
    blocked). Treat unknown values as not blocking."""


class ImagePricing(AurousModel):
    """Image rates of the price card."""

    base: Credits
    """Credits per image."""
    enhance_prompt_multiplier: Credits
    """Price multiplier applied when ``enhance_prompt`` is true."""
    reference_image_per_image: Credits
    """Credits per reference image and output image."""


class VideoPricing(AurousModel):
    """Video rates of the price card."""

    base_per_second: Credits
    """Credits per second of video, before the resolution factor."""
    resolution_factor: dict[str, Credits]
    """Multiplier per resolution, e.g. ``{"480p": 1, "720p": 1.5, "1080p": 2.5}``."""


class Pricing(AurousModel):
    """The baseline price card of an API version (``object: "pricing"``).

    Negotiated rates may differ; use the estimate endpoints for exact amounts.
    """

    object: str = "pricing"
    """Always ``"pricing"``."""
    version: str
    """The API version the card belongs to (equals the ``Aurous-Version`` response header)."""
    currency: Currency
    """``"credit"``."""
    description: str
    """Explanatory text."""
    image: ImagePricing
    """Image rates."""
    video: VideoPricing
    """Video rates."""


class Team(AurousModel):
    """The team the API key belongs to."""

    id: str
    """``team_…``; stable when the team is renamed."""
    name: str
    """The team's name."""
    credits: FiniteCredits
    """Total credits (the same value as ``Balance.credits``)."""
    created_at: Timestamp
    """When the team was created."""
    billing_mode: BillingMode
    """``"metered"`` or ``"exempt"``; see :class:`Balance`."""
    billing_email: str | None = None
    """The billing contact address, if any."""
