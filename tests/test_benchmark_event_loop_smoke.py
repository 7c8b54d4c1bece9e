"""``benchmarks/event_loop.py`` runs end to end with tiny counts (no timing is asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "event_loop.py"


@pytest.mark.slow
def test_the_event_loop_benchmark_prints_every_row() -> None:
    # --compare with this checkout's own src: the interleaved two-variant path, twice as cheap
    # to check as with an older worktree (which the benchmark supports the same way).
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--compare", str(ROOT / "src")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\nsocket\n" in out
    assert "\nin-process (the emulator on the loop)\n" in out
    for phase in ("idle", "first batch (cold)", "batch", "downloads"):
        for variant in ("current", "previous"):
            rows = re.findall(rf"^  {re.escape(f'{phase}, {variant}')}  +(\S+) ", out, re.M)
            assert len(rows) == 2, (phase, variant)  # one per transport
            assert all(float(value) >= 0 for value in rows)
    assert out.count("the emulator's longest request") == 2
    assert "nan" not in out
    assert "Traceback" not in result.stderr
