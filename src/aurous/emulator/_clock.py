"""Clocks the emulator can run on, and how it writes time on the wire."""

from __future__ import annotations

import asyncio
import datetime as _dt
import math
import re
import threading
import time
from typing import Protocol, runtime_checkable

__all__ = [
    "Clock",
    "ManualClock",
    "RealClock",
    "SdkClock",
    "WarpClock",
    "WarpSdkClock",
    "format_timestamp",
    "parse_timestamp",
]

# 2026-05-20T10:00:00Z: the day the fixtures describe, so manual-clock runs read like them.
DEFAULT_MANUAL_START = 1779271200.0


@runtime_checkable
class Clock(Protocol):
    """What the emulator needs from a clock. Times are Unix seconds (float)."""

    def now(self) -> float:
        """Current emulator time."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of emulator time pass (real sleep or a manual advance)."""
        ...

    async def asleep(self, seconds: float) -> None:
        """Async form of :meth:`sleep`."""
        ...


class RealClock:
    """Wall-clock time. Sleeping really sleeps."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that moves only when told to. ``sleep`` advances it instead of waiting."""

    def __init__(self, start: float = DEFAULT_MANUAL_START) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` (negative values are refused) and return the new now."""
        if seconds < 0:
            raise ValueError("a manual clock cannot go backwards")
        with self._lock:
            self._now += seconds
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)


class SdkClock:
    """The clock handed to SDK clients (``client._set_clock``) when the emulator clock is manual.

    ``monotonic`` reads the emulator clock and ``sleep``/``asleep`` advance it, so SDK polling
    and retry back-off run instantly and deterministically.
    """

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock

    def monotonic(self) -> float:
        return self._clock.now()

    def time(self) -> float:
        return self._clock.now()

    def sleep(self, seconds: float) -> None:
        self._clock.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        self._clock.sleep(seconds)
        await asyncio.sleep(0)


class WarpClock(RealClock):
    """Wall-clock time that the emulator's own SDK clients may move ahead: ``instant`` and
    ``speed`` on the real clock.

    ``instant`` and ``speed`` shorten generations, but a client still waits its poll interval
    (2 s) before it looks again, so ``create_and_wait`` took 2 s whatever they said. A client from
    `Emulator.client` sleeps on a `WarpSdkClock` instead: ``factor`` times shorter in real time
    (not at all when instant), after which this clock is moved on to where the full sleep would
    have ended. The emulator reads the same moved time, so its rate-limit buckets refill by what
    the client believes passed, and pacing stays consistent instead of meeting 429s.

    Several clients sleeping at once move the clock to the latest of their wake-up times, not
    by the sum of their sleeps. Served clients, which sleep in real time, see an ordinary clock
    that may run ahead of the wall clock.
    """

    def __init__(self, factor: float) -> None:
        if not factor > 1:
            raise ValueError("a warp factor must be greater than 1")
        self.factor = factor
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        """Seconds this clock runs ahead of the wall clock."""
        with self._lock:
            return self._offset

    def now(self) -> float:
        return time.time() + self.offset

    def real_seconds(self, seconds: float) -> float:
        """How long a client sleep of ``seconds`` really takes (0 when instant)."""
        return 0.0 if self.factor == math.inf else max(0.0, seconds) / self.factor

    def reach(self, target: float) -> None:
        """Move the clock on so that it reads at least ``target`` (never backwards)."""
        with self._lock:
            self._offset = max(self._offset, target - time.time())


class WarpSdkClock:
    """The SDK side of a `WarpClock`: sleeps are shortened, then the clock is moved on."""

    def __init__(self, clock: WarpClock) -> None:
        self._clock = clock

    def monotonic(self) -> float:
        return time.monotonic() + self._clock.offset

    def time(self) -> float:
        return self._clock.now()

    def sleep(self, seconds: float) -> None:
        target = self._clock.now() + seconds
        real = self._clock.real_seconds(seconds)
        if real > 0:
            time.sleep(real)
        self._clock.reach(target)

    async def asleep(self, seconds: float) -> None:
        target = self._clock.now() + seconds
        # Even an instant sleep yields once, so that other tasks run as they would.
        await asyncio.sleep(self._clock.real_seconds(seconds))
        self._clock.reach(target)


def format_timestamp(ts: float) -> str:
    """RFC 3339 in UTC with ``Z``, whole seconds."""
    moment = _EPOCH + _dt.timedelta(seconds=int(ts // 1))
    # Not strftime: "%Y" is not zero-padded below year 1000 on every platform.
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    )


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_MIN_TS = -62135596800.0  # 0001-01-01T00:00:00Z
_MAX_TS = 253402300800.0  # 10000-01-01T00:00:00Z


def parse_timestamp(value: str) -> float | None:
    """Parse an RFC 3339 timestamp (``Z`` or offset, optional fraction); ``None`` when invalid."""
    match = _RFC3339.match(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = float(match.group(7) or 0.0)
    zone = match.group(8)
    offset = (
        0
        if zone in ("Z", "z")
        else (int(zone[1:3]) * 60 + int(zone[4:6])) * (-1 if zone[0] == "-" else 1)
    )
    try:
        moment = _dt.datetime(
            year,
            month,
            day,
            hour,
            minute,
            second,
            tzinfo=_dt.timezone(_dt.timedelta(minutes=offset)),
        )
        result = moment.timestamp() + fraction
    except (ValueError, OverflowError):
        return None
    # Keep to what can be written back (years 0001-9999 in UTC).
    return result if _MIN_TS <= result < _MAX_TS else None


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
