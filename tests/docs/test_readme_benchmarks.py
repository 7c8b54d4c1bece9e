"""The README's benchmark table: each row says how to reproduce it, and the aiohttp rows set the
SDK against the same transport, so the transport's gain is not taken for the SDK's.

The README once put "4,741 (10.6×)" in the aurous column for ``DefaultAioHttpClient``: that was
aurous on aiohttp over raw httpx on httpx's own transport, the transport swap and not the SDK.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

from ._blocks import ROOT

README = ROOT / "README.md"
PERF = ROOT / "benchmarks" / "perf.py"


def _table_rows() -> list[list[str]]:
    section = README.read_text(encoding="utf-8").split("\n## Benchmarks\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    return [row for row in cells[2:] if row]  # the header and its rule aside


ROWS = _table_rows()


def test_the_table_has_rows_and_a_command_column() -> None:
    header = README.read_text(encoding="utf-8").split("\n## Benchmarks\n", 1)[1]
    assert "| command |" in header.split("\n|---", 1)[0]
    assert len(ROWS) >= 10


@pytest.mark.parametrize("row", ROWS, ids=[r[0][:40] for r in ROWS])
def test_each_row_names_the_command_that_reproduces_it(row: list[str]) -> None:
    commands = re.findall(r"`(python benchmarks/[^`]+)`", row[-1])
    assert commands, f"no command beside: {row[0]}"
    for command in commands:
        argv = shlex.split(command)
        assert (ROOT / argv[1]).is_file(), command
        if argv[1] == "benchmarks/perf.py":
            sections = [argv[i + 1] for i, a in enumerate(argv) if a == "--only"]
            known = {"sync", "async", "import", "construction", "pytest"}
            assert set(sections) <= known, command


def test_the_aiohttp_rows_compare_the_sdk_on_the_same_transport() -> None:
    text = " ".join(" | ".join(row) for row in ROWS)
    assert "10.6×" not in text
    aiohttp = [row for row in ROWS if "DefaultAioHttpClient" in row[0]]
    assert aiohttp, "no row for DefaultAioHttpClient"
    assert all("same `httpx-aiohttp` transport" in row[0] for row in aiohttp)
    assert any("raw aiohttp" in row[0] for row in aiohttp)
    gain = [row for row in ROWS if "transport's own gain" in row[0]]
    assert gain, "the transport's gain is not labelled as the transport's"
    assert "typed floor" in " ".join(row[0] for row in ROWS if "µs per call" in row[0])


@pytest.mark.slow
def test_the_benchmark_prints_the_rows_the_readme_quotes() -> None:
    done = subprocess.run(
        [sys.executable, str(PERF), "--quick", "--only", "sync", "--only", "async"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for row in (
        "raw httpx-aiohttp + pydantic (typed floor on aiohttp)",
        "raw aiohttp + pydantic (typed)",
        "aurous + DefaultAioHttpClient",
        "transport's gain: typed floor on aiohttp / on httpx",
        "aurous on aiohttp / typed floor on the same transport",
        "aurous on aiohttp / raw aiohttp + pydantic",
        "aurous over the typed floor (time per call)",
    ):
        assert row in done.stdout, row
    assert "skipped" not in done.stdout
