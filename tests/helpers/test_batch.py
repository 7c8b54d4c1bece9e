"""``images.batch``: counts and money on the emulator, resume from a manifest, pacing, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import aurous

from .conftest import Counting, Harness

PROMPTS = [f"a lighthouse at dusk, variation {i}" for i in range(200)]


class Stop(Exception):
    """Raised from on_progress to kill a batch midway."""


def _counting(h: Harness, **options: Any) -> tuple[Any, Counting]:
    made: dict[str, Counting] = {}

    def wrap(transport: Any) -> Counting:
        made["t"] = Counting(transport)
        return made["t"]

    client = h.make_client(wrap=wrap, **options)
    return client, made["t"]


def _creates(counting: Counting) -> int:
    return sum(1 for method, path in counting.requests if (method, path) == ("POST", "/v1/images"))


def test_200_prompts_at_concurrency_16(h: Harness) -> None:
    client, counting = _counting(h)
    progress: list[aurous.BatchProgress] = []
    results = h(client.images.batch(PROMPTS, concurrency=16, on_progress=progress.append))

    assert len(results) == 200
    assert [r.index for r in results] == list(range(200))
    assert [r.request for r in results] == [{"prompt": p} for p in PROMPTS]
    assert all(r.ok for r in results)
    assert all(r.generation is not None and r.generation.status == "succeeded" for r in results)
    assert not any(r.skipped for r in results)
    assert len({r.idempotency_key for r in results}) == 200
    assert len({r.generation.id for r in results if r.generation}) == 200

    # Exactly 200 generations exist, and exactly 200 holds were committed (1 credit each).
    team = h.emu.team
    assert len(team.generations) == 200
    assert all(g.status == "succeeded" for g in team.generations.values())
    assert team.balance() == {
        "credits": Decimal(800),
        "held_credits": Decimal(0),
        "available_credits": Decimal(800),
        "currency": "credit",
        "billing_mode": "metered",
    }
    completed = [e for e in h.emu.events() if e.type == "image.completed"]
    assert len(completed) == 200
    assert all(e.data["cost"]["amount"] == 1 for e in completed)
    # A create that hit the concurrency limit was retried with its key, never duplicated.
    assert _creates(counting) == 200 + counting.rate_limited.count("concurrency_limit_exceeded")

    finished = [p for p in progress if p.last is not None]
    assert [p.done for p in finished] == list(range(1, 201))
    assert finished[-1].total == 200
    assert finished[-1].failed == 0
    assert finished[-1].in_flight == 0
    assert all(p.in_flight <= 16 for p in progress)


def test_killed_midway_then_resumed_from_the_manifest(h: Harness, tmp_path: Path) -> None:
    manifest = tmp_path / "run.jsonl"

    def kill_after_80(progress: aurous.BatchProgress) -> None:
        if progress.done >= 80:
            raise Stop

    with pytest.raises(Stop):
        h(
            h.client.images.batch(
                PROMPTS, concurrency=16, manifest=manifest, on_progress=kill_after_80
            )
        )
    created_before = len(h.emu.team.generations)
    assert 80 <= created_before < 200

    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert records[0]["format"] == "aurous.batch"
    starts = {r["index"]: r for r in records if r.get("event") == "start"}
    finishes = {r["index"]: r for r in records if r.get("event") == "finish"}
    assert len(finishes) == 80
    in_flight = set(starts) - set(finishes)
    assert in_flight, "some items were in flight when the batch was killed"
    assert all(finishes[i]["status"] == "succeeded" for i in finishes)

    seen: list[aurous.BatchProgress] = []
    results = h(
        h.client.images.batch(PROMPTS, concurrency=16, manifest=manifest, on_progress=seen.append)
    )
    assert len(results) == 200
    assert all(r.ok for r in results)
    assert [r.request["prompt"] for r in results] == PROMPTS
    assert sum(r.skipped for r in results) == 80
    assert {r.index for r in results if r.skipped} == set(finishes)
    # Keys survive the restart: recorded keys are the ones used.
    for result in results:
        if result.index in starts:
            assert result.idempotency_key == starts[result.index]["idempotency_key"]
    # Nothing was generated (or charged) twice: in-flight items were replayed by their key.
    assert len(h.emu.team.generations) == 200
    assert len({r.generation.id for r in results if r.generation}) == 200
    assert h.emu.team.balance()["credits"] == Decimal(800)
    assert h.emu.team.balance()["held_credits"] == 0
    assert seen[-1].done == 200

    # A third run is pure bookkeeping: no request at all.
    client, counting = _counting(h)
    again = h(client.images.batch(PROMPTS, concurrency=16, manifest=manifest))
    assert all(r.skipped and r.ok for r in again)
    assert counting.requests == []
    assert [r.generation.id for r in again if r.generation] == [
        r.generation.id for r in results if r.generation
    ]


def test_a_changed_request_list_is_refused(h: Harness, tmp_path: Path) -> None:
    manifest = tmp_path / "run.jsonl"
    prompts = PROMPTS[:12]
    h(h.client.images.batch(prompts, concurrency=4, manifest=manifest))
    changed = [*prompts[:5], "something else entirely", *prompts[6:]]
    with pytest.raises(ValueError, match="#5 differs"):
        h(h.client.images.batch(changed, concurrency=4, manifest=manifest))
    with pytest.raises(ValueError, match="request list has 11"):
        h(h.client.images.batch(prompts[:11], concurrency=4, manifest=manifest))
    with pytest.raises(ValueError, match="request list has 11"):
        h(h.client.images.batch(iter(prompts[:11]), concurrency=4, manifest=manifest))
    assert len(h.emu.team.generations) == 12
    # Same list, dict form with the same parameters in another order: accepted.
    again = h(h.client.images.batch([{"prompt": p} for p in prompts], manifest=manifest))
    assert all(r.skipped for r in again)


def test_errors_are_captured_per_item(h: Harness, tmp_path: Path) -> None:
    requests: list[Any] = [
        "fine",
        "broken [fail]",
        "forbidden words",
        {"prompt": "x", "size": "2k_1_1", "width": 1024, "height": 1024},
        {"prompt": "x", "promt": "typo"},
        {"prompt": "four at once", "count": 4},
    ]
    results = h(h.client.images.batch(requests, concurrency=3, manifest=tmp_path / "m.jsonl"))
    assert [r.ok for r in results] == [True, False, False, False, False, True]
    assert isinstance(results[1].error, aurous.GenerationFailedError)
    assert results[1].generation is not None
    assert results[1].generation.status == "failed"
    assert isinstance(results[2].error, aurous.InvalidRequestError)
    assert results[2].error.code == "prompt_blocked"
    assert results[2].generation is None
    assert "size cannot be combined" in str(results[3].error)
    assert "promt" in str(results[4].error)
    assert results[5].generation is not None
    assert len(results[5].generation.outputs) == 4
    assert len(h.emu.team.generations) == 3


def test_download_to(h: Harness, tmp_path: Path) -> None:
    out = tmp_path / "out"
    results = h(
        h.client.images.batch(
            ["one", {"prompt": "two", "count": 2}], download_to=out, manifest=tmp_path / "m.jsonl"
        )
    )
    assert [len(r.paths) for r in results] == [1, 2]
    for result in results:
        assert result.generation is not None
        for path, url in zip(result.paths, result.generation.outputs, strict=True):
            assert path.parent == out
            assert path.read_bytes() == h.raw_get(url).content
    # Resumed: files present, nothing to do; a deleted file is downloaded again.
    results[1].paths[0].unlink()
    again = h(
        h.client.images.batch(
            ["one", {"prompt": "two", "count": 2}], download_to=out, manifest=tmp_path / "m.jsonl"
        )
    )
    assert [r.skipped for r in again] == [True, False]
    assert again[1].paths == results[1].paths
    assert results[1].paths[0].exists()
    assert len(h.emu.team.generations) == 2


def test_dropped_creates_are_retried_with_the_same_key(h: Harness) -> None:
    # The server committed the work, then the connection dropped: the retry must replay it.
    h.emu.faults.fail_next("POST /v1/images", drop_connection=True, after_commit=True, times=3)
    h.emu.faults.fail_next("POST /v1/images", status=503, times=2)
    # The five faults may all hit one item: give it room for five retries with its key.
    client = h.client.with_options(max_retries=5)
    results = h(client.images.batch(PROMPTS[:10], concurrency=4))
    assert all(r.ok for r in results)
    assert len(h.emu.team.generations) == 10
    assert h.emu.team.balance()["credits"] == Decimal(990)


def test_pacing_avoids_429s_and_counts_waits(make_harness: Any) -> None:
    h: Harness = make_harness(
        rate_limits={"images_post": (5, 60)}, concurrency_limit=100, instant=True
    )
    client, counting = _counting(h)
    progress: list[aurous.BatchProgress] = []
    start = h.emu.now()
    results = h(
        client.images.batch(
            PROMPTS[:30], concurrency=8, poll_interval=0.01, on_progress=progress.append
        )
    )
    assert all(r.ok for r in results)
    assert len(h.emu.team.generations) == 30
    # The burst of 5 is spent, then creates are spaced by the refill rate (1/s) without 429s.
    assert counting.rate_limited.count("too_many_requests") <= 1
    assert progress[-1].rate_limit_waits > 0
    assert any(p.waiting_for_rate_limit > 0 and p.last is None for p in progress)
    # 25 tokens beyond the burst at one per second.
    assert h.emu.now() - start >= 24


def test_concurrency_limit_is_learned(make_harness: Any) -> None:
    h: Harness = make_harness(concurrency_limit=4, image_phases=(5.0, 5.0))
    client, counting = _counting(h)
    results = h(client.images.batch(PROMPTS[:40], concurrency=16, poll_interval=1.0))
    assert all(r.ok for r in results)
    assert len(h.emu.team.generations) == 40
    refused = counting.rate_limited.count("concurrency_limit_exceeded")
    # Without the client's gate, 12 items would retry every second for the whole run. With it,
    # slow start finds the limit with at most a refusal or two (none when generations finish
    # before the window reaches it), and probes stay rare.
    assert refused <= 10
    assert h.emu.team.balance()["held_credits"] == 0


def test_requests_are_read_lazily(h: Harness) -> None:
    pulled: list[int] = []

    def source() -> Iterator[str]:
        for i, prompt in enumerate(PROMPTS[:30]):
            pulled.append(i)
            yield prompt

    first: list[int] = []

    def on_progress(progress: aurous.BatchProgress) -> None:
        if progress.last is not None and not first:
            first.append(len(pulled))
        assert progress.total in (None, 30)

    results = h(h.client.images.batch(source(), concurrency=4, on_progress=on_progress))
    assert len(results) == 30
    assert first == [4]


def test_batch_arguments_are_checked(h: Harness) -> None:
    with pytest.raises(TypeError):
        h(h.client.images.batch("just one prompt"))
    with pytest.raises(ValueError, match="concurrency"):
        h(h.client.images.batch(["x"], concurrency=0))
    with pytest.raises(TypeError, match="requests must be"):
        h(h.client.images.batch([42]))  # type: ignore[list-item]
    with pytest.raises(TypeError, match="#1 must be a prompt"):
        h(h.client.images.batch(iter(["fine", 42])))  # type: ignore[arg-type]
    assert h(h.client.images.batch([])) == []


def test_manifest_tolerates_a_torn_last_line(h: Harness, tmp_path: Path) -> None:
    manifest = tmp_path / "run.jsonl"
    h(h.client.images.batch(PROMPTS[:3], manifest=manifest))
    with manifest.open("a") as handle:
        handle.write('{"event": "finish", "index": 2, "hash"')
    results = h(h.client.images.batch(PROMPTS[:3], manifest=manifest))
    assert all(r.skipped and r.ok for r in results)
    assert manifest.read_text().endswith("\n")
    (tmp_path / "other.jsonl").write_text('{"not": "a manifest"}\n')
    with pytest.raises(ValueError, match="not an aurous batch manifest"):
        h(h.client.images.batch(PROMPTS[:3], manifest=tmp_path / "other.jsonl"))


def test_ctrl_c_stops_promptly_and_leaves_a_valid_manifest(h: Harness, tmp_path: Path) -> None:
    manifest = tmp_path / "run.jsonl"
    prompts = PROMPTS[:40]

    def interrupt(progress: aurous.BatchProgress) -> None:
        if progress.done >= 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        h(h.client.images.batch(prompts, concurrency=8, manifest=manifest, on_progress=interrupt))
    lines = manifest.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert sum(1 for r in records if r.get("event") == "finish") == 10
    # Stopped promptly: no new item was started after the interrupt.
    assert sum(1 for r in records if r.get("event") == "start") <= 10 + 8
    created = len(h.emu.team.generations)
    assert created <= 10 + 8
    results = h(h.client.images.batch(prompts, concurrency=8, manifest=manifest))
    assert all(r.ok for r in results)
    assert len(h.emu.team.generations) == 40
