"""``docs/_ext/trace_waterfall.py`` draws the tracing guide's picture from real exported spans."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "_ext" / "trace_waterfall.py"
PICTURE = ROOT / "docs" / "images" / "trace.svg"
SVG = "{http://www.w3.org/2000/svg}"
SPANS = {
    "make a poster",
    "images.create_and_wait",
    "POST /v1/images",
    "GET /v1/images/{generation_id}",
    "images.download",
    "GET /v1/images/{generation_id}/output/{n}",
}


def _check(path: Path) -> None:
    root = ET.parse(path).getroot()  # well-formed, or this raises
    assert root.tag == f"{SVG}svg"
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert not SPANS - texts, SPANS - texts
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) >= 8  # a bar per span: the retry and the polls make more than the names
    tips = " ".join(t.text or "" for t in root.iter(f"{SVG}title"))
    for event in ("aurous.retry", "aurous.poll", "aurous.pacing.wait", "aurous.download"):
        assert event in tips, event
    assert "HTTP 503" in tips  # the failed create, drawn as such
    assert len(list(root.iter(f"{SVG}path"))) >= 5  # the events' marks


def test_the_script_draws_the_trace(tmp_path: Path) -> None:
    out = tmp_path / "trace.svg"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    _check(out)


def test_the_guide_shows_a_picture_the_script_made() -> None:
    _check(PICTURE)
    assert "](../images/trace.svg)" in (ROOT / "docs" / "guides" / "tracing.md").read_text()
