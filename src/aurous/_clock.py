"""Time as the SDK sees it. Swappable so that an emulator with a manual clock can drive the SDK."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """What the SDK needs from time: a monotonic reading and sleeping (sync and async)."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    async def asleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        # Deferred: a program using only the sync client never loads asyncio (an event loop is
        # running here, so this is a lookup).
        import asyncio

        await asyncio.sleep(max(0.0, seconds))


SYSTEM_CLOCK = SystemClock()
