"""What every shared store does, whatever holds the bytes (Redis, a directory).

State travels as JSON under ``aurous:<team>:<key>``, each write stamped with a fresh version.
An operation is a compare-and-set: load the state this process last saw, run the operation,
write the result if nobody wrote in between — else take what they wrote and run the operation
again. So one Python implementation of the gate and the buckets decides for every process, and
the backend needs only an atomic "set if the version is still V" (a Lua script in Redis, a file
lock on one host) and a way to publish a wake-up.

A listener thread per store (per process) receives wake-ups (a slot freed in another process:
this process's waiters go at once), renews this process's lease, and runs clean-ups queued by
cancelled calls. A backend that fails or answers slowly (`StoreUnavailable`) never fails a call:
the operation runs on an in-process fallback, one warning is logged, and the shared store is
tried again a little later.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import queue
import secrets
import socket
import threading
import time
import weakref
from collections.abc import Callable, Generator
from typing import Any, Protocol, TypeVar

from .._clock import SYSTEM_CLOCK
from .._steps import Driven, Signal
from . import Kind, LocalStore, Op

__all__ = ["WAKE", "Backend", "SharedStore", "StoreUnavailable"]

R = TypeVar("R")

logger = logging.getLogger("aurous")

WAKE = "w"
"""The message that wakes the waiters of every process."""
_MAX_CONFLICTS = 50
_RENEW_EVERY = 10.0
"""Seconds between two renewals of this process's lease (which lasts 30 s)."""
_RETRY_AFTER = (1.0, 2.0, 5.0, 10.0, 30.0)
"""How long an unavailable store is left alone before it is tried again (growing)."""

_Attempt = tuple["str | None", str, "str | None", bool, Any, Any]
"""(expected version, new version, new blob — None: unchanged —, wake, result, state) of one try
of an operation."""


class StoreUnavailable(Exception):
    """The backend could not answer (down, slow, refused): the operation falls back."""


class Backend(Protocol):
    """The I/O of one kind of shared store."""

    description: str
    """Where it is, without credentials (``redis://host:6379/0``), for messages."""

    def cas(
        self, key: str, expected: str | None, version: str, blob: str | None, wake: bool
    ) -> tuple[bool, str | None, str | None]:
        """Write ``blob`` under ``key`` as ``version`` if the stored version is ``expected``
        (``None``: nothing stored; ``blob`` None: write nothing, only check) and publish a
        wake-up if ``wake``. (done, version, blob): the stored ones when not done. Raises
        `StoreUnavailable`."""
        ...

    async def acas(
        self, key: str, expected: str | None, version: str, blob: str | None, wake: bool
    ) -> tuple[bool, str | None, str | None]:
        """`cas`, awaited."""
        ...

    def publish(self, message: str) -> None:
        """Send ``message`` to every process's listener. Raises `StoreUnavailable`."""
        ...

    def listen(
        self, deliver: Callable[[str], None], stop: threading.Event, tick: Callable[[], None]
    ) -> None:
        """Block in the listener thread: ``deliver`` each message, call ``tick`` about twice a
        second, return once ``stop`` is set. Raises when the connection fails (the caller
        connects again)."""
        ...

    def wall(self) -> float:
        """Unix time on the clock every member of the fleet shares."""
        ...

    def reset(self) -> None:
        """Drop connections and files opened before a ``fork``."""
        ...


def _new_owner() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(3)}"


class SharedStore:
    """A store whose state every process of a fleet sees (see the module's documentation)."""

    shared = True

    def __init__(self, backend: Backend, team: str) -> None:
        self.backend = backend
        self.team = team
        self.lock = threading.Lock()
        self.signal = Signal(self.lock)
        self._prefix = f"aurous:{team}:"
        self._seen: dict[str, tuple[str, str]] = {}
        """key → (version, blob) as this process last saw it."""
        self._peeked: dict[str, tuple[str, Any]] = {}
        self._fallback = LocalStore(SYSTEM_CLOCK, self.signal)
        self._down_until = 0.0
        self._outage = 0
        self._soon: queue.SimpleQueue[Callable[[], object]] = queue.SimpleQueue()
        """Work for the listener thread: clean-ups of cancelled calls, messages that can wait."""
        self._ticks: list[Callable[[], None]] = []
        self._recovers: list[Callable[[], None]] = []
        self._rejoin = False
        self._handlers: list[Callable[[str], None]] = []
        self._pid = -1
        self._owner = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._renewed = 0.0
        self._versions = itertools.count()
        self._key_locks: dict[str, threading.Lock] = {}
        self._async_locks: weakref.WeakKeyDictionary[Any, dict[str, asyncio.Lock]] = (
            weakref.WeakKeyDictionary()
        )
        self._start()

    def __repr__(self) -> str:
        return f"<SharedStore {self.backend.description} team={self.team[:8]}…>"

    @property
    def owner(self) -> str:
        if self._pid != os.getpid():
            self._start()
        return self._owner

    @property
    def available(self) -> bool:
        """False while the store is given a rest after failing (the fallback paces)."""
        return time.monotonic() >= self._down_until

    # ---- the process's part: its owner id, its listener (again after a fork) --------------------
    def _start(self) -> None:
        with self.lock:
            if self._pid == os.getpid():
                return
            if self._pid != -1:
                # A forked child: the parent's connections, files and thread are not ours.
                self.backend.reset()
                self._seen.clear()
                self._peeked.clear()
            self._pid = os.getpid()
            self._owner = _new_owner()
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._listen, name="aurous-store", daemon=True)
            self._thread.start()

    def on_tick(self, fn: Callable[[], None]) -> None:
        """Have ``fn`` called by the listener thread every few seconds (a lease renewal)."""
        self._ticks.append(fn)

    def on_recover(self, fn: Callable[[], None]) -> None:
        """Have ``fn`` called when the store answers again after an outage."""
        self._recovers.append(fn)

    def on_message(self, fn: Callable[[str], None]) -> None:
        """Have ``fn`` called with every message a process publishes (wake-ups aside)."""
        self._handlers.append(fn)

    def publish(self, message: str) -> bool:
        """Send ``message`` to every process sharing the store; False if it could not."""
        if not self.available:
            return False
        try:
            self.backend.publish(message)
        except StoreUnavailable as exc:
            self._failed(exc)
            return False
        return True

    def _listen(self) -> None:
        stop = self._stop
        pause = 0.2
        while not stop.is_set():
            try:
                self.backend.listen(self._deliver, stop, self._tick)
                pause = 0.2
            except Exception as exc:  # the connection broke: wake the waiters, connect again
                logger.debug("aurous: the store listener reconnects after %s", exc)
                self.signal.fire()
                stop.wait(pause)
                pause = min(5.0, pause * 2)

    def _deliver(self, message: str) -> None:
        if message == WAKE:
            self.signal.fire()
            return
        for handler in list(self._handlers):
            try:
                handler(message)
            except Exception:  # a handler's bug must not stop the listener
                logger.exception("aurous: a store message handler failed")

    def _tick(self) -> None:
        if self._rejoin:
            self._rejoin = False
            for fn in list(self._recovers):
                try:
                    fn()
                except Exception:
                    logger.exception("aurous: rejoining the pacing store failed")
        while True:
            try:
                work = self._soon.get_nowait()
            except queue.Empty:
                break
            work()
        now = time.monotonic()
        if now - self._renewed >= _RENEW_EVERY:
            self._renewed = now
            for fn in list(self._ticks):
                try:
                    fn()
                except Exception:
                    logger.exception("aurous: renewing this process's lease failed")

    # ---- operations ----------------------------------------------------------------------------
    def apply(self, key: str, kind: Kind, op: Op[R]) -> R:
        if self._pid != os.getpid():
            self._start()
        if not self.available:
            return self._fallback.apply(key, kind, op)
        lock = self._key_locks.get(key) or self._key_locks.setdefault(key, threading.Lock())
        try:
            # One operation per key at a time in this process: the threads of one process
            # never conflict with each other, only with other processes.
            with lock:
                tries = Driven(self._tries(key, kind, op))
                while not tries.done:
                    tries.advance(self.backend.cas(*tries.step))
                return tries.result()  # type: ignore[no-any-return]
        except StoreUnavailable as exc:
            self._failed(exc)
            return self._fallback.apply(key, kind, op)

    async def aapply(self, key: str, kind: Kind, op: Op[R]) -> R:
        if self._pid != os.getpid():
            self._start()
        if not self.available:
            return self._fallback.apply(key, kind, op)
        try:
            async with self._async_lock(key):
                tries = Driven(self._tries(key, kind, op))
                while not tries.done:
                    tries.advance(await self.backend.acas(*tries.step))
                return tries.result()  # type: ignore[no-any-return]
        except StoreUnavailable as exc:
            self._failed(exc)
            return self._fallback.apply(key, kind, op)

    def _tries(self, key: str, kind: Kind, op: Op[Any]) -> Generator[Any, Any, Any]:
        """The compare-and-set loop of one operation, without I/O: yields the arguments of
        each ``cas``, receives its answer, returns the operation's result."""
        full = self._prefix + key
        for _ in range(_MAX_CONFLICTS):
            attempt = self._attempt(key, kind, op)
            done, version, blob = yield (full, *attempt[:4])
            result = self._settle(key, attempt, done, version, blob)
            if result is not _CONFLICT:
                return result
        raise StoreUnavailable(f"{_MAX_CONFLICTS} conflicting writes in a row on {key}")

    def _async_lock(self, key: str) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        locks = self._async_locks.get(loop)
        if locks is None:
            locks = self._async_locks[loop] = {}
        lock = locks.get(key)
        if lock is None:
            lock = locks[key] = asyncio.Lock()
        return lock

    def _attempt(self, key: str, kind: Kind, op: Op[Any]) -> _Attempt:
        """One try of ``op``, on the state this process last saw."""
        seen = self._seen.get(key)
        expected, blob = seen if seen is not None else (None, None)
        state = kind.load(json.loads(blob)) if blob else kind()
        result, wake = op(state, self.backend.wall())
        new_blob = json.dumps(state.dump(), separators=(",", ":"))
        if new_blob == blob:
            # Nothing changed: the store only confirms the state read is current (no write, so
            # many processes asking together do not conflict with each other).
            return expected, expected or "", None, wake, result, state
        version = f"{self._owner}:{next(self._versions)}"
        return expected, version, new_blob, wake, result, state

    def _settle(
        self, key: str, attempt: _Attempt, done: bool, version: str | None, blob: str | None
    ) -> Any:
        if not done:
            # Somebody wrote since: start again from what they wrote.
            if version is None or blob is None:
                self._seen.pop(key, None)
            else:
                self._seen[key] = (version, blob)
            return _CONFLICT
        _, new_version, new_blob, wake, result, state = attempt
        if new_blob is not None:
            self._seen[key] = (new_version, new_blob)
            self._peeked[key] = (new_version, state)
        if self._outage:
            self._outage = 0
            logger.warning("aurous: the pacing store %s is back", self.backend.description)
            # Run by the listener thread: this operation holds its key's lock, which the
            # clean-ups may need.
            self._rejoin = True
        if wake:
            self.signal.fire()
        return result

    def apply_soon(self, key: str, kind: Kind, op: Op[Any]) -> None:
        self._soon.put(lambda: self.apply(key, kind, op))

    def publish_soon(self, message: str) -> None:
        """`publish`, by the listener thread within half a second: for news that can wait,
        sent without blocking the caller (an event loop, say)."""
        self._soon.put(lambda: self.publish(message))

    def peek(self, key: str, kind: Kind) -> Any | None:
        if not self.available:
            return self._fallback.peek(key, kind)
        seen = self._seen.get(key)
        if seen is None:
            return None
        peeked = self._peeked.get(key)
        if peeked is None or peeked[0] != seen[0]:
            peeked = self._peeked[key] = (seen[0], kind.load(json.loads(seen[1])))
        return peeked[1]

    def wall(self) -> float:
        return self.backend.wall()

    def _failed(self, exc: Exception) -> None:
        retry = _RETRY_AFTER[min(self._outage, len(_RETRY_AFTER) - 1)]
        self._down_until = time.monotonic() + retry
        if self._outage == 0:
            logger.warning(
                "aurous: the pacing store %s is unavailable (%s); this process paces on its own "
                "until it is back",
                self.backend.description,
                exc,
                extra={"store": self.backend.description},
            )
        self._outage += 1
        self.signal.fire()  # waiters ask again, now of the fallback

    def close(self) -> None:
        self._stop.set()


_CONFLICT = object()
