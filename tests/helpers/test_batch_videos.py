"""``videos.batch``: the images engine with the video create — counts, money, resume, downloads."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import aurous

from .conftest import Counting, Harness

REQUESTS: list[Any] = [
    {"prompt": f"waves at dusk, take {i}", "resolution": "480p", "duration": 2} for i in range(30)
]


class Stop(Exception):
    """Raised from on_progress to kill a batch midway."""


def test_video_batch_killed_midway_then_resumed(h: Harness, tmp_path: Path) -> None:
    manifest = tmp_path / "videos.jsonl"
    out = tmp_path / "clips"

    def kill_after_10(progress: aurous.BatchProgress) -> None:
        if progress.done >= 10:
            raise Stop

    with pytest.raises(Stop):
        h(
            h.client.videos.batch(
                REQUESTS,
                concurrency=6,
                manifest=manifest,
                download_to=out,
                on_progress=kill_after_10,
            )
        )
    records = [json.loads(line) for line in manifest.read_text().splitlines()[1:]]
    finished = {r["index"] for r in records if r["event"] == "finish"}
    started = {r["index"] for r in records if r["event"] == "start"}
    assert len(finished) == 10
    assert started - finished, "some videos were in flight when the batch was killed"
    assert all(r["generation"]["id"].startswith("vid_") for r in records if r["event"] == "finish")

    made: dict[str, Counting] = {}

    def wrap(transport: Any) -> Counting:
        made["t"] = Counting(transport)
        return made["t"]

    client = h.make_client(wrap=wrap)
    results = h(client.videos.batch(REQUESTS, concurrency=6, manifest=manifest, download_to=out))
    assert len(results) == 30
    assert all(r.ok for r in results)
    assert sum(r.skipped for r in results) == 10
    # In-flight videos were replayed by their key: 30 videos, 30 charges of 0.5 × 1 × 2.
    assert len(h.emu.team.generations) == 30
    assert all(g.media_type == "video" for g in h.emu.team.generations.values())
    assert h.emu.team.balance()["credits"] == Decimal(970)
    assert len({r.generation.id for r in results if r.generation}) == 30
    creates = sum(1 for m, p in made["t"].requests if (m, p) == ("POST", "/v1/videos"))
    assert creates == 20 + made["t"].rate_limited.count("concurrency_limit_exceeded")
    # Every video was downloaded once, into the directory, as <id>-0.mp4.
    for result in results:
        assert result.generation is not None
        assert [p.name for p in result.paths] == [f"{result.generation.id}-0.mp4"]
        assert result.paths[0].parent == out
        assert result.paths[0].read_bytes() == h.raw_get(result.generation.outputs[0]).content
    assert sorted(p.name for p in out.iterdir()) == sorted(r.paths[0].name for r in results)


def test_video_errors_are_captured_per_item(h: Harness) -> None:
    requests: list[Any] = [
        {"prompt": "fine", "resolution": "480p", "duration": 2},
        {"resolution": "720p"},  # neither a prompt nor a first frame
        {"prompt": "x", "resolution": "480p", "duratoin": 2},
        {"prompt": "forbidden scene", "duration": 2},
        {"prompt": "broken [fail]", "duration": 2},
    ]
    results = h(h.client.videos.batch(requests, concurrency=2))
    assert [r.status for r in results] == ["succeeded"] + ["failed"] * 4
    assert "a video needs a prompt" in str(results[1].error)
    assert "did you mean 'duration'" in str(results[2].error)
    assert isinstance(results[3].error, aurous.InvalidRequestError)
    assert isinstance(results[4].error, aurous.GenerationFailedError)
    assert len(h.emu.team.generations) == 2


def test_a_value_json_cannot_carry_fails_its_item_not_the_batch(h: Harness) -> None:
    # Regression: a NaN (or a key with a line break) passed the type check and was refused only
    # when the create was sent, raising ValueError out of the whole batch.
    requests: list[Any] = [
        "fine",
        {"prompt": "x", "guidance_scale": math.nan},
        {"prompt": "y", "idempotency_key": "line\nbreak"},
        {"prompt": "z", "timeout": math.nan},
        "also fine",
    ]
    results = h(h.client.images.batch(requests, concurrency=2))
    assert [r.ok for r in results] == [True, False, False, False, True]
    assert "guidance_scale must be a finite number" in str(results[1].error)
    assert "idempotency_key" in str(results[2].error)
    assert "timeout must be a positive, finite number" in str(results[3].error)
    assert len(h.emu.team.generations) == 2


def test_download_to_a_directory_named_like_a_file(h: Harness, tmp_path: Path) -> None:
    # Regression: "run.v2" was taken for a file name, so every item overwrote it (and a
    # generation with two images raised ValueError out of the batch).
    out = tmp_path / "run.v2"
    results = h(
        h.client.images.batch(["one", {"prompt": "two", "count": 2}, "three"], download_to=out)
    )
    assert all(r.ok for r in results)
    assert out.is_dir()
    assert len(list(out.iterdir())) == 4
    assert all(p.parent == out for r in results for p in r.paths)
