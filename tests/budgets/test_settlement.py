"""A hold settles to what the generation charged, or is released when nothing was: for every
terminal status, whoever sees the generation end, and whatever happened to the create."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import httpx
import pytest

import aurous
from tests.conftest import API, KEY, fixture

from .conftest import Bench


def _ended(bench: Bench, client: Any, generation_id: str) -> aurous.Generation:
    return bench(client.images.wait(generation_id, poll_interval=0.5))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("status", "error_message"),
    [
        ("failed", "internal_error"),
        ("expired", "provider_timeout"),
        ("moderation_rejected", "output_moderation_rejected"),
        ("failed", "output_moderation_rejected"),
    ],
)
def test_a_generation_ending_without_output_releases_its_hold(
    bench: Bench, status: str, error_message: str
) -> None:
    client = bench.client()
    budget = aurous.Budget(max_credits=10)
    mine = client.with_options(budget=budget, tags={"user": "42"})
    bench.emu.faults.fail_generation(status=status, error_message=error_message)
    created = bench(mine.images.create(prompt="x", count=3))
    assert (budget.held, budget.spent) == (3, 0)
    ended = _ended(bench, mine, created.id)
    assert ended.status == status
    assert (budget.held, budget.spent, budget.remaining) == (0, 0, 10)
    [entry] = budget.entries
    assert (entry.generation_id, entry.held, entry.charged, entry.open) == (
        created.id,
        3,
        0,
        False,
    )
    assert bench.emu.team.balance()["credits"] == Decimal(1000)  # the API charged nothing too


def test_a_cancelled_generation_releases_its_hold(bench: Bench) -> None:
    client = bench.client()
    budget = aurous.Budget(max_credits=10)
    mine = client.with_options(budget=budget)
    created = bench(mine.images.create(prompt="x", count=2))
    cancelled = bench(client.images.cancel(created.id))  # the answer of the cancel settles it
    assert cancelled.status == "cancelled"
    assert (budget.held, budget.spent) == (0, 0)
    assert budget.entries[0].charged == 0


def test_a_succeeded_generation_settles_to_its_charge(bench: Bench) -> None:
    client = bench.client()
    budget = aurous.Budget(max_credits=10)
    mine = client.with_options(budget=budget, tags={"user": "42", "plan": "pro"})
    done = bench(mine.images.create_and_wait(prompt="x", count=2, enhance_prompt=True))
    assert done.cost is not None
    charged = done.cost.amount
    assert (budget.spent, budget.held, budget.remaining) == (charged, 0, 10 - charged)
    [entry] = budget.entries
    assert entry.charged == charged
    assert entry.tags == {"user": "42", "plan": "pro"}
    assert budget.by_tag("user") == {"42": charged}
    assert budget.by_tag() == {"user": {"42": charged}, "plan": {"pro": charged}}
    assert bench.emu.team.balance()["credits"] == Decimal(1000) - Decimal(repr(charged))


def test_a_generation_nobody_waits_on_settles_when_any_call_sees_it_end(bench: Bench) -> None:
    client = bench.client()
    budget = aurous.Budget(max_credits=10)
    mine = client.with_options(budget=budget, tags={"user": "1"})
    first = bench(mine.images.create(prompt="one"))
    second = bench(mine.images.create(prompt="two", count=2))
    assert budget.by_tag("user") == {"1": 3}  # held counts under the tag too
    bench.emu.advance(120)
    # A page of the plain client (no budget of its own) shows both ended.
    page = bench(client.images.list(limit=10))
    assert {g.id for g in page.data} >= {first.id, second.id}
    assert (budget.held, budget.spent) == (0, 3)
    assert budget.by_tag("user") == {"1": 3}
    assert [e.open for e in budget.entries] == [False, False]


def test_settle_takes_a_generation_learned_of_elsewhere(bench: Bench) -> None:
    client = bench.client()
    budget = aurous.Budget(max_credits=10)
    mine = client.with_options(budget=budget)
    created = bench(mine.images.create(prompt="x"))
    assert budget.settle(created) is False  # not ended: nothing to settle
    bench.emu.advance(120)
    ended = bench.emu.client().images.retrieve(created.id)  # another client saw it
    assert budget.held == 1
    assert budget.settle(ended) is True
    assert (budget.held, budget.spent) == (0, 1)
    assert budget.settle(ended) is False
    with pytest.raises(TypeError, match=r"takes an aurous\.Generation"):
        budget.settle(created.id)


def test_a_refused_create_releases_its_hold(make_bench: Any) -> None:
    bench: Bench = make_bench(credits=2)
    client = bench.client()
    budget = aurous.Budget(max_credits=10)
    mine = client.with_options(budget=budget)
    bench(mine.images.create(prompt="priced from the card from now on"))
    with pytest.raises(aurous.NotFoundError):
        bench(mine.images.create(prompt="x", lora_id="no-such-lora"))
    with pytest.raises(aurous.InsufficientBalanceError):
        bench(mine.images.create(prompt="x", count=4))
    assert budget.held == 1
    assert [e.charged for e in budget.entries] == [0, 0, None]


def test_an_unknown_outcome_keeps_the_hold_until_the_key_is_replayed(bench: Bench) -> None:
    client = bench.client(max_retries=1)
    budget = aurous.Budget(max_credits=10)
    mine = client.with_options(budget=budget)
    bench(mine.images.create(prompt="warm the price book"))
    # Committed by the server, but every attempt's answer is lost in a 503.
    bench.emu.faults.fail_next("POST /v1/images", status=503, times=2, after_commit=True)
    with pytest.raises(aurous.ServerError) as caught:
        bench(mine.images.create(prompt="lost answer", count=2))
    key = caught.value.idempotency_key
    assert key is not None
    lost = next(e for e in budget.entries if e.idempotency_key == key)
    assert (lost.generation_id, lost.held, lost.open) == (None, 2, True)
    assert budget.held == 3
    # The same key again: the server replays the generation; one hold, not two.
    replayed = bench(mine.images.create(prompt="lost answer", count=2, idempotency_key=key))
    assert budget.held == 3
    found = next(e for e in budget.entries if e.idempotency_key == key)
    assert found.generation_id == replayed.id
    _ended(bench, client, replayed.id)
    bench(client.images.list())
    assert (budget.held, budget.spent) == (0, 3)


class _Refusing(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Refuses connections for image creates once ``refuse`` is set, after ``answer`` 503s."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.refuse = False
        self.answer = 0

    def _check(self, request: httpx.Request) -> httpx.Response | None:
        if not self.refuse or request.url.path != "/v1/images":
            return None
        if self.answer:
            self.answer -= 1
            return httpx.Response(503, json={"error": {"code": "provider_unavailable"}})
        raise httpx.ConnectError("connection refused", request=request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._check(request) or self.inner.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self._check(request) or await self.inner.handle_async_request(request)


@pytest.mark.parametrize(("answered", "held"), [(0, 1), (1, 5)])
def test_requests_that_never_left_release_the_hold(bench: Bench, answered: int, held: int) -> None:
    refusing = _Refusing(bench.counting.inner)
    bench.counting.inner = refusing
    client = bench.client(max_retries=2)
    budget = aurous.Budget(max_credits=10)
    mine = client.with_options(budget=budget)
    bench(mine.images.create(prompt="warm"))
    refusing.refuse = True
    refusing.answer = answered  # a 503 first: that attempt reached the server
    with pytest.raises(aurous.APIConnectionError):
        bench(mine.images.create(prompt="x", count=4))
    # Three attempts that never connected made nothing; one that got a 503 may have.
    assert budget.held == held


def test_replaying_the_key_of_a_settled_create_counts_nothing_more(bench: Bench) -> None:
    client = bench.client()
    budget = aurous.Budget(max_credits=10)
    mine = client.with_options(budget=budget)
    first = bench(mine.images.create_and_wait(prompt="x", idempotency_key="same-key"))
    # Replaying the key of a settled create: the API answers the original row again (as it
    # was then: pending). The generation was counted once; it is not counted again.
    again = bench(mine.images.create(prompt="x", idempotency_key="same-key"))
    assert again.id == first.id
    assert (budget.spent, budget.held) == (1, 0)
    bench(client.images.retrieve(first.id))
    assert (budget.spent, budget.held) == (1, 0)
    assert len(budget.entries) == 1


def test_tags_reach_the_copy_and_its_log_records(
    bench: Bench, caplog: pytest.LogCaptureFixture
) -> None:
    client = bench.client()
    mine = client.with_options(tags={"user": "42"})
    assert mine._tags == {"user": "42"}
    bench.emu.faults.fail_next("POST /v1/images", status=503)
    with caplog.at_level(logging.INFO, logger="aurous"):
        bench(mine.images.create(prompt="x"))
    retries = [r for r in caplog.records if r.getMessage().startswith("retrying")]
    assert retries
    assert all(getattr(r, "tags", None) == {"user": "42"} for r in retries)


def _scripted(created: dict[str, Any]) -> httpx.MockTransport:
    """An API whose every image create answers ``created`` (its card and estimates are the
    fixtures': 1 credit an image)."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/pricing":
            return httpx.Response(200, json=fixture("pricing"))
        if request.url.path == "/v1/images/estimate":
            count = json.loads(request.content).get("count") or 1
            body = {
                "object": "estimate",
                "estimated_cost": {"amount": count, "currency": "credit", "breakdown": {}},
                "currency": "credit",
            }
            return httpx.Response(200, json=body)
        return httpx.Response(200, json=created)

    return httpx.MockTransport(handle)


def test_a_create_answered_already_ended_settles_at_once() -> None:
    client = aurous.Client(
        api_key=KEY,
        base_url=API,
        http_client=httpx.Client(transport=_scripted(fixture("generation.succeeded.image"))),
    )
    budget = aurous.Budget(max_credits=10)
    client.with_options(budget=budget).images.create(prompt="x")
    assert (budget.spent, budget.held) == (2, 0)  # its cost: what was charged
    assert not client._flow.spending.open


@pytest.mark.parametrize(("reported", "counted"), [(4, 4), (0, 1)])
def test_a_hold_counts_at_least_the_estimate(reported: int, counted: int) -> None:
    row = fixture("generation.pending.image")
    row["cost"] = {"amount": reported, "currency": "credit", "breakdown": {"base": reported}}
    client = aurous.Client(
        api_key=KEY, base_url=API, http_client=httpx.Client(transport=_scripted(row))
    )
    budget = aurous.Budget(max_credits=10)
    # Estimated at 1 credit; the API says it holds ``reported``: the larger one counts.
    client.with_options(budget=budget).images.create(prompt="x")
    assert budget.held == counted
