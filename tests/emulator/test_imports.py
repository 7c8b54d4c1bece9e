"""Importing the pytest plugin (loaded in every pytest run) must not import the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import aurous.emulator

SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_the_pytest_plugin_imports_no_emulator_module() -> None:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    code = (
        "import aurous.emulator.pytest_plugin, sys; "
        "print(sorted(m for m in sys.modules if m.startswith('aurous.emulator')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "['aurous.emulator', 'aurous.emulator.pytest_plugin']"


def test_public_names_resolve_on_first_use() -> None:
    for name in aurous.emulator.__all__:
        assert getattr(aurous.emulator, name) is not None
    assert set(aurous.emulator.__all__) <= set(dir(aurous.emulator))
    from aurous.emulator import Emulator, Gate

    assert Emulator.__module__ == "aurous.emulator._emulator"
    assert Gate.__module__ == "aurous.emulator._faults"
    with pytest.raises(AttributeError, match="Nothing"):
        aurous.emulator.Nothing  # noqa: B018
