"""The estimate resource (``object: "estimate"``): what a generation would cost."""

from __future__ import annotations

from .._models import AurousModel
from .generation import Cost
from .literals import Currency

__all__ = ["Estimate"]


class Estimate(AurousModel):
    """The price an equivalent create request would be charged. Nothing is held or created."""

    object: str = "estimate"
    """Always ``"estimate"``."""
    estimated_cost: Cost
    """The amount in credits and its breakdown."""
    currency: Currency
    """``"credit"``."""
