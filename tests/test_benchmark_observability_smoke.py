"""``benchmarks/observability.py`` runs end to end with tiny counts (no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "observability.py"


@pytest.mark.slow
def test_the_observability_benchmark_prints_every_row() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for section in ("over loopback", "in-process"):
        assert section in out, section
    for row in (
        "| raw httpx |",
        "| aurous, OpenTelemetry not imported |",
        "| aurous, OpenTelemetry imported, no provider |",
        "| aurous, tracing + metrics (SDK, in-memory) |",
    ):
        assert out.count(row) == 2, row
    assert out.count("off vs not imported:") == 2
    assert "the per-call check alone" in out
    assert "nan" not in out
