"""``client.balance``, ``client.pricing`` and ``client.team``: the account, read-only."""

from __future__ import annotations

from typing_extensions import Unpack

from .._call import Call
from .._operations import ModeT, Namespace, Steps, operation, single
from .._types import RequestOptions
from ..types import Balance, Pricing, Team

__all__ = ["BalanceNamespace", "PricingNamespace", "TeamNamespace"]


class BalanceNamespace(Namespace[ModeT]):
    """The team's credits: ``client.balance``."""

    @operation
    def retrieve(self, **options: Unpack[RequestOptions]) -> Steps[Balance]:
        """Credits, held credits and available credits (``GET /v1/balance``)."""
        call = Call("GET", "/v1/balance", parse=Balance.model_validate, options=options)
        return (yield from single(call))


class PricingNamespace(Namespace[ModeT]):
    """The rate card: ``client.pricing``."""

    @operation
    def retrieve(self, **options: Unpack[RequestOptions]) -> Steps[Pricing]:
        """The rate card of the API version in use (``GET /v1/pricing``)."""
        call = Call("GET", "/v1/pricing", parse=Pricing.model_validate, options=options)
        return (yield from single(call))


class TeamNamespace(Namespace[ModeT]):
    """The team behind the API key: ``client.team``."""

    @operation
    def retrieve(self, **options: Unpack[RequestOptions]) -> Steps[Team]:
        """Team id, name, credits and billing mode (``GET /v1/team``)."""
        call = Call("GET", "/v1/team", parse=Team.model_validate, options=options)
        return (yield from single(call))
