"""The examples run as a user would run them (against the emulator when no key is set)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
