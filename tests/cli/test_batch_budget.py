"""``aurous batch --dry-run`` and ``--max-credits``: the preview, the cap, the balance running out,
and resuming with a larger cap or after a top-up without generating anything twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from aurous.emulator import Emulator

from .conftest import FAST, Runner, Served, serving

PROMPTS = [f"a lighthouse, take {n}" for n in range(5)]


def _file(tmp_path: Path, prompts: list[str] = PROMPTS) -> Path:
    path = tmp_path / "prompts.txt"
    path.write_text("\n".join(prompts) + "\n")
    return path


def _created(served: Served) -> Counter[str]:
    return Counter(g.prompt or "" for g in served.emulator.team.generations.values())


@pytest.fixture
def short_of_credits() -> Iterator[Served]:
    """A served emulator whose team has 3 credits: the fourth image is refused with a 402."""
    with serving(Emulator(instant=True, seed=7, credits=3)) as served:
        yield served


# ---- the preview -------------------------------------------------------------------------------


def test_dry_run_shows_the_price_and_creates_nothing(
    inproc: Runner, served: Served, tmp_path: Path
) -> None:
    file = tmp_path / "prompts.jsonl"
    file.write_text('{"prompt": "a fox", "count": 2}\n{"prompt": "a whale"}\n{"prompt": "a cat"}\n')

    result = inproc(*served.args, "batch", str(file), "--dry-run", "--max-credits", "10")

    assert result.returncode == 0, result.output
    rows = {line[:20].strip(): line[20:].strip() for line in result.stdout.splitlines()}
    assert rows["requests"] == "3 (3 distinct)"
    assert rows["price classes"] == "2"
    assert rows["outputs"] == "4 images"
    assert rows["total"] == "4 credits"
    assert rows["balance"] == "1000 credits available"
    assert rows["balance after"] == "996 credits"
    assert rows["balance covers"] == "all 3 requests"
    assert rows["--max-credits"] == "10: covers all 3 requests"
    assert rows["minimum duration"].endswith("(a lower bound)")
    assert rows["generation time"] == "10.0s each (the documented lower end)"
    assert rows["create rate"] == "120 at once, then 1/s (documented)"
    assert rows["generations at once"].startswith("8: team limit 10 (documented)")
    assert "OK: " in result.stderr
    assert served.emulator.team.generations == {}


def test_dry_run_json_is_the_estimate(inproc: Runner, served: Served, tmp_path: Path) -> None:
    result = inproc(*served.args, "--json", "batch", str(_file(tmp_path)), "--dry-run")

    assert result.returncode == 0, result.output
    data = result.json()
    assert data["media"] == "image"
    assert data["requests"] == 5
    assert data["total"] == 5
    assert data["balance_after"] == 995
    assert data["affordable"] == 5
    assert len(data["items"]) == 5
    assert data["limits"]["concurrency_limit"] == 10
    assert data["check"] == {
        "ok": True,
        "fits_balance": True,
        "max_credits": None,
        "fits_max_credits": True,
        "within_max_credits": 5,
        "remote": False,
        "unchecked": 0,
    }
    assert served.emulator.team.generations == {}


def test_dry_run_over_the_cap_exits_3(inproc: Runner, served: Served, tmp_path: Path) -> None:
    result = inproc(
        *served.args, "--json", "batch", str(_file(tmp_path)), "--dry-run", "--max-credits", "2"
    )

    assert result.returncode == 3
    check = result.json()["check"]
    assert (check["ok"], check["fits_max_credits"], check["within_max_credits"]) == (
        False,
        False,
        2,
    )
    assert "Over budget: the batch needs 5 credits; --max-credits 2 covers 2 of 5" in result.stderr
    assert served.emulator.team.generations == {}


def test_dry_run_over_the_balance_exits_3(
    inproc: Runner, short_of_credits: Served, tmp_path: Path
) -> None:
    result = inproc(*short_of_credits.args, "batch", str(_file(tmp_path)), "--dry-run")

    assert result.returncode == 3
    assert "balance covers       3 of 5 (in order)" in result.stdout
    assert "Over budget: the balance covers 3 of 5 requests (-2 credits after" in result.stderr
    assert short_of_credits.emulator.team.generations == {}


def test_dry_run_of_videos(inproc: Runner, served: Served, tmp_path: Path) -> None:
    file = _file(tmp_path, ["waves at dusk", "snow falling"])

    result = inproc(
        *served.args,
        "--json",
        "batch",
        str(file),
        "--video",
        "--resolution",
        "720p",
        "--duration",
        "4",
        "--dry-run",
    )

    assert result.returncode == 0, result.output
    data = result.json()
    assert data["media"] == "video"
    # 0.5 credit per second × 1.5 for 720p × 4 s, twice.
    assert data["total"] == 6
    assert served.emulator.team.generations == {}


# ---- a cap smaller than the job ----------------------------------------------------------------


def test_a_cap_smaller_than_the_job_then_a_resume_with_a_larger_one(
    inproc: Runner, served: Served, tmp_path: Path
) -> None:
    file = _file(tmp_path)
    manifest = tmp_path / "run.jsonl"
    args = [*served.args, "batch", *FAST, str(file), "--no-download", "--manifest", str(manifest)]

    first = inproc(*args, "--concurrency", "2", "--max-credits", "2")

    assert first.returncode == 1, first.output
    assert _created(served) == Counter(PROMPTS[:2])
    summary = {line[:22].strip(): line.split()[-1] for line in first.stdout.splitlines()}
    assert summary["succeeded"] == "2"
    assert summary["not started (budget)"] == "3"
    assert summary["failed"] == "0"
    assert first.stderr.count("not started: over the credit cap") == 3
    assert "not started 3" in first.stderr
    assert "run the same command with a larger --max-credits" in first.stderr
    assert f"the same --manifest {manifest}" in first.stderr
    assert "Error: 3 of 5 requests not started" in first.stderr

    again = inproc(*args, "--concurrency", "2", "--max-credits", "5", "--json")

    assert again.returncode == 0, again.output
    data = again.json()
    assert data["summary"]["succeeded"] == 5
    assert data["summary"]["skipped"] == 2
    assert data["summary"]["not_started"] == 0
    assert data["summary"]["credits"] == 3  # this run
    assert data["summary"]["credits_all_runs"] == 5
    # Every prompt was generated exactly once over both runs.
    assert _created(served) == Counter(PROMPTS)


def test_a_cap_without_a_manifest_says_how_to_make_the_run_resumable(
    inproc: Runner, served: Served, tmp_path: Path
) -> None:
    result = inproc(
        *served.args,
        "--json",
        "batch",
        *FAST,
        str(_file(tmp_path)),
        "--no-download",
        "--max-credits",
        "1",
        "--concurrency",
        "1",
    )

    assert result.returncode == 1
    assert result.json()["summary"]["not_started_budget"] == 4
    statuses = [r["status"] for r in result.json()["results"]]
    assert statuses == ["succeeded"] + ["not_started"] * 4
    assert "--manifest FILE next time" in result.stderr


# ---- the balance runs out ----------------------------------------------------------------------


def test_a_402_midway_leaves_the_rest_not_started_until_a_top_up(
    inproc: Runner, short_of_credits: Served, tmp_path: Path
) -> None:
    served = short_of_credits
    manifest = tmp_path / "run.jsonl"
    args = [
        *served.args,
        "batch",
        *FAST,
        str(_file(tmp_path)),
        "--no-download",
        "--manifest",
        str(manifest),
        "--concurrency",
        "1",
    ]

    first = inproc(*args)

    assert first.returncode == 1, first.output
    assert _created(served) == Counter(PROMPTS[:3])
    summary = {line[:22].strip(): line.split()[-1] for line in first.stdout.splitlines()}
    assert summary["succeeded"] == "3"
    assert summary["not started (balance)"] == "2"
    assert summary["failed"] == "0"
    assert first.stderr.count("not started: the balance ran out") == 2
    assert "the team's balance ran out. Top up, then run the same command again" in first.stderr

    served.emulator.set_balance(100)
    again = inproc(*args)

    assert again.returncode == 0, again.output
    assert again.stderr.count("skipped (already done)") == 3
    assert _created(served) == Counter(PROMPTS)
