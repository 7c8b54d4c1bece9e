"""Fixtures of the reliability drills: both clients, and the figures each drill observed.

Set ``AUROUS_DRILL_REPORT=path.json`` to have the figures written when the run ends (what
RELIABILITY.md quotes); without it they are only checked.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ._support import Both

_FIGURES: dict[str, dict[str, Any]] = {}


@pytest.fixture(params=["sync", "async"])
def both(request: pytest.FixtureRequest) -> Iterator[Both]:
    runner = Both(request.param)
    yield runner
    runner.close()


class Figures:
    """Adds up what one drill observed, under the drill's name, across its parametrised runs."""

    def __init__(self, drill: str) -> None:
        self.entry = _FIGURES.setdefault(drill, {"runs": 0, "seconds": 0.0})
        self.started = time.monotonic()

    def add(self, **counts: float) -> None:
        for name, value in counts.items():
            self.entry[name] = self.entry.get(name, 0) + value

    def finish(self) -> None:
        self.entry["runs"] += 1
        self.entry["seconds"] = round(self.entry["seconds"] + time.monotonic() - self.started, 2)


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    """``figures.add(generations=…, charged=…)``; the drill is named after the test module."""
    drill = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    recorder = Figures(drill)
    yield recorder
    recorder.finish()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    target = os.environ.get("AUROUS_DRILL_REPORT")
    if target and _FIGURES:
        with open(target, "w", encoding="utf-8") as handle:
            json.dump(_FIGURES, handle, indent=2, sort_keys=True)
