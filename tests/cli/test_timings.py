"""``--timings`` on ``generate``, ``video`` and ``wait``: after the result, where the time went
and what it cost — a chart on stderr, or a ``"timings"`` key with ``--json``."""

from __future__ import annotations

import io
import re
import sys
import time
from pathlib import Path

import pytest

from aurous._timings import PHASES
from aurous.cli import main

from .conftest import FAST, PNG_SIGNATURE, Runner, Served, run_cli

EMULATED = ["--emulator", "--emulator-speed", "4"]
"""A generation of half a second: long enough to be queued and processing, short to test."""
BAR = re.compile(r"^(\w+) +#+ +([\d.]+)$")


def _chart(stderr: str) -> tuple[float, dict[str, float], str]:
    """The total in the chart's title, its bars, and the summary line under them."""
    lines = stderr.splitlines()
    [start] = [n for n, line in enumerate(lines) if line.startswith("Where the time went: ")]
    title = re.match(r"Where the time went: ([\d.]+)s in \d+ calls? \(seconds\)$", lines[start])
    assert title is not None, lines[start]
    bars: dict[str, float] = {}
    for line in lines[start + 1 :]:
        bar = BAR.match(line)
        if bar is None:
            break
        bars[bar[1]] = float(bar[2])
    summary = lines[start + 1 + len(bars)]
    assert lines[start + 2 + len(bars) :] == [], "the summary is the last line"
    return float(title[1]), bars, summary


def test_generate_shows_where_the_time_went_after_the_result(tmp_path: Path) -> None:
    result = run_cli(
        *EMULATED, "generate", *FAST, "a lighthouse", "--out", str(tmp_path), "--timings"
    )

    assert result.returncode == 0, result.stderr
    # stdout is the result alone, as without --timings.
    [path] = result.stdout.splitlines()
    assert Path(path).read_bytes().startswith(PNG_SIGNATURE)
    total, bars, summary = _chart(result.stderr)
    assert "\x1b" not in result.stderr  # a pipe: plain bars
    assert {"queued", "processing"} <= set(bars) <= set(PHASES)
    assert list(bars) == [phase for phase in PHASES if phase in bars]
    assert sum(bars.values()) == pytest.approx(total, abs=0.1)
    # The chart explains the command's own time: the CLI's "Done in" (on its own clock, from
    # the create's answer) covers all of it but the create.
    done = re.search(r"^Done in ([\d.]+)s", result.stderr, re.MULTILINE)
    assert done is not None
    assert total == pytest.approx(float(done[1]), abs=0.3)
    assert re.match(r"\d+ requests \([\d.]+s in HTTP\)", summary)
    assert "in 1 file" in summary
    assert summary.endswith("cost 1 credit")
    assert result.stderr.index("Spent:") < result.stderr.index("Where the time went")


def test_generate_json_carries_the_timings_instead_of_a_chart(tmp_path: Path) -> None:
    started = time.monotonic()
    result = run_cli(
        *EMULATED, "--json", "generate", *FAST, "a fox", "--out", str(tmp_path), "--timings"
    )
    wall = time.monotonic() - started

    assert result.returncode == 0, result.stderr
    assert "Where the time went" not in result.stderr
    data = result.json()
    timings = data["timings"]
    phases = timings["phases"]
    assert list(phases) == list(PHASES)
    assert sum(phases.values()) == pytest.approx(timings["seconds"], abs=0.01)
    assert 0 < timings["seconds"] < wall
    for phase in ("request", "queued", "processing", "download"):
        assert phases[phase] > 0, phase
    assert phases["retrying"] == 0
    calls = [call["name"] for call in timings["calls"]]
    assert calls == ["images.create", "images.wait", "images.download"]
    assert sum(call["seconds"] for call in timings["calls"]) == pytest.approx(
        timings["seconds"], abs=0.01
    )
    assert timings["requests"] >= 3
    assert timings["files"] == 1
    assert timings["downloaded_bytes"] == Path(data["paths"][0]).stat().st_size
    assert timings["credits_charged"] == data["cost"]["amount"] == 1
    assert timings["credits_held"] == 1


def test_wait_shows_the_timings_of_its_polls(served: Served) -> None:
    gid = served.emulator.client().images.create(prompt="a harbour").id

    result = served.run("wait", *FAST, gid, "--timings")

    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()  # the result alone, as without --timings
    assert line.startswith(gid)
    assert "succeeded" in line
    total, bars, summary = _chart(result.stderr)
    assert set(bars) <= set(PHASES)  # one poll of an instant generation: perhaps none shown
    assert sum(bars.values()) == pytest.approx(total, abs=0.1)
    assert "in 1 call (seconds)" in result.stderr
    assert re.match(r"\d+ requests? \(", summary)
    assert summary.endswith("cost 1 credit")

    data = served.run("--json", "wait", *FAST, gid, "--timings").json()
    assert data["id"] == gid  # still the generation, with the timings beside its fields
    timings = data["timings"]
    assert [call["name"] for call in timings["calls"]] == ["images.wait"]
    assert timings["seconds"] > 0
    assert sum(timings["phases"].values()) == pytest.approx(timings["seconds"], abs=0.01)
    assert timings["credits_charged"] == 1


def test_video_takes_timings_and_no_timings_means_no_key(
    served: Served, inproc: Runner, tmp_path: Path
) -> None:
    video = ["video", *FAST, "waves", "--lora", "seedance-1-pro", "--duration", "2"]
    out = ["--out", str(tmp_path)]

    timed = inproc(*served.args, "--json", *video, *out, "--timings")
    plain = inproc(*served.args, "--json", *video, *out)

    assert timed.returncode == plain.returncode == 0, timed.stderr + plain.stderr
    calls = [call["name"] for call in timed.json()["timings"]["calls"]]
    assert calls == ["videos.create", "videos.wait", "videos.download"]
    assert "timings" not in plain.json()


def test_quiet_silences_the_messages_but_not_the_timings_asked_for(
    served: Served, inproc: Runner, tmp_path: Path
) -> None:
    result = inproc(
        *served.args, "-q", "generate", *FAST, "a fox", "--out", str(tmp_path), "--timings"
    )

    assert result.returncode == 0, result.stderr
    assert "Created" not in result.stderr
    assert result.stderr.startswith("Where the time went: ")


def test_a_generation_that_failed_still_shows_its_timings(
    served: Served, inproc: Runner, tmp_path: Path
) -> None:
    result = inproc(
        *served.args, "generate", *FAST, "[fail] a fox", "--out", str(tmp_path), "--timings"
    )

    assert result.returncode == 1
    _, _, summary = _chart(result.stderr.split("Error:")[0].rstrip() + "\n")
    assert summary.endswith("cost 0 credits")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_with_rich_the_bars_are_rich(
    served: Served, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("rich")
    monkeypatch.setenv("TERM", "xterm-256color")
    stdout, stderr = _Terminal(), _Terminal()
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", stderr)

    code = main([*served.args, "generate", *FAST, "a fox", "--out", str(tmp_path), "--timings"])

    text = stderr.getvalue()
    assert code == 0, text
    tail = text[text.index("Where the time went") :]
    assert "█" in tail
    assert "#" not in tail
    assert "cost 1 credit" in tail
    assert "Where the time went" not in stdout.getvalue()
