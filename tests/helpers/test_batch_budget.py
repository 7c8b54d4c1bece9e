"""``max_credits`` and the team's balance: what a batch may spend, and how it stops and resumes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import aurous

from .conftest import Counting, Harness

PROMPTS = [f"a lighthouse, take {i}" for i in range(12)]


def _counting(h: Harness, **options: Any) -> tuple[Any, Counting]:
    made: dict[str, Counting] = {}

    def wrap(transport: Any) -> Counting:
        made["t"] = Counting(transport)
        return made["t"]

    client = h.make_client(wrap=wrap, **options)
    return client, made["t"]


def _calls(counting: Counting, method: str, path: str) -> int:
    return sum(1 for m, p in counting.requests if (m, p) == (method, path))


def _records(manifest: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in manifest.read_text().splitlines()[1:]]


def test_a_budget_smaller_than_the_job(h: Harness, tmp_path: Path) -> None:
    client, counting = _counting(h)
    manifest = tmp_path / "run.jsonl"
    progress: list[aurous.BatchProgress] = []
    results = h(
        client.images.batch(
            PROMPTS, concurrency=3, max_credits=4, manifest=manifest, on_progress=progress.append
        )
    )
    assert [r.status for r in results] == ["succeeded"] * 4 + ["not_started"] * 8
    for result in results[4:]:
        assert result.generation is None
        assert result.not_started
        assert not result.ok
        assert isinstance(result.error, aurous.BudgetExceededError)
        assert result.error.max_credits == 4
        assert result.error.spent == 4
        assert result.error.cost == 1
        assert "#" + str(result.index) in str(result.error)
    assert [r.credits for r in results] == [1] * 4 + [None] * 8
    # Four generations, four credits: nothing beyond the cap was sent.
    assert len(h.emu.team.generations) == 4
    assert _calls(counting, "POST", "/v1/images") == 4
    assert h.emu.team.balance()["credits"] == Decimal(996)
    # Priced from the card, checked once against the endpoint.
    assert _calls(counting, "GET", "/v1/pricing") == 1
    assert _calls(counting, "POST", "/v1/images/estimate") == 1
    last = progress[-1]
    assert (last.done, last.failed, last.not_started, last.spent) == (12, 8, 8, 4.0)

    records = _records(manifest)
    assert sum(1 for r in records if r["event"] == "start") == 4
    assert all(r["price"] == "1" for r in records if r["event"] == "start")
    skipped = [r for r in records if r.get("not_started")]
    assert sorted(r["index"] for r in skipped) == list(range(4, 12))
    assert all(r["error"]["class"] == "BudgetExceededError" for r in skipped)


def test_a_resume_with_a_larger_cap_continues_without_counting_twice(
    h: Harness, tmp_path: Path
) -> None:
    manifest = tmp_path / "run.jsonl"
    first = h(h.client.images.batch(PROMPTS, concurrency=3, max_credits=4, manifest=manifest))
    assert sum(r.ok for r in first) == 4

    # The cap covers the whole batch: the 4 credits of the first run count, so 7 allows 3 more.
    second = h(h.client.images.batch(PROMPTS, concurrency=3, max_credits=7, manifest=manifest))
    assert [r.status for r in second] == ["succeeded"] * 7 + ["not_started"] * 5
    assert [r.skipped for r in second[:7]] == [True] * 4 + [False] * 3
    assert len(h.emu.team.generations) == 7
    assert second[-1].error is not None
    assert isinstance(second[-1].error, aurous.BudgetExceededError)
    assert second[-1].error.spent == 7

    # Large enough for everything: the rest runs, nothing is generated or charged twice.
    third = h(h.client.images.batch(PROMPTS, concurrency=3, max_credits=100, manifest=manifest))
    assert all(r.ok for r in third)
    assert sum(r.skipped for r in third) == 7
    ids = [r.generation.id for r in third if r.generation]
    assert len(set(ids)) == 12
    assert ids[:7] == [r.generation.id for r in second[:7] if r.generation]
    assert len(h.emu.team.generations) == 12
    assert h.emu.team.balance()["credits"] == Decimal(988)
    assert h.emu.team.balance()["held_credits"] == 0


def test_an_unanswered_create_counts_on_resume(h: Harness, tmp_path: Path) -> None:
    manifest = tmp_path / "run.jsonl"

    class Stop(Exception):
        pass

    def stop_after_first(progress: aurous.BatchProgress) -> None:
        if progress.done >= 1:
            raise Stop

    with pytest.raises(Stop):
        h(
            h.client.images.batch(
                PROMPTS[:6],
                concurrency=3,
                max_credits=6,
                manifest=manifest,
                on_progress=stop_after_first,
            )
        )
    started = {r["index"] for r in _records(manifest) if r["event"] == "start"}
    finished = {r["index"] for r in _records(manifest) if r["event"] == "finish"}
    assert len(started - finished) >= 1  # killed with creates in flight
    # Resumed with a cap that leaves no room beyond what was started: the in-flight items
    # are replayed by key (not counted twice), nothing new starts.
    results = h(
        h.client.images.batch(
            PROMPTS[:6], concurrency=3, max_credits=len(started), manifest=manifest
        )
    )
    assert sum(r.ok for r in results) == len(started)
    assert len(h.emu.team.generations) == len(started)
    assert all(r.not_started for r in results if not r.ok)


def test_the_budget_waits_for_holds_that_may_be_released(h: Harness) -> None:
    # Item 1 ends failed (its hold released), which leaves room for item 2 under a cap of 2.
    results = h(
        h.client.images.batch(["one", "two [fail]", "three", "four"], concurrency=2, max_credits=2)
    )
    assert [r.status for r in results] == ["succeeded", "failed", "succeeded", "not_started"]
    assert results[1].credits == 0
    assert h.emu.team.balance()["credits"] == Decimal(998)


def test_a_costly_item_that_does_not_fit_lets_cheaper_ones_through(h: Harness) -> None:
    requests: list[Any] = [
        {"prompt": "four", "count": 4},
        {"prompt": "four again", "count": 4},
        "one",
        {"prompt": "two", "count": 2},
    ]
    results = h(h.client.images.batch(requests, concurrency=1, max_credits=5))
    assert [r.status for r in results] == ["succeeded", "not_started", "succeeded", "not_started"]
    error = results[1].error
    assert isinstance(error, aurous.BudgetExceededError)
    assert (error.spent, error.cost) == (4, 4)
    assert h.emu.team.balance()["credits"] == Decimal(995)


def test_video_batch_budget(h: Harness) -> None:
    requests = [{"prompt": f"waves {i}", "resolution": "720p", "duration": 4} for i in range(5)]
    results = h(h.client.videos.batch(requests, concurrency=2, max_credits=10))
    # 0.5 × 1.5 × 4 = 3 credits each: three fit in 10.
    assert [r.status for r in results] == ["succeeded"] * 3 + ["not_started"] * 2
    assert h.emu.team.balance()["credits"] == Decimal(991)


def test_a_402_midway_stops_new_starts(make_harness: Any, tmp_path: Path) -> None:
    h: Harness = make_harness(credits=5, image_phases=(1.0, 1.0))
    client, counting = _counting(h)
    manifest = tmp_path / "run.jsonl"
    results = h(client.images.batch(PROMPTS, concurrency=3, manifest=manifest))

    ok = [r for r in results if r.ok]
    assert len(ok) == 5
    refused = [r for r in results if isinstance(r.error, aurous.InsufficientBalanceError)]
    assert refused, "one create was refused with 402"
    assert all(r.not_started and r.generation is None for r in refused)
    later = [r for r in results if not r.ok and r not in refused]
    assert later
    assert all(r.not_started and r.status == "not_started" for r in later)
    for result in later:
        assert type(result.error) is aurous.AurousError
        assert "balance ran out" in str(result.error)
        assert "same manifest" in str(result.error)
        assert isinstance(result.error.__cause__, aurous.InsufficientBalanceError)
    # Creates stopped at the first 402 (the ones already admitted may have been refused too),
    # not one refused create per remaining item.
    posts = _calls(counting, "POST", "/v1/images")
    assert posts == 5 + len(refused)
    assert len(refused) <= 3
    assert h.emu.team.balance()["credits"] == Decimal(0)

    # Top up and resume: the items not started run, the finished ones are not redone.
    h.emu.set_balance(100)
    again = h(h.client.images.batch(PROMPTS, concurrency=3, manifest=manifest))
    assert all(r.ok for r in again)
    assert sum(r.skipped for r in again) == 5
    assert len(h.emu.team.generations) == 12
    assert h.emu.team.balance()["credits"] == Decimal(93)


def test_budget_arguments_are_checked(h: Harness, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_credits"):
        h(h.client.images.batch(["x"], max_credits=-1))
    with pytest.raises(TypeError, match="max_credits"):
        h(h.client.images.batch(["x"], max_credits="10"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_credits"):
        h(h.client.videos.batch(["x"], max_credits=float("inf")))
    assert h.emu.team.generations == {}


def test_a_request_the_estimate_refuses_fails_without_a_create(h: Harness) -> None:
    client, counting = _counting(h)
    requests: list[Any] = [
        {"prompt": "fine", "resolution": "480p", "duration": 2},
        {"prompt": "unknown LoRA", "video_lora_id": "lora_nope"},
    ]
    results = h(client.videos.batch(requests, max_credits=50))
    assert results[0].ok
    assert isinstance(results[1].error, aurous.NotFoundError)
    assert not results[1].not_started
    assert _calls(counting, "POST", "/v1/videos") == 1


def test_without_a_cap_nothing_is_priced(h: Harness) -> None:
    client, counting = _counting(h)
    progress: list[aurous.BatchProgress] = []
    results = h(client.images.batch(PROMPTS[:4], on_progress=progress.append))
    assert all(r.ok for r in results)
    assert _calls(counting, "GET", "/v1/pricing") == 0
    assert _calls(counting, "POST", "/v1/images/estimate") == 0
    # Spend is still reported: what the generations cost.
    assert progress[-1].spent == 4
