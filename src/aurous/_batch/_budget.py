"""What a batch has spent, item by item: the basis of ``max_credits``.

Each item counts once, by index, at its best-known amount:

- a create about to be sent or not answered yet: its estimated price (a reservation);
- a generation created and not finished: the amount it holds (its ``cost``), but never less
  than its estimated price — an answer claiming a smaller hold (``0``, or one a proxy rewrote)
  would otherwise let more creates start than the cap allows, while the generation may yet be
  charged in full;
- a finished generation: its ``cost`` — what was committed, ``0`` when the hold was released;
- a create refused by the API (400, 402, …): nothing; one whose fate is unknown (the
  connection broke, the server failed, the answer could not be read): its price, since the
  generation may exist.

Amounts are replaced, never added, so a resumed run that replays an item's key (the server
answers with the original generation) cannot count it twice; the manifest's records of earlier
runs seed the ledger, so the cap covers the whole batch, not one run. Every amount is finite and
``>= 0``: the models refuse anything else in an answer, and the manifest in a record.
"""

from __future__ import annotations

import decimal as _decimal
from collections.abc import Mapping
from decimal import Decimal

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


_EXACT = _decimal.Context(
    prec=_decimal.MAX_PREC, Emax=_decimal.MAX_EMAX, Emin=_decimal.MIN_EMIN, traps=[]
)
"""Sums of amounts without rounding. In the default context (28 digits) adding 1 to 1e308 and
taking 1e308 away again leaves 0: an item answered with a huge amount, then finished, would
take the others' holds out of the spend. Amounts are at most float-sized (the models check
answers, the manifest its records), so exact sums stay a few hundred digits long."""


def fate_unknown(error: AurousError | None) -> bool:
    """Whether a create that ended with ``error`` may still have made a generation."""
    return isinstance(error, _UNKNOWN_FATE)


def _cost(generation: Generation) -> Decimal | None:
    return decimal(generation.cost.amount) if generation.cost is not None else None


def _held(generation: Generation, price: Decimal | None) -> Decimal:
    """What ``generation`` counts for: its cost once terminal, else at least ``price``."""
    cost = _cost(generation)
    if generation.is_terminal:
        return cost if cost is not None else (price or Decimal(0))
    if cost is None:
        return price or Decimal(0)
    return cost if price is None else max(cost, price)


def _recorded(entry: Entry) -> Decimal:
    """What an item recorded by an earlier run counts for."""
    generation = entry.generation
    if generation is not None:
        return _held(generation, entry.price)
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
        self.prices: dict[int, Decimal] = {}
        """Each item's estimated price: the least a generation not finished counts for."""
        self.total = Decimal(0)
        for index, entry in (entries or {}).items():
            if entry.price is not None:
                self.prices[index] = entry.price
            self.set(index, _recorded(entry))

    def set(self, index: int, amount: Decimal) -> None:
        self.total = _EXACT.add(self.others(index), amount)
        self.amounts[index] = amount

    def others(self, index: int) -> Decimal:
        """The spend of every item but ``index``."""
        return _EXACT.subtract(self.total, self.amounts.get(index, Decimal(0)))

    def reserve(self, index: int, price: Decimal) -> None:
        """Item ``index`` is about to be sent at its estimated ``price``."""
        self.prices[index] = price
        self.set(index, price)

    def fits(self, index: int, price: Decimal) -> bool:
        """Whether starting item ``index`` at ``price`` keeps the batch within the cap."""
        if self.cap is None:
            return True
        return _EXACT.add(self.others(index), price) <= self.cap

    def created(self, index: int, generation: Generation) -> None:
        if generation.cost is not None:
            self.set(index, _held(generation, self.prices.get(index)))

    def finished(
        self,
        index: int,
        price: Decimal | None,
        generation: Generation | None,
        error: AurousError | None,
    ) -> None:
        price = price if price is not None else self.prices.get(index)
        if generation is not None:
            self.set(index, _held(generation, price))
        elif fate_unknown(error):
            self.set(index, price or Decimal(0))
        else:
            self.set(index, Decimal(0))
