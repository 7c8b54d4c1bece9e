"""Drill: answers whose amounts are not money, against a batch with ``max_credits``.

A batch of 12 images, 4 at a time, under ``max_credits=3``, on the emulator (which bills 1 credit
per image). A wrapping transport rewrites ``cost.amount`` in the answers to the creates, or in
the answers to the polls: NaN, infinity, a negative amount, a huge one (1e308), or a hold of 0
(smaller than the estimate; rewritten only while the generation runs, since a finished
generation's cost is what was charged). The batch must return results — every failure an
`aurous.AurousError` of its item, an unreadable answer an `aurous.APIResponseValidationError` —
and the emulator must have charged no more than the cap.
"""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest

import aurous
from aurous.emulator import Emulator

from ._support import Both, Corrupt, body, charged, generation_rows
from .conftest import Figures

ITEMS = [f"a budget under attack, item {i}" for i in range(12)]
CAP = 3
AMOUNTS = {"NaN": math.nan, "infinity": math.inf, "negative": -5.0, "1e308": 1e308, "hold 0": 0.0}


def _rewriting(amount: float, where: str) -> Any:
    def pick(request: httpx.Request) -> bool:
        create = request.method == "POST" and request.url.path == "/v1/images"
        poll = request.method == "GET" and request.url.path.startswith("/v1/images/")
        return create if where == "create" else poll

    def replace(response: httpx.Response) -> httpx.Response:
        data = json.loads(response.content)
        running = data.get("status") in ("pending", "queued", "processing")
        if data.get("object") == "inference" and (amount != 0 or running):
            data["cost"] = {**data["cost"], "amount": amount}
            if amount == 0:
                data["cost"]["breakdown"] = {"base": 0}
        headers = {
            name: value
            for name, value in response.headers.items()
            if name.lower() not in ("content-length", "content-encoding")
        }
        return body(response.status_code, json.dumps(data).encode(), headers)

    return lambda inner: Corrupt(inner, pick, replace, times=None)


@pytest.mark.parametrize("where", ["create", "poll"])
@pytest.mark.parametrize("amount", list(AMOUNTS))
def test_amounts(amount: str, where: str, both: Both, figures: Figures) -> None:
    # A hold of 0 needs generations that run for a while; the others finish on the first poll.
    emu = Emulator(clock="manual", rate_limits=False, instant=amount != "hold 0")
    client = both.emulated(emu, wrap=_rewriting(AMOUNTS[amount], where))
    results = both(client.images.batch(ITEMS, concurrency=4, max_credits=CAP))

    assert len(results) == len(ITEMS)
    unreadable = 0
    for result in results:
        assert result.error is None or isinstance(result.error, aurous.AurousError)
        if isinstance(result.error, aurous.APIResponseValidationError):
            if where == "create":  # (a poll has no key to carry)
                assert result.error.idempotency_key == result.idempotency_key
            unreadable += 1
    spent = charged(emu)
    assert spent <= CAP
    figures.add(
        batches=1,
        items=len(ITEMS),
        unreadable_answers=unreadable,
        generations=len(generation_rows(emu)),
        credits_charged=spent,
        credits_allowed=CAP,
        over_the_cap=max(0.0, spent - CAP),
    )
    emu.close()
