"""benchmarks/batch.py runs end to end with tiny counts (a smoke test: no timing assertions)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "batch.py"


def _rows(output: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in output.splitlines()
        if line.startswith("| ") and not line.startswith("| batch") and "media" not in line
    ]


@pytest.mark.slow
def test_the_batch_benchmark_runs_every_scenario() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = _rows(result.stdout)
    batches = {row[0]: row for row in rows if row[0] in ("images", "videos")}
    assert set(batches) == {"images", "videos"}
    for row in batches.values():
        count, ok = row[1], row[2]
        assert ok == count, row  # every generation succeeded
        assert float(row[5]) > 0  # a ratio to what the limits allow was computed
    previews = {row[0]: row for row in rows if row[0] in ("image", "video")}
    assert set(previews) == {"image", "video"}
    for row in previews.values():
        lines, requests = int(row[1]), int(row[2])
        assert requests < lines / 10  # priced by class, not by line
