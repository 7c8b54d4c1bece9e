"""What the command line says about money: dry runs that check every line (locally, and with
``--check-remote`` by the API), what ``generate``, ``video`` and ``batch`` spent, and ``usage``
as a chart."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .conftest import FAST, Runner, Served, run_cli

NOWHERE = ["--base-url", "http://127.0.0.1:9", "--api-key", "ak_test_nothing_listens"]
"""A CLI that cannot send anything: a request would fail with exit 1, not the expected 2."""

EVERY_CHECK = [
    {"prompt": "fine"},
    {"prompt": "x", "count": 9},
    {"prompt": "x", "size": "2k_16x9"},
    {"prompt": "x", "width": 512, "height": 1024},
    {"prompt": "x", "size": "2k_1_1", "width": 1024, "height": 1024},
    {"prompt": "   "},
    {"prompt": "x", "steps": 500},
    {"prompt": "x", "lora_id": "a", "loras": [{"lora": "b"}]},
    {"prompt": "x", "character_id": "char_1", "reference_image_urls": ["file_1"]},
    {"prompt": "x", "reference_image_urls": ["ftp://example.com/a.png"]},
    {"prompt": "x", "seed": -5},
    {"prompt": "fine too", "count": 4},
]


def _jsonl(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def _reported(stderr: str, file: Path) -> list[int]:
    prefix = f"{file}:"
    return [
        int(line[len(prefix) :].split(":", 1)[0])
        for line in stderr.splitlines()
        if line.startswith(prefix)
    ]


def test_the_dry_run_of_the_issue_refuses_both_lines(tmp_path: Path) -> None:
    # The file of issue 21: the dry run said OK, the run then failed both lines with 400.
    semi = _jsonl(
        tmp_path / "semi.jsonl",
        [{"prompt": "a", "count": 9}, {"prompt": "b", "size": "2k_16x9"}],
    )
    result = run_cli("--emulator", "batch", str(semi), "--dry-run", cwd=tmp_path)
    assert result.returncode == 2, result.output
    assert "OK" not in result.output
    assert _reported(result.stderr, semi) == [1, 2]
    assert "count must be between 1 and 4, got 9" in result.stderr
    assert "(did you mean '2k_16_9'?)" in result.stderr
    assert "--check-remote" in result.stderr


def test_a_dry_run_reports_every_bad_line_before_sending(inproc: Runner, tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "requests.jsonl", EVERY_CHECK)
    result = inproc(*NOWHERE, "batch", str(path), "--dry-run")
    assert result.returncode == 2, result.output
    assert _reported(result.stderr, path) == list(range(2, 12))
    assert "2 bad lines" not in result.stderr
    assert "10 bad lines; nothing was sent" in result.stderr


def test_check_remote_has_the_api_check_each_distinct_line(
    inproc: Runner, served: Served, tmp_path: Path
) -> None:
    path = _jsonl(
        tmp_path / "requests.jsonl",
        [
            {"prompt": "a"},
            {"prompt": "b", "lora_id": "no-such-lora"},
            {"prompt": "c", "size": "2k_16x9"},
            {"prompt": "d", "lora_id": "no-such-lora"},
        ],
    )
    result = inproc(*served.args, "batch", str(path), "--dry-run", "--check-remote")
    assert result.returncode == 2, result.output
    assert _reported(result.stderr, path) == [2, 3, 4]
    assert "the API refuses it (resource_not_found, lora_id)" in result.stderr
    assert served.emulator.team.generations == {}

    good = _jsonl(tmp_path / "good.jsonl", [{"prompt": "a"}, {"prompt": "b", "count": 2}])
    ok = inproc(*served.args, "--json", "batch", str(good), "--dry-run", "--check-remote")
    assert ok.returncode == 0, ok.output
    assert "the API accepted every distinct request" in ok.stderr
    assert ok.json()["check"]["remote"] is True


def test_a_plain_dry_run_says_what_only_the_api_can_check(
    inproc: Runner, served: Served, tmp_path: Path
) -> None:
    slug = served.emulator.client().loras.list()[0].slug
    assert slug is not None
    path = _jsonl(tmp_path / "r.jsonl", [{"prompt": "a"}, {"prompt": "b", "lora_id": slug}])
    result = inproc(*served.args, "batch", str(path), "--dry-run")
    assert result.returncode == 0, result.output
    assert "1 of 2 requests name LoRAs, characters, files or image URLs" in result.stderr
    assert "--check-remote" in result.stderr


def test_check_remote_goes_with_dry_run(inproc: Runner, tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "r.jsonl", [{"prompt": "a"}])
    result = inproc(*NOWHERE, "batch", str(path), "--check-remote")
    assert result.returncode == 2
    assert "use it with --dry-run" in result.stderr


def test_generate_video_and_batch_say_what_they_spent(
    inproc: Runner, served: Served, tmp_path: Path
) -> None:
    image = inproc(*served.args, "generate", *FAST, "a fox", "--count", "2", "--out", str(tmp_path))
    assert image.returncode == 0, image.output
    assert "Spent: 2 credits." in image.stderr
    as_json = inproc(*served.args, "--json", "generate", *FAST, "a cat", "--out", str(tmp_path))
    assert as_json.json()["spent"] == 1
    video = inproc(
        *served.args,
        "video",
        *FAST,
        "waves",
        "--lora",
        "seedance-1-pro",
        "--resolution",
        "720p",
        "--duration",
        "5",
        "--out",
        str(tmp_path),
    )
    assert video.returncode == 0, video.output
    assert "Spent: 3.75 credits." in video.stderr
    failed = inproc(*served.args, "generate", *FAST, "a cat [fail]", "--out", str(tmp_path))
    assert failed.returncode == 1
    assert "Spent: 0 credits (the generation ended failed; its hold of 1 credit was released)" in (
        failed.stderr
    )
    path = _jsonl(tmp_path / "r.jsonl", [{"prompt": "a"}, {"prompt": "b", "count": 3}])
    batch = inproc(*served.args, "batch", str(path), "--no-download", *FAST)
    assert batch.returncode == 0, batch.output
    assert "Spent: 4 credits this run." in batch.stderr


def test_usage_is_a_chart_with_totals_and_raw_rows(inproc: Runner, served: Served) -> None:
    client = served.emulator.client()
    client.images.create_and_wait(prompt="one", count=3, poll_interval=0.05)
    client.videos.create_and_wait(prompt="two", poll_interval=0.05)

    chart = inproc(*served.args, "usage", "--since", "1h", "--group-by", "type")
    assert chart.returncode == 0, chart.output
    lines = chart.stdout.splitlines()
    assert lines[0].startswith("Credits used since")
    bars = [line for line in lines if "#" in line]
    assert sorted(line.split()[-1] for line in bars) == ["3", "3.75"]
    assert max(line.count("#") for line in bars) == 40  # the largest bar is full width
    totals = {
        line.split()[0]: line.split()[1:] for line in lines if line.startswith(("type=", "total"))
    }
    assert totals["total"] == ["2", "2", "0", "0", "6.75", "3", "5"]

    raw = inproc(*served.args, "usage", "--since", "1h", "--group-by", "type", "--csv")
    rows = list(csv.DictReader(io.StringIO(raw.stdout)))
    assert {row["type"]: float(row["credits_used"]) for row in rows} == {"t2i": 3, "t2v": 3.75}
    assert set(rows[0]) >= {"bucket_start", "bucket_end", "type", "request_count"}

    events = inproc(*served.args, "usage", "--since", "1h", "--events", "--csv")
    assert len(list(csv.DictReader(io.StringIO(events.stdout)))) == 2

    both = inproc(*served.args, "--json", "usage", "--csv")
    assert both.returncode == 2
    assert "choose one" in both.stderr
