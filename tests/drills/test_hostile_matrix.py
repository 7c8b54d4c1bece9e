"""Drill: every hostile answer shape against every kind of call, on both clients (issue 24).

`_hostile.SHAPES` (the 30 shapes of `test_bad_responses` and the second round: rate-limit figures
of ``inf``/``1e999``, redirects to ``javascript:``/``data:``/``mailto:``, broken gzip on error
statuses, bodies past ``max_response_size``, cursors no client can follow, lone surrogates, bad
money, bodies that break off, odd content types …) are served to `_hostile.VARIANTS` (every
namespace; creates, ``create_and_wait`` with its create or its polls answered badly, ``wait``,
first and later pages of each cursor scheme, downloads). The rule, case by case:

- the call returns a model or raises an `aurous.AurousError` — never another exception;
- an error after a create (or an upload) was sent carries its idempotency key, and an error of
  ``create_and_wait`` after its create was answered also the generation;
- where the answer calls for one, the error has its class (an unreadable 2xx:
  `aurous.APIResponseValidationError`; a 404: `aurous.NotFoundError` …), and answers the SDK
  must read (odd rate-limit figures, no Content-Type) give a model.

The whole matrix is ``slow``; the default run takes a sample in which every shape and every
variant appears.
"""

from __future__ import annotations

import collections
import itertools
from pathlib import Path
from typing import Any

import pytest

import aurous

from ._hostile import LIMIT, OK, SHAPES, VARIANTS, Shape, Variant, server
from ._support import Both
from .conftest import Figures


class _Instant:
    """A clock whose sleeps take no time: backoffs and rate-limit waits of the matrix are free."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)

    async def asleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def run_case(both: Both, shape: Shape, variant: Variant, scratch: Path) -> BaseException | Any:
    """The call's result, or the exception it raised."""
    client = both.hostile(server(shape, variant), max_response_size=LIMIT)
    client._set_clock(_Instant())
    try:
        return variant.run(client, both, scratch)
    except Exception as error:
        return error
    finally:
        both(client.close())
        both.clients.remove(client)


def problems(shape: Shape, variant: Variant, outcome: Any) -> list[str]:
    """What is wrong with ``outcome`` (empty: the case passes)."""
    found: list[str] = []
    error = outcome if isinstance(outcome, BaseException) else None
    if error is not None and not isinstance(error, aurous.AurousError):
        return [f"raw {type(error).__module__}.{type(error).__name__}: {error}"[:300]]
    if isinstance(error, aurous.AurousError):
        if variant.keyed and not getattr(error, "idempotency_key", None):
            found.append(f"{type(error).__name__} without the idempotency key: {error}"[:300])
        if variant.polls and getattr(error, "generation", None) is None:
            found.append(f"{type(error).__name__} without the generation: {error}"[:300])
    expect = shape.expect
    if variant.parses and not shape.money and variant.name not in shape.unless:
        if expect == OK and error is not None:
            found.append(f"expected a model, got {type(error).__name__}: {error}"[:300])
        elif isinstance(expect, (type, tuple)) and not isinstance(error, expect):
            found.append(f"expected {expect}, got {outcome!r:.200}")
    return found


def _sweep(
    both: Both, cases: list[tuple[Shape, Variant]], tmp_path: Path, figures: Figures
) -> None:
    failures: list[str] = []
    kinds: collections.Counter[str] = collections.Counter()
    keyed = 0
    for n, (shape, variant) in enumerate(cases):
        outcome = run_case(both, shape, variant, tmp_path / str(n))
        kinds["model" if not isinstance(outcome, BaseException) else type(outcome).__name__] += 1
        if isinstance(outcome, aurous.AurousError) and variant.keyed:
            keyed += 1
        failures += [
            f"{shape.name} × {variant.name}: {p}" for p in problems(shape, variant, outcome)
        ]
    raw = sum(1 for f in failures if ": raw " in f)
    figures.add(
        cases=len(cases),
        raw_exceptions=raw,
        models=kinds.pop("model", 0),
        typed_errors=sum(kinds.values()),
        errors_after_a_create_with_their_key=keyed,
        problems=len(failures),
    )
    assert not failures, f"{len(failures)} of {len(cases)} cases:\n" + "\n".join(failures[:60])


def test_the_matrix_is_as_large_as_the_issue_asks() -> None:
    assert len(SHAPES) >= 56
    assert len(VARIANTS) >= 25
    assert len({s.name for s in SHAPES}) == len(SHAPES)
    assert len({v.name for v in VARIANTS}) == len(VARIANTS)


def _sample() -> list[tuple[Shape, Variant]]:
    """Every shape twice and every variant at least twice, spread over the matrix."""
    count = len(VARIANTS)
    picked = []
    for n, shape in enumerate(SHAPES):
        picked.append((shape, VARIANTS[n % count]))
        picked.append((shape, VARIANTS[(n * 7 + 3) % count]))
    return picked


def test_a_sample_of_the_matrix(both: Both, tmp_path: Path, figures: Figures) -> None:
    _sweep(both, _sample(), tmp_path, figures)


@pytest.mark.slow
def test_the_whole_matrix(both: Both, tmp_path: Path, figures: Figures) -> None:
    _sweep(both, list(itertools.product(SHAPES, VARIANTS)), tmp_path, figures)


CHARGES = [
    "images.retrieve",
    "images.create",
    "videos.create",
    "images.estimate",
    "images.create_and_wait (its polls)",
    "images.wait",
]
"""Variants whose answers carry what a generation costs (``cost.amount``, ``estimated_cost``)."""


@pytest.mark.parametrize(
    "variant", [v for v in VARIANTS if v.name in CHARGES], ids=lambda v: v.name
)
@pytest.mark.parametrize("shape", [s for s in SHAPES if s.money], ids=lambda s: s.name)
def test_a_charge_no_budget_can_add_up_is_refused(
    both: Both, shape: Shape, variant: Variant, tmp_path: Path
) -> None:
    # Depends on the money types (``Credits``: finite, >= 0) of ``aurous.types``: a batch budget
    # adds these up, and a NaN or a negative charge would defeat it.
    outcome = run_case(both, shape, variant, tmp_path)
    assert isinstance(outcome, aurous.APIResponseValidationError), repr(outcome)
    if variant.keyed:
        assert outcome.idempotency_key
