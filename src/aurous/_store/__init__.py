"""Where pacing state lives: in the process, or shared by a fleet of processes and machines.

A store holds small objects (a `Gate`, a `Bucket` per route, a budget …) under string keys and
applies *operations* to them atomically: ``op(state, now) -> (result, wake)``. ``now`` is the
store's clock — the client's own in a process, the same wall clock for every member of a fleet —
and ``wake`` says the operation freed something others may be waiting for: the store wakes this
process's waiters (its `Signal`) and, when shared, every other process's.

- `LocalStore` (``pacing=True``): plain objects under a lock; operations run inline.
- A shared store (``pacing="redis://…"`` or ``"file:///dir"``, `open_store`): the objects
  travel as JSON and an operation is a compare-and-set, retried on a conflict, so the same
  Python code decides for every process. The SDK performs these as `Shared` steps: blocking on
  `aurous.Client`, awaited on `aurous.AsyncClient`. A shared store that is unreachable, slow or
  failing never fails a call: the operation runs on a local fallback (one warning), and the
  shared store is tried again a little later.
"""

from __future__ import annotations

import hashlib
import importlib
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from .._clock import Clock
from .._steps import Signal

__all__ = ["Kind", "LocalStore", "Op", "Store", "open_store", "team_key"]

S = TypeVar("S")
R = TypeVar("R")

Op = Callable[[Any, float], "tuple[R, bool]"]
"""``op(state, now) -> (result, wake)``: must only change ``state`` (it may run again on a
conflict), never anything else."""


class Kind(Protocol):
    """A kind of state: built empty, or loaded from the plain data `dump` gave."""

    def __call__(self) -> Any: ...

    def load(self, data: Mapping[str, Any]) -> Any: ...


class Store(Protocol):
    """What the pacer (and budgets, and webhook waiters) need from a store."""

    shared: bool
    """False: operations run inline (`apply`). True: they are `Shared` steps."""
    signal: Signal
    """Wakes this process's waiters (fired when an operation of any member frees something)."""

    @property
    def owner(self) -> str:
        """This process, as the entries it holds name it (leases expire per owner)."""
        ...

    def apply(self, key: str, kind: Kind, op: Op[R]) -> R:
        """Run ``op`` on the state under ``key`` atomically (blocking); its result."""
        ...

    async def aapply(self, key: str, kind: Kind, op: Op[R]) -> R:
        """`apply`, awaited (shared stores)."""
        ...

    def apply_soon(self, key: str, kind: Kind, op: Op[Any]) -> None:
        """Run ``op`` when possible, without waiting for it (clean-up of a cancelled call)."""
        ...

    def peek(self, key: str, kind: Kind) -> Any | None:
        """The last state this process saw under ``key`` (may be stale), or None."""
        ...

    def wall(self) -> float:
        """Unix time on the store's clock (rate-limit resets are read against it when a
        response has no ``Date``)."""
        ...


class LocalStore:
    """The state of one client (and its ``with_options`` copies), in this process."""

    shared = False
    owner = "local"

    def __init__(self, clock: Clock, signal: Signal | None = None) -> None:
        self.signal = signal if signal is not None else Signal(threading.Lock())
        self.lock = self.signal.lock
        self._objects: dict[str, Any] = {}
        self.clock = clock
        self.wall: Callable[[], float] = time.time
        self.set_clock(clock)

    def set_clock(self, clock: Clock) -> None:
        self.clock = clock
        # The emulator's manual clock tells its own Unix time, which rate-limit resets are in.
        wall = getattr(clock, "time", None)
        self.wall = wall if callable(wall) else time.time

    def apply(self, key: str, kind: Kind, op: Op[R]) -> R:
        with self.lock:
            result, wake = op(self.state(key, kind), self.clock.monotonic())
            if wake:
                self.signal.fire_locked()
        return result

    def state(self, key: str, kind: Kind) -> Any:
        """The live state under ``key`` (made empty if none): for the pacer of this process,
        which changes it in place holding `lock`, several states in one go."""
        state = self._objects.get(key)
        if state is None:
            state = self._objects[key] = kind()
        return state

    async def aapply(self, key: str, kind: Kind, op: Op[R]) -> R:
        return self.apply(key, kind, op)

    def apply_soon(self, key: str, kind: Kind, op: Op[Any]) -> None:
        self.apply(key, kind, op)

    def peek(self, key: str, kind: Kind) -> Any | None:
        return self._objects.get(key)

    def __repr__(self) -> str:
        return "<LocalStore>"


def team_key(base_url: str, api_key: str) -> str:
    """What a team's state is keyed by in a shared store: a hash of the API origin and the key.

    Never the key itself: a store (a Redis other teams use, a directory others can read) holds
    no secret. Two teams, or one team on two API hosts, never share state.
    """
    digest = hashlib.sha256(f"{base_url.rstrip('/')}\0{api_key}".encode()).hexdigest()
    return digest[:24]


def open_store(url: str, *, base_url: str, api_key: str) -> Store:
    """The shared store at ``url`` for this team: one per process, whatever the number of
    clients (they share its connections, its listener and its lease)."""
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(
            f"pacing must be True, False or a store URL such as redis://host:6379/0, "
            f"rediss://…, unix:///path/redis.sock or file:///run/aurous, got {url!r:.80}"
        )
    scheme = url.partition("://")[0].lower()
    if scheme not in ("redis", "rediss", "unix", "file"):
        raise ValueError(
            f"pacing store URL scheme {scheme!r} is not supported: use redis://, rediss://, "
            "unix:// (Redis) or file:// (a directory shared by the processes of one host)"
        )
    team = team_key(base_url, api_key)
    key = (url, team)
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            module = importlib.import_module(
                "aurous._store._file" if scheme == "file" else "aurous._store._redis"
            )
            store = _stores[key] = module.open_shared(url, team)
    return store


_stores: dict[tuple[str, str], Store] = {}
_stores_lock = threading.Lock()
