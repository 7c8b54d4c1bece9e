"""A budget caps what a client copy's creates spend: reserved before sending, never overshot."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

import aurous
from aurous._budget import BudgetState

from .conftest import Bench


def _create(mine: Any, **params: Any) -> Any:
    return lambda: mine.images.create(prompt="a lighthouse", **params)


@pytest.mark.parametrize(("price", "cap", "racers"), [(1, 7, 10), (2, 9, 8), (3, 10, 6)])
def test_racing_creates_never_overshoot_the_cap(
    make_bench: Any, price: int, cap: int, racers: int
) -> None:
    bench: Bench = make_bench(instant=True)
    client = bench.client()
    budget = aurous.Budget(max_credits=cap)
    mine = client.with_options(budget=budget)
    results = bench.gather([_create(mine, count=price)] * racers)

    fits = cap // price
    made = [r for r in results if isinstance(r, aurous.Generation)]
    refused = [r for r in results if isinstance(r, aurous.BudgetExceededError)]
    assert (len(made), len(refused)) == (fits, racers - fits), results
    # Exactly the creates that fit reached the API; the others raised before sending.
    assert bench.sent() == fits
    assert len(bench.emu.team.generations) == fits
    assert budget.held == fits * price
    assert budget.spent == 0
    assert budget.held + budget.remaining == cap or budget.remaining < price
    for error in refused:
        assert error.max_credits == cap
        assert error.cost == price
        assert error.spent == fits * price
        assert error.name is None
        assert "was not sent" in str(error)


def test_a_refused_create_sends_nothing_not_even_after_a_wait(bench: Bench) -> None:
    client = bench.client()
    budget = aurous.Budget(max_credits=2)
    mine = client.with_options(budget=budget)
    bench(mine.images.create_and_wait(prompt="one", count=2))
    before = len(bench.counting.requests)
    with pytest.raises(aurous.BudgetExceededError, match=r"estimated price \(1 credits\)"):
        bench(mine.images.create(prompt="two"))
    assert len(bench.counting.requests) == before
    assert (budget.spent, budget.held, budget.remaining) == (2, 0, 0)


def test_the_rate_card_is_read_once_and_checked_once_per_client(bench: Bench) -> None:
    client = bench.client()
    first = client.with_options(budget=aurous.Budget(max_credits=100))
    second = client.with_options(budget=aurous.Budget(max_credits=100), tags={"user": "7"})
    for mine in (first, second, first):
        for count in (1, 2, 3):
            bench(mine.images.create(prompt="x", count=count))
    assert bench.sent(("GET", "/v1/pricing")) == 1
    assert bench.sent(("POST", "/v1/images/estimate")) == 1
    assert bench.sent() == 9


def test_without_a_budget_nothing_is_priced(bench: Bench) -> None:
    client = bench.client()
    bench(client.images.create_and_wait(prompt="free of budgets"))
    copy = client.with_options(tags={"user": "1"}, max_retries=1)
    bench(copy.images.create(prompt="tagged, not budgeted"))
    assert not client._flow.spending.active
    assert bench.sent(("GET", "/v1/pricing")) == 0
    assert bench.sent(("POST", "/v1/images/estimate")) == 0


def test_videos_and_batches_reserve_like_any_create(bench: Bench) -> None:
    client = bench.client()
    budget = aurous.Budget(max_credits=10)
    mine = client.with_options(budget=budget)
    # 720p for 5 s: 3.75 credits by the emulator's card.
    bench(mine.videos.create(prompt="waves", resolution="720p", duration=5))
    assert budget.held == 3.75
    results = bench(mine.images.batch([f"item {i}" for i in range(9)], concurrency=3))
    # 6.25 credits left: six one-credit items, the other three are not started.
    assert [r.status for r in results].count("succeeded") == 6
    left_out = [r for r in results if r.not_started]
    assert len(left_out) == 3
    assert all(isinstance(r.error, aurous.BudgetExceededError) for r in left_out)
    assert all(r.generation is None for r in left_out)
    assert bench.sent(("POST", "/v1/images")) == 6
    assert budget.spent + budget.held <= 10


def test_a_batch_keeps_its_own_max_credits_within_a_budget(bench: Bench) -> None:
    client = bench.client()
    budget = aurous.Budget(max_credits=5)
    mine = client.with_options(budget=budget)
    # The batch's own cap is the tighter one here…
    first = bench(mine.images.batch(["a", "b", "c", "d"], concurrency=2, max_credits=3))
    assert [r.status for r in first] == ["succeeded"] * 3 + ["not_started"]
    assert "max_credits=3" in str(first[3].error)
    # …and here the budget is: 2 credits remain of 5.
    second = bench(mine.images.batch(["e", "f", "g", "h"], concurrency=1, max_credits=10))
    assert [r.status for r in second] == ["succeeded"] * 2 + ["not_started"] * 2
    assert all(isinstance(r.error, aurous.BudgetExceededError) for r in second[2:])
    assert bench.sent(("POST", "/v1/images")) == 5
    assert budget.spent == 5


def test_a_named_budget_without_a_shared_store_is_one_per_process(bench: Bench) -> None:
    client = bench.client()
    name = f"user:{uuid.uuid4().hex[:8]}"
    budget = aurous.Budget(max_credits=3, name=name)
    mine = client.with_options(budget=budget)
    bench(mine.images.create(prompt="x", count=2))
    assert not budget.shared
    assert budget.name == name
    assert "in this process" in repr(budget)
    # Another object of the name (a web request's, say) shares the books: one budget.
    other = aurous.Budget(max_credits=3, name=name)
    assert other.held == 2
    with pytest.raises(aurous.BudgetExceededError, match=f"budget '{name}'"):
        bench(client.with_options(budget=other).images.create(prompt="y", count=2))
    # An unnamed budget is its own.
    assert aurous.Budget(max_credits=3).held == 0


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="finite number >= 0"):
        aurous.Budget(max_credits=-1)
    with pytest.raises(ValueError, match="finite number >= 0"):
        aurous.Budget(max_credits=float("inf"))
    with pytest.raises(TypeError, match="max_credits must be a number"):
        aurous.Budget(max_credits="10")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="max_credits must be a number"):
        aurous.Budget(max_credits=True)
    with pytest.raises(ValueError, match="name must not be empty"):
        aurous.Budget(max_credits=1, name=" ")
    client = aurous.Client(api_key="al_test_x", base_url="https://api.test")
    with pytest.raises(TypeError, match=r"budget must be an aurous\.Budget"):
        client.with_options(budget=10)  # type: ignore[typeddict-item]
    with pytest.raises(TypeError, match="tags must map str to str"):
        client.with_options(tags={"user": 42})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="tags must be a mapping"):
        client.with_options(tags=["user"])  # type: ignore[typeddict-item]
    assert aurous.Budget(max_credits=Decimal("2.5")).max_credits == 2.5


def test_copies_keep_the_budget_and_tags_unless_changed() -> None:
    client = aurous.Client(api_key="al_test_x", base_url="https://api.test")
    budget = aurous.Budget(max_credits=1)
    mine = client.with_options(budget=budget, tags={"user": "42"})
    again = mine.with_options(max_retries=0)
    assert again._flow.budget is budget
    assert again._tags == {"user": "42"}
    assert again._flow.tags == {"user": "42"}
    untagged = again.with_options(budget=None, tags={})
    assert untagged._flow.budget is None
    assert untagged._tags == {}
    assert client._tags == {}
    assert client._flow.budget is None
    # The raw view is the same copy: same budget, same tags.
    assert mine.with_raw_response._flow.budget is budget


def test_the_books_survive_a_round_trip_as_plain_data() -> None:
    state = BudgetState()
    assert state.reserve("k1", Decimal("1.5"), Decimal(10), {"user": "1"}) == (True, Decimal(0))
    assert state.reserve("k2", Decimal(2), Decimal(10), {}) == (True, Decimal("1.5"))
    state.record("k1", "img_1", Decimal(2), {"user": "1"})
    assert state.settle("img_1", Decimal("1.75"))
    assert state.release("k2")
    assert state.reserve("k3", Decimal(9), Decimal(10), {})[0] is False
    again = BudgetState.load(state.dump())
    assert again.dump() == state.dump()
    assert again.spent == Decimal("1.75")
    assert again.tag_spent == {"user": {"1": Decimal("1.75")}}
    assert [e["charged"] for e in again.settled] == [Decimal("1.75"), Decimal(0)]


def test_settled_entries_are_bounded_and_the_totals_kept() -> None:
    from aurous._budget import MAX_SETTLED

    state = BudgetState()
    for n in range(MAX_SETTLED + 50):
        state.reserve(f"k{n}", Decimal(1), Decimal(10**6), {"user": str(n % 3)})
        state.record(f"k{n}", f"img_{n}", Decimal(1), {"user": str(n % 3)})
        state.settle(f"img_{n}", Decimal(1))
    assert len(state.settled) == MAX_SETTLED
    assert state.settled[0]["id"] == "img_50"
    assert state.spent == MAX_SETTLED + 50
    assert sum(state.tag_spent["user"].values()) == MAX_SETTLED + 50


def test_a_billable_call_it_cannot_price_is_not_sent(bench: Bench) -> None:
    from aurous._drivers import run_sync
    from aurous._requests import request
    from aurous._types import RequestOptions

    if bench.is_async:
        pytest.skip("the flow is the same for both clients; one is enough")
    mine = bench.client().with_options(budget=aurous.Budget(max_credits=100))

    def steps() -> Any:
        call = request(
            "POST", "/v1/novelties", None, RequestOptions(), json={}, idempotent=True,
            creates_generation=True,
        )  # fmt: skip
        return (yield from call)

    with pytest.raises(aurous.AurousError, match="a budget cannot price it"):
        run_sync(mine, steps(), "novelties.create")
    assert bench.counting.requests == []
