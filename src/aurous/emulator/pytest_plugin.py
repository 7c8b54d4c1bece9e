"""pytest fixtures for testing code that uses ``aurous`` (registered as a pytest11 plugin).

- ``aurous_emulator``: an :class:`~aurous.emulator.Emulator` on a manual clock; call
  ``aurous_emulator.client()`` for a wired SDK client and ``aurous_emulator.advance(s)`` to move
  time.
- ``aurous_emulator_server``: the same emulator served over HTTP on 127.0.0.1 (ephemeral port);
  use ``.base_url`` and ``.emulator``.
"""

# Imported in every pytest run wherever aurous is installed (a pytest11 entry point): only
# pytest at module level; the fixtures import the emulator when a test asks for them.

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ._emulator import Emulator
    from ._server import EmulatorServer


@pytest.fixture
def aurous_emulator() -> Iterator[Emulator]:
    """A fresh emulator with a manual clock (nothing moves until ``advance``)."""
    from ._emulator import Emulator

    emu = Emulator(clock="manual")
    try:
        yield emu
    finally:
        emu.close()


@pytest.fixture
def aurous_emulator_server(aurous_emulator: Emulator) -> Iterator[EmulatorServer]:
    """``aurous_emulator`` served over a real loopback socket."""
    with aurous_emulator.serve() as server:
        yield server
