"""``aurous batch``: progress, summary, failures, and resuming an interrupted run."""

from __future__ import annotations

import csv
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aurous.emulator import Emulator

from .conftest import FAST, PNG_SIGNATURE, Child, Runner, Served, serving, wait_until

PROMPTS = [f"lighthouse number {n}" for n in range(6)]


def _created_prompts(served: Served) -> Counter[str]:
    with served.emulator.client() as client:
        return Counter(g.prompt or "" for g in client.images.list(limit=100))


def _created(served: Served, count: int) -> Callable[[], bool]:
    return lambda: sum(_created_prompts(served).values()) == count


def _write_file(tmp_path: Path) -> Path:
    lines = [json.dumps({"prompt": p}) for p in PROMPTS[:3]] + [""]
    lines += [json.dumps({"prompt": p, "size": "2k_3_2"}) for p in PROMPTS[3:]]
    path = tmp_path / "prompts.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_batch_downloads_everything_and_prints_a_summary(served: Served, tmp_path: Path) -> None:
    file = _write_file(tmp_path)
    out = tmp_path / "out"

    result = served.run("batch", *FAST, str(file), "--concurrency", "3", "--out", str(out))

    assert result.returncode == 0, result.stderr
    assert _created_prompts(served) == Counter(PROMPTS)
    pngs = sorted(out.iterdir())
    assert len(pngs) == 6
    assert all(p.read_bytes().startswith(PNG_SIGNATURE) for p in pngs)
    assert "Batch summary" in result.stdout
    summary = {line[:26].strip(): line.split()[-1] for line in result.stdout.splitlines()}
    assert summary["succeeded"] == "6"
    assert summary["failed"] == "0"
    # Plain, line-based progress: one line per finished item, no terminal control codes.
    assert sum(" ok - " in line for line in result.stderr.splitlines()) == 6
    assert "\x1b" not in result.output


def test_batch_reports_failures_and_exits_1(served: Served, tmp_path: Path) -> None:
    file = tmp_path / "prompts.txt"
    file.write_text("fine one\n[fail] broken one\nfine two\n")

    result = served.run("--json", "batch", *FAST, str(file), "--no-download")

    assert result.returncode == 1
    data = result.json()
    assert data["summary"]["succeeded"] == 2
    assert data["summary"]["failed"] == 1
    [failed] = [r for r in data["results"] if not r["ok"]]
    assert failed["index"] == 1
    assert failed["status"] == "failed"
    assert "1 of 3 generations failed" in result.stderr


def test_progress_and_failures_number_requests_by_index_from_0(
    inproc: Runner, served: Served, tmp_path: Path
) -> None:
    file = tmp_path / "prompts.txt"
    file.write_text("[fail] broken first\nfine second\n")

    result = inproc(*served.args, "batch", *FAST, str(file), "--no-download", "--concurrency", "1")

    assert result.returncode == 1
    progress = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert any("index 0 failed" in line for line in progress), progress
    assert any("index 1 img_" in line for line in progress), progress
    # The failures table names the first request 0, as --results and the manifest do.
    [row] = [line for line in result.stdout.splitlines() if "broken first" in line]
    assert row.split()[0] == "0"
    assert "index" in result.stdout.split("Failures", 1)[1].splitlines()[1]


@pytest.fixture
def held() -> Iterator[Served]:
    """A served emulator on a manual clock: a generation finishes only when the test says so."""
    with serving(Emulator(clock="manual", seed=7, rate_limits=False)) as served:
        yield served


def _finish_everything(emu: Emulator, stop: threading.Event) -> None:
    # Each step finishes every generation created so far (an image takes 2 s of emulator time).
    while not stop.wait(0.02):
        emu.advance(5)


def test_interrupted_batch_resumes_from_the_manifest_without_duplicates(
    held: Served, tmp_path: Path
) -> None:
    file = _write_file(tmp_path)
    manifest = tmp_path / "run.jsonl"
    out = tmp_path / "out"
    results = tmp_path / "results.csv"
    args = [
        "batch",
        *FAST,
        str(file),
        "--concurrency",
        "1",
        "--manifest",
        str(manifest),
        "--out",
        str(out),
        "--results",
        str(results),
    ]

    with Child([*held.args, *args]) as child:
        for done in (1, 2):
            wait_until(_created(held, done), f"item {done} created")
            held.emulator.advance(5)
            # Items are numbered by index, from 0, as in results.csv and the manifest.
            child.expect(f"[{done}/6] index {done - 1} ")
        # The third item is in flight, and stays so: the emulator's clock stands still.
        wait_until(_created(held, 3), "item 3 created")
        first = child.interrupt()

    assert first.returncode == 130, first.stderr
    assert "run the same command again to resume" in first.stderr
    assert _created_prompts(held) == Counter(PROMPTS[:3])
    assert len(list(out.glob("*.png"))) == 2
    # --results was written on the interrupt too: the two requests that finished.
    assert f"the 2 requests finished so far are in {results}" in first.stderr
    with results.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["index"], row["status"]) for row in rows] == [
        ("0", "succeeded"),
        ("1", "succeeded"),
    ]

    stop = threading.Event()
    clock = threading.Thread(target=_finish_everything, args=(held.emulator, stop), daemon=True)
    clock.start()
    try:
        result = held.run(*args)
    finally:
        stop.set()
        clock.join()

    assert result.returncode == 0, result.stderr
    # Every prompt was created exactly once over both runs: nothing billed twice.
    assert _created_prompts(held) == Counter(PROMPTS)
    assert result.stderr.count("skipped (already done)") == 2
    assert len(list(out.glob("*.png"))) == len(PROMPTS)


def test_video_batch_with_defaults_and_named_files(
    inproc: Runner, served: Served, tmp_path: Path
) -> None:
    file = tmp_path / "clips.jsonl"
    file.write_text(
        '{"prompt": "waves at dusk"}\n'
        '{"prompt": "snow falling", "video_lora_id": "seedance-1-pro", "duration": 2}\n'
    )
    out = tmp_path / "clips"

    result = inproc(
        *served.args,
        "--json",
        "batch",
        *FAST,
        str(file),
        "--video",
        "--lora",
        "aerial-drone-sweep",
        "--resolution",
        "480p",
        "--duration",
        "4",
        "--out",
        str(out),
        "--name",
        "clip-{index:03d}",
    )

    assert result.returncode == 0, result.output
    data = result.json()
    assert [r["request"] for r in data["results"]] == [
        {
            "prompt": "waves at dusk",
            "video_lora_id": "aerial-drone-sweep",
            "resolution": "480p",
            "duration": 4,
        },
        {
            "prompt": "snow falling",
            "video_lora_id": "seedance-1-pro",
            "duration": 2,
            "resolution": "480p",
        },
    ]
    assert sorted(p.name for p in out.iterdir()) == ["clip-000.mp4", "clip-001.mp4"]
    videos = [served.emulator.generation(r["generation_id"]) for r in data["results"]]
    assert [(v.video_duration, v.video_resolution) for v in videos] == [(4, "480p"), (2, "480p")]
