"""The examples run as a user would run them (against the emulator when no key is set)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import aurous
from aurous.emulator import Emulator

from .cli.conftest import Child, cli_env, serving, wait_until

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_quickstart_runs_against_the_emulator_without_a_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUROUS_")}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py"), "a lighthouse", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "using the local emulator" in done.stderr
    assert "estimated cost: 1 credits" in done.stdout
    assert ": succeeded" in done.stdout
    [png] = list(tmp_path.glob("img_*-0.png"))
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "balance: 999 credits available" in done.stdout


# ---- examples/batch_from_file.py -----------------------------------------------------------------

BATCH = [sys.executable, str(EXAMPLES / "batch_from_file.py")]
PROMPTS = [f"a lighthouse, take {n}" for n in range(6)]


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUROUS_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def _prompts(tmp_path: Path) -> Path:
    file = tmp_path / "prompts.txt"
    file.write_text("# one prompt per line\n" + "\n".join(PROMPTS) + "\n")
    return file


def _run_batch(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BATCH, *args],
        capture_output=True,
        text=True,
        env=env or _clean_env(),
        timeout=120,
        check=False,
    )


def test_batch_example_reports_every_bad_line(tmp_path: Path) -> None:
    file = tmp_path / "requests.jsonl"
    file.write_text('{"prompt": "a fox"}\n{"prompt": \n{"prompt": "x", "sise": "2k_1_1"}\n')

    done = _run_batch(str(file), "--emulator")

    assert done.returncode == 2
    assert "2 bad lines" in done.stderr
    assert "line 2: not valid JSON" in done.stderr
    assert "line 3: images.create() got an unexpected keyword argument 'sise'" in done.stderr
    assert "did you mean 'size'?" in done.stderr


def test_batch_example_needs_a_key_or_the_emulator(tmp_path: Path) -> None:
    done = _run_batch(str(_prompts(tmp_path)))

    assert done.returncode == 2
    assert "set AUROUS_API_KEY, or pass --emulator" in done.stderr


def test_batch_example_runs_on_the_emulator_within_a_budget(tmp_path: Path) -> None:
    out = tmp_path / "out"
    common = [str(_prompts(tmp_path)), "--out", str(out), "--emulator", "--poll-interval", "0.05"]

    over = _run_batch(*common, "--max-credits", "4")
    assert over.returncode == 3, over.stderr
    assert "6 requests, 6 images: 6 credits" in over.stdout
    assert "more than --max-credits 4" in over.stdout
    assert not out.exists()  # nothing ran

    done = _run_batch(
        *common, "--max-credits", "4", "--yes", "--results", str(tmp_path / "r.jsonl")
    )

    assert done.returncode == 1, done.stderr
    assert "4 of 6 succeeded (0 in earlier runs), 0 failed, 2 not started" in done.stdout
    assert "raise --max-credits and run the same command again" in done.stderr
    rows = aurous.read_results(tmp_path / "r.jsonl")
    assert [row["status"] for row in rows] == ["succeeded"] * 4 + ["not_started"] * 2
    assert sorted(p.name for p in out.glob("*.png")) == [f"{i:05d}-0.png" for i in range(4)]
    assert (out / "manifest.jsonl").is_file()


def test_batch_example_resumes_after_ctrl_c_without_duplicates(tmp_path: Path) -> None:
    emu = Emulator(clock="manual", seed=7, rate_limits=False)
    with serving(emu) as served:
        env = {"AUROUS_API_KEY": emu.api_key, "AUROUS_BASE_URL": served.server.base_url}
        out = tmp_path / "out"
        args = [str(_prompts(tmp_path)), "--out", str(out), "--concurrency", "1"]
        args += ["--poll-interval", "0.02"]

        def created() -> Counter[str]:
            return Counter(g.prompt or "" for g in emu.team.generations.values())

        def created_count(n: int) -> Callable[[], bool]:
            return lambda: sum(created().values()) == n

        with Child(args, env=env, program=BATCH) as child:
            child.expect("6 requests, 6 images: 6 credits", stream="stdout")
            for done in (1, 2):
                wait_until(created_count(done), f"item {done} created")
                emu.advance(5)  # an image takes 2 s of emulator time
                child.expect(f"[{done}/6] #{done - 1} img_", stream="stdout")
            # The third image is in flight, and stays so: the emulator's clock stands still.
            wait_until(created_count(3), "item 3 created")
            first = child.interrupt()

        assert first.returncode == 130, first.stderr
        assert "run the same command again to resume" in first.stderr
        assert created() == Counter(PROMPTS[:3])
        # The results table holds what finished before the interrupt.
        assert "2 finished requests in" in first.stderr
        early = aurous.read_results(out / "results.csv")
        assert [(row["index"], row["status"]) for row in early] == [
            (0, "succeeded"),
            (1, "succeeded"),
        ]

        stop = threading.Event()

        def finish_everything() -> None:
            while not stop.wait(0.02):
                emu.advance(5)

        clock = threading.Thread(target=finish_everything, daemon=True)
        clock.start()
        try:
            again = _run_batch(*args, env=cli_env(env))
        finally:
            stop.set()
            clock.join()

    assert again.returncode == 0, again.stderr
    assert again.stdout.count("(done in an earlier run)") == 2
    assert "6 of 6 succeeded (2 in earlier runs), 0 failed, 0 not started" in again.stdout
    # Every prompt was generated once over both runs: the image in flight was not made twice.
    assert created() == Counter(PROMPTS)
    rows = aurous.read_results(out / "results.csv")
    assert [row["status"] for row in rows] == ["succeeded"] * 6
    assert len({row["generation_id"] for row in rows}) == 6
    assert sorted(p.name for p in out.glob("*.png")) == [f"{i:05d}-0.png" for i in range(6)]


# ---- examples/prompts.csv and examples/prompts.jsonl -----------------------------------------


def test_the_shipped_requests_files_are_valid_and_say_the_same() -> None:
    # The README's batch commands run on these files: both read cleanly, to the same requests.
    from_csv = aurous.read_requests(EXAMPLES / "prompts.csv")
    from_jsonl = aurous.read_requests(EXAMPLES / "prompts.jsonl")
    assert len(from_csv) == 3
    assert from_csv == from_jsonl
