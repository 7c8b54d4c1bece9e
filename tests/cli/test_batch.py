"""``aurous batch``: progress, summary, failures, and resuming an interrupted run."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from .conftest import FAST, PNG_SIGNATURE, Served, cli_command, cli_env

PROMPTS = [f"lighthouse number {n}" for n in range(6)]


def _created_prompts(served: Served) -> Counter[str]:
    client = served.emulator.client()
    return Counter(g.prompt or "" for g in client.images.list(limit=100))


def _write_file(tmp_path: Path) -> Path:
    lines = ["# a comment, then a blank line", ""]
    lines += PROMPTS[:3]
    lines += [json.dumps({"prompt": p, "size": "2k_3_2"}) for p in PROMPTS[3:]]
    path = tmp_path / "prompts.txt"
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


def test_malformed_jsonl_line_is_a_usage_error(served: Served, tmp_path: Path) -> None:
    file = tmp_path / "prompts.jsonl"
    file.write_text('{"prompt": "ok"}\n{"prompt": \n')

    result = served.run("batch", *FAST, str(file))

    assert result.returncode == 2
    assert f"{file}:2: not valid JSON" in result.stderr
    assert _created_prompts(served) == Counter()


def test_interrupted_batch_resumes_from_the_manifest_without_duplicates(
    served: Served, tmp_path: Path
) -> None:
    file = _write_file(tmp_path)
    manifest = tmp_path / "run.jsonl"
    out = tmp_path / "out"
    args = [
        *served.args,
        "batch",
        *FAST,
        str(file),
        "--concurrency",
        "1",
        "--manifest",
        str(manifest),
        "--out",
        str(out),
    ]
    # Slow creates down so the first run is still busy when it is interrupted.
    served.emulator.faults.latency(0.4, pattern="POST /v1/images")
    proc = subprocess.Popen(
        cli_command(args), env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(list(out.glob("*.png"))) < 2:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=20)
    finally:
        proc.kill()
    first_run = _created_prompts(served)
    assert proc.returncode == 130, stderr.decode()
    assert "run the same command again to resume" in stderr.decode()
    assert 2 <= sum(first_run.values()) < len(PROMPTS)

    served.emulator.faults.clear()
    result = served.run(*args[4:])

    assert result.returncode == 0, result.stderr
    # Every prompt was created exactly once over both runs: nothing billed twice.
    assert _created_prompts(served) == Counter(PROMPTS)
    assert "skipped (already done)" in result.stderr
    assert len(list(out.glob("*.png"))) == len(PROMPTS)
