"""benchmarks/pacing.py runs end to end with tiny counts (a smoke test: no timing assertions)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "pacing.py"


@pytest.mark.slow
def test_the_pacing_benchmark_prints_every_run() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    rows = [
        line
        for line in result.stdout.splitlines()
        if line.startswith("| ") and "pacing" not in line
    ]
    assert len(rows) == 6
    paced = [row for row in rows if "| on |" in row]
    # With pacing every caller succeeds: "n/n".
    for row in paced:
        succeeded = row.split("|")[3].strip()
        done, total = succeeded.split("/")
        assert done == total, row
