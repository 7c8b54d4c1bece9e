"""``client.balance``, ``client.pricing`` and ``client.team``: the account, read-only."""

from __future__ import annotations

from typing_extensions import Unpack

from .._operations import ModeT, Namespace, operation
from .._requests import request
from .._steps import Steps
from .._types import RequestOptions
from ..types import Balance, Pricing, Team

__all__ = ["BalanceNamespace", "PricingNamespace", "TeamNamespace"]


class BalanceNamespace(Namespace[ModeT]):
    """The team's credits: ``client.balance``."""

    _path = "balance"

    @operation
    def retrieve(self, **options: Unpack[RequestOptions]) -> Steps[Balance]:
        """Credits, held credits and available credits (``GET /v1/balance``).

        Args:
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        return (yield from request("GET", "/v1/balance", Balance, options))


class PricingNamespace(Namespace[ModeT]):
    """The rate card: ``client.pricing``."""

    _path = "pricing"

    @operation
    def retrieve(self, **options: Unpack[RequestOptions]) -> Steps[Pricing]:
        """The rate card of the API version in use (``GET /v1/pricing``).

        Args:
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        return (yield from request("GET", "/v1/pricing", Pricing, options))


class TeamNamespace(Namespace[ModeT]):
    """The team behind the API key: ``client.team``."""

    _path = "team"

    @operation
    def retrieve(self, **options: Unpack[RequestOptions]) -> Steps[Team]:
        """Team id, name, credits and billing mode (``GET /v1/team``).

        Args:
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        return (yield from request("GET", "/v1/team", Team, options))
