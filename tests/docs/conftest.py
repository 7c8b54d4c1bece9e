"""Fixtures of the documentation tests: the emulator the examples talk to, as users would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aurous.emulator import Emulator, EmulatorServer

from ._blocks import ROOT


@pytest.fixture(scope="session")
def docs_emulator() -> Iterator[tuple[Emulator, EmulatorServer]]:
    """The emulator served on 127.0.0.1, as ``aurous emulator serve --instant`` would serve it.

    Webhook deliveries go to an in-memory receiver: the examples register endpoints on
    ``https://example.com``, and nothing may leave this machine.
    """
    emu = Emulator(
        instant=True,
        credits=1_000_000,
        rate_limits=False,
        webhook_sender=lambda outgoing: 200,
    )
    try:
        with emu.serve() as server:
            yield emu, server
    finally:
        emu.close()


@pytest.fixture
def docs_env(
    docs_emulator: tuple[Emulator, EmulatorServer],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Emulator:
    """A fresh working directory and ``AUROUS_*`` pointing at the served emulator."""
    emu, server = docs_emulator
    for name in list(os.environ):
        if name.startswith("AUROUS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AUROUS_API_KEY", emu.api_key)
    monkeypatch.setenv("AUROUS_BASE_URL", server.base_url)
    monkeypatch.chdir(tmp_path)
    return emu


MKDOCS_ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documentation site, built with ``mkdocs build --strict`` (a warning fails it)."""
    site = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=MKDOCS_ENV,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    return site
