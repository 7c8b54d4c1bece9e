"""A faithful, stateful emulator of the Aurous HTTP API, in-process or served.

>>> from aurous.emulator import Emulator
>>> emu = Emulator(clock="manual")
>>> client = emu.client()

See ``ARCHITECTURE.md`` in this package for how it is built and how to extend it.
"""

# The pytest plugin (``aurous.emulator.pytest_plugin``, a pytest11 entry point) imports this
# package in every pytest run wherever aurous is installed, so nothing is imported until a
# name is first used (PEP 562).

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from ._clock import ManualClock, RealClock, SdkClock
    from ._config import EmulatorConfig, Phases
    from ._emulator import IN_PROCESS_BASE_URL, Emulator
    from ._faults import Faults, Gate
    from ._hooks import EventHooks
    from ._http import EmuRequest, EmuResponse
    from ._server import EmulatorServer

__all__ = [
    "IN_PROCESS_BASE_URL",
    "EmuRequest",
    "EmuResponse",
    "Emulator",
    "EmulatorConfig",
    "EmulatorServer",
    "EventHooks",
    "Faults",
    "Gate",
    "ManualClock",
    "Phases",
    "RealClock",
    "SdkClock",
]

_SOURCES = {
    "IN_PROCESS_BASE_URL": "._emulator",
    "EmuRequest": "._http",
    "EmuResponse": "._http",
    "Emulator": "._emulator",
    "EmulatorConfig": "._config",
    "EmulatorServer": "._server",
    "EventHooks": "._hooks",
    "Faults": "._faults",
    "Gate": "._faults",
    "ManualClock": "._clock",
    "Phases": "._config",
    "RealClock": "._clock",
    "SdkClock": "._clock",
}

if not TYPE_CHECKING:  # hidden from type checkers: see aurous._lazy
    __getattr__, __dir__ = lazy_attributes(__name__, _SOURCES, __all__)
