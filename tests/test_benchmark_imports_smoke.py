"""The import section of ``benchmarks/perf.py`` runs with tiny counts (no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PERF = Path(__file__).resolve().parents[1] / "benchmarks" / "perf.py"


@pytest.mark.slow
def test_the_import_benchmark_prints_every_row() -> None:
    result = subprocess.run(
        [sys.executable, str(PERF), "--quick", "--only", "import"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for section in (
        "import (fresh interpreter)",
        "import + first call (fresh interpreter)",
        "import peak RSS",
    ):
        assert section in out, section
    for row in (
        "import httpx, pydantic",
        "from aurous import Client",
        "aurous.Client, .AsyncClient, .Generation",
        "httpx, pydantic + a plain model",
        "httpx + plain pydantic model: GET + parse",
        "aurous.Client().images.retrieve",
        "aurous.Generation.model_validate_json",
    ):
        assert f"  {row}  " in out, row
    # The first-call rows also give their ratio to the import yardstick, and the names a
    # program touches theirs to the plain model's.
    assert out.count("x import httpx, pydantic") == 3
    assert out.count("x httpx, pydantic + a plain model") == 1
    assert "nan" not in out
    assert "Traceback" not in result.stderr
