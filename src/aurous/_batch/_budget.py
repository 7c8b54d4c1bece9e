"""What a batch has spent, item by item: the basis of ``max_credits``.

Each item counts once, by index, at its best-known amount:

- a create about to be sent or not answered yet: its estimated price (a reservation);
- a generation created and not finished: the amount it holds (its ``cost``);
- a finished generation: its ``cost`` — what was committed, ``0`` when the hold was released;
- a create refused by the API (400, 402, …): nothing; one whose fate is unknown (the
  connection broke, the server failed, the answer could not be read): its price, since the
  generation may exist.

Amounts are replaced, never added, so a resumed run that replays an item's key (the server
answers with the original generation) cannot count it twice; the manifest's records of earlier
runs seed the ledger, so the cap covers the whole batch, not one run.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .._errors import (
    APIConnectionError,
    APIResponseValidationError,
    AurousError,
    IdempotencyKeyInUseError,
    ServerError,
)
from ..types import Generation
from ._manifest import Entry
from ._pricing import decimal

__all__ = ["Ledger", "fate_unknown"]

_UNKNOWN_FATE = (
    APIConnectionError,
    ServerError,
    IdempotencyKeyInUseError,
    APIResponseValidationError,
)
_UNKNOWN_FATE_NAMES = frozenset(
    {"APIConnectionError", "APITimeoutError", "ServerError", "IdempotencyKeyInUseError",
     "APIResponseValidationError"}
)  # fmt: skip


def fate_unknown(error: AurousError | None) -> bool:
    """Whether a create that ended with ``error`` may still have made a generation."""
    return isinstance(error, _UNKNOWN_FATE)


def _cost(generation: Mapping[str, Any] | Generation) -> Decimal | None:
    if isinstance(generation, Generation):
        return decimal(generation.cost.amount) if generation.cost is not None else None
    cost = generation.get("cost")
    amount = cost.get("amount") if isinstance(cost, Mapping) else None
    return decimal(amount) if isinstance(amount, (int, float)) else None


def _recorded(entry: Entry) -> Decimal:
    """What an item recorded by an earlier run counts for."""
    if entry.generation:
        cost = _cost(entry.generation)
        if cost is not None:
            return cost
        return entry.price if entry.price is not None else Decimal(0)
    # No generation known: unless its create may have been sent and answered unseen, it holds
    # nothing.
    error = entry.error
    refused = error is not None and error.get("class") not in _UNKNOWN_FATE_NAMES
    if not entry.started or refused or entry.price is None:
        return Decimal(0)
    return entry.price


class Ledger:
    """Per-item amounts and their sum, against an optional cap."""

    def __init__(self, cap: Decimal | None, entries: Mapping[int, Entry] | None = None) -> None:
        self.cap = cap
        self.amounts: dict[int, Decimal] = {}
        self.total = Decimal(0)
        for index, entry in (entries or {}).items():
            self.set(index, _recorded(entry))

    def set(self, index: int, amount: Decimal) -> None:
        self.total += amount - self.amounts.get(index, Decimal(0))
        self.amounts[index] = amount

    def fits(self, index: int, price: Decimal) -> bool:
        """Whether starting item ``index`` at ``price`` keeps the batch within the cap."""
        if self.cap is None:
            return True
        return self.total - self.amounts.get(index, Decimal(0)) + price <= self.cap

    def created(self, index: int, generation: Generation) -> None:
        cost = _cost(generation)
        if cost is not None:
            self.set(index, cost)

    def finished(
        self,
        index: int,
        price: Decimal | None,
        generation: Generation | None,
        error: AurousError | None,
    ) -> None:
        if generation is not None:
            cost = _cost(generation)
            self.set(index, cost if cost is not None else (price or Decimal(0)))
        elif fate_unknown(error):
            self.set(index, price or Decimal(0))
        else:
            self.set(index, Decimal(0))
