"""A faithful, stateful emulator of the Aurous HTTP API, in-process or served.

>>> from aurous.emulator import Emulator
>>> emu = Emulator(clock="manual")
>>> client = emu.client()

See ``ARCHITECTURE.md`` in this package for how it is built and how to extend it.
"""

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
