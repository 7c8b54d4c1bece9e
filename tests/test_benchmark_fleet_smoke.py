"""benchmarks/fleet.py runs end to end with tiny counts (a smoke test: no timing assertions)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "fleet.py"


@pytest.mark.slow
@pytest.mark.parametrize("options", [["--poll", "0.25"], ["--poll", "default", "--warm"]])
def test_the_fleet_benchmark_prints_a_row_per_store_and_fleet(options: list[str]) -> None:
    stores = "local,file,redis" if shutil.which("redis-server") else "local,file"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--stores", stores, *options],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ") and "**" in line]
    assert len(rows) == 2 * len(stores.split(",")), result.stdout
    for row in rows:
        assert row.split("|")[3].strip() == "8", row  # every caller's generation finished
