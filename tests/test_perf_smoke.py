"""``benchmarks/perf.py`` runs end to end with tiny counts (no timing is asserted: see the script)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PERF = Path(__file__).resolve().parents[1] / "benchmarks" / "perf.py"


@pytest.mark.slow
def test_the_benchmark_prints_every_section() -> None:
    result = subprocess.run(
        [sys.executable, str(PERF), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for section in (
        "sync images.retrieve",
        "sync images.create",
        "sync list page (100 items)",
        "async images.retrieve @8",
        "import (fresh interpreter)",
        "import peak RSS",
        "construction (10 alive)",
        "RSS per live client (10)",
        "pytest --co, empty project",
        "pytest --co, -X importtime total",
    ):
        assert section in out, section
    for row in ("raw httpx", "raw httpx + pydantic (typed floor)", "aurous pacing=False"):
        assert row in out, row
    # Every measured row has a number; a skipped one says why.
    assert "nan" not in out
    assert "Traceback" not in result.stderr


def test_the_benchmark_server_answers_like_the_api() -> None:
    # The server must not be the bottleneck, but it must be right: the SDK parses its answers.
    sys.path.insert(0, str(PERF.parent))
    try:
        import perf
    finally:
        sys.path.remove(str(PERF.parent))
    import aurous

    with perf.server() as srv, aurous.Client(api_key=perf.API_KEY, base_url=srv.base_url) as c:
        generation = c.images.retrieve(perf.GENERATION_ID)
        assert generation.id == perf.GENERATION_ID
        assert generation._response is not None
        assert generation._response.rate_limit.remaining == 1199
        assert c.images.retrieve("img_other").id == perf.GENERATION_ID  # any id: the same row
        assert c.images.create(prompt="x").status == "pending"
        page = c.images.list(limit=100)
        assert len(page.data) == 100
        assert srv.cpu_seconds() >= 0
