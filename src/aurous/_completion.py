"""What a client learns about its generations besides its own polls: webhooks, and durations.

`Completions` is shared by a client and its ``with_options`` copies (like the pacer):

- **Webhooks wake waits.** `advance` records a generation's newest state (a delivery that
  `client.webhooks.receive` verified, or an event `feed` was given) and wakes every `wait`,
  `watch`, `create_and_wait` and batch item of the client waiting on it: they take the state
  without another request. A state never goes backwards: a late ``processing`` does not replace
  a ``succeeded`` (deliveries arrive out of order).
- **Across processes.** With a shared pacing store (`aurous._store`), a delivery received by any
  worker is published to every worker's listener, so the waiters of every process wake; and
  deliveries are deduplicated fleet-wide by event id.
- **Polling that learns.** The durations of the generations the client saw finish (their
  ``duration_ms``), by media and model: a wait schedules its first poll near the usual duration
  instead of after a fixed interval. With a shared store the fleet learns together: each
  duration is sent to every process, so a worker's first wait is timed like its hundredth.
"""

from __future__ import annotations

import collections
import json
import secrets
import threading
import time
import weakref
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._steps import Signal

if TYPE_CHECKING:
    from ._store import Store
    from .types.generation import Generation

__all__ = ["Completions", "SeenEvents"]

_MAX_KNOWN = 10_000
"""Generations whose latest pushed state is kept (the oldest are forgotten first)."""
_MAX_SEEN_LOCAL = 10_000
_SEEN_PER_SHARD = 500
_SHARDS = 16
"""Event ids are kept in 16 shards of the shared store, each of the most recent 500."""
_DURATIONS_KEPT = 50
_LONGEST = 7 * 24 * 3600.0
"""A duration another process sends beyond a week is no duration (a bug, a hostile peer)."""
_PUSHES_TRUSTED = 600.0
"""Seconds after a delivery during which waits count on the next ones (polling as a backstop)."""
_MESSAGE = "g:"
"""Prefix of the store message that carries a generation to every process."""
_DURATION = "d:"
"""Prefix of the store message that carries a learned duration to every process."""

_TERMINAL_RANK = 2
_RANK = {"pending": 0, "queued": 0, "processing": 1}


def _rank(generation: Generation) -> int:
    return _RANK.get(generation.status, _TERMINAL_RANK)


class SeenEvents:
    """The event ids of recent deliveries (a store kind: one shard of the fleet's)."""

    def __init__(self) -> None:
        self.ids: dict[str, float] = {}

    def first(self, event_id: str, now: float) -> bool:
        """True the first time ``event_id`` is offered (and remember it)."""
        if event_id in self.ids:
            return False
        self.ids[event_id] = now
        while len(self.ids) > _SEEN_PER_SHARD:
            del self.ids[next(iter(self.ids))]
        return True

    def dump(self) -> dict[str, Any]:
        return {"ids": self.ids}

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> SeenEvents:
        seen = cls()
        seen.ids = {str(k): float(v) for k, v in data.get("ids", {}).items()}
        return seen


def _first_delivery(event_id: str) -> Any:
    def op(seen: SeenEvents, now: float) -> tuple[bool, bool]:
        return seen.first(event_id, now), False

    return op


class Completions:
    """Pushed generation states and learned durations, for one client and its copies."""

    def __init__(self, store: Store | None) -> None:
        self.lock = threading.Lock()
        self.signal = Signal(self.lock)
        self._latest: collections.OrderedDict[str, Generation] = collections.OrderedDict()
        self._seen: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._durations: dict[tuple[str, str], collections.deque[float]] = {}
        self._sorted: dict[tuple[str, str], tuple[float, ...]] = {}
        """The same durations, sorted (made once per duration kept, read by every wait)."""
        self._id = secrets.token_hex(6)
        """Names this client's duration messages (its own come back from the store)."""
        self._store = store if store is not None and store.shared else None
        self._generation_type: type[Any] | None = None
        self.pushed_at = -_PUSHES_TRUSTED
        """When a delivery last advanced a generation (``time.monotonic()``)."""
        if self._store is not None:
            # Weakly: a process that builds a client per request must not keep them all alive.
            handler = weakref.WeakMethod(self._on_message)
            self._store.on_message(  # type: ignore[attr-defined]
                lambda message: (h := handler()) is not None and h(message)
            )

    # ---- pushed states -----------------------------------------------------------------------
    def latest(self, generation_id: str) -> Generation | None:
        """The newest state pushed for ``generation_id`` (None if none was)."""
        return self._latest.get(generation_id)

    def advance(self, generation: Generation, *, publish: bool = True) -> bool:
        """Record ``generation`` if it is newer than what is known; wake its waiters. True if
        it was newer (a duplicate or a late, older state is dropped)."""
        with self.lock:
            known = self._latest.get(generation.id)
            if known is not None and _rank(known) >= _rank(generation):
                return False
            self._latest[generation.id] = generation
            self._latest.move_to_end(generation.id)
            self.pushed_at = time.monotonic()
            while len(self._latest) > _MAX_KNOWN:
                self._latest.popitem(last=False)
            self.signal.fire_locked()
        # Not shared as a duration: every process that learns of this delivery learns it.
        self.learn(generation, share=False)
        if publish and self._store is not None:
            self._store.publish(_MESSAGE + generation.to_json())  # type: ignore[attr-defined]
        return True

    def _on_message(self, message: str) -> None:
        if message.startswith(_DURATION):
            self._learned_elsewhere(message[len(_DURATION) :])
            return
        if not message.startswith(_MESSAGE) or self._generation_type is None:
            return
        try:
            generation = self._generation_type.model_validate(json.loads(message[len(_MESSAGE) :]))
        except (ValueError, TypeError):
            return  # not ours to judge: a malformed message from another version of the SDK
        self.advance(generation, publish=False)

    def expect(self, generation_type: type[Any]) -> None:
        """Let messages from other processes be read as ``generation_type`` (the model class,
        given by the first wait: this module does not load the models)."""
        self._generation_type = generation_type

    # ---- deliveries, once --------------------------------------------------------------------
    def first_delivery(self, event_id: str) -> bool:
        """True the first time this event id is received by this client (by the fleet, with a
        shared store)."""
        with self.lock:
            if event_id in self._seen:
                return False
            self._seen[event_id] = None
            while len(self._seen) > _MAX_SEEN_LOCAL:
                self._seen.popitem(last=False)
        store = self._store
        if store is None:
            return True
        # A stable hash (``hash()`` differs between processes): every worker picks the same shard.
        shard = f"webhook-events:{zlib.crc32(event_id.encode()) % _SHARDS:x}"
        first: bool = store.apply(shard, SeenEvents, _first_delivery(event_id))
        return first

    @property
    def pushing(self) -> bool:
        """Whether deliveries reach this client (one advanced a generation lately): waits then
        poll only as a backstop, for a delivery that was lost."""
        return time.monotonic() - self.pushed_at < _PUSHES_TRUSTED

    # ---- durations -----------------------------------------------------------------------------
    def learn(self, generation: Generation, *, share: bool = True) -> None:
        """Remember how long a finished generation took (its ``duration_ms``); ``share``: and
        tell the other processes of a fleet (sent by the store's thread, never waited for)."""
        if _rank(generation) != _TERMINAL_RANK or generation.status != "succeeded":
            return
        duration = getattr(generation, "duration_ms", None)
        if not isinstance(duration, (int, float)) or duration <= 0:
            return
        kind, model = generation.kind or "", getattr(generation, "model", None) or ""
        seconds = duration / 1000.0
        self._keep(kind, model, seconds)
        store = self._store
        if share and store is not None:
            message = json.dumps([self._id, kind, model, seconds], separators=(",", ":"))
            store.publish_soon(_DURATION + message)  # type: ignore[attr-defined]

    def _learned_elsewhere(self, message: str) -> None:
        try:
            sender, kind, model, seconds = json.loads(message)
        except (ValueError, TypeError):
            return  # not ours to judge: a message from another version of the SDK
        if sender == self._id:
            return  # this client's own, back from the store: already kept
        if (
            isinstance(kind, str)
            and isinstance(model, str)
            and isinstance(seconds, (int, float))
            and 0 < seconds < _LONGEST
        ):
            self._keep(kind, model, float(seconds))

    def _keep(self, kind: str, model: str, seconds: float) -> None:
        with self.lock:
            kept = self._durations.get((kind, model))
            if kept is None:
                kept = self._durations[(kind, model)] = collections.deque(maxlen=_DURATIONS_KEPT)
            kept.append(seconds)
            self._sorted[(kind, model)] = tuple(sorted(kept))

    def typical(self, kind: str | None, model: str | None) -> float | None:
        """The median duration of the generations of this media and model seen finished."""
        ordered = self._sorted.get((kind or "", model or ""))
        if not ordered:
            return None
        middle = len(ordered) // 2
        if len(ordered) % 2:
            return ordered[middle]
        return (ordered[middle - 1] + ordered[middle]) / 2

    def durations(self, kind: str | None, model: str | None) -> tuple[float, ...]:
        """The durations of the generations of this media and model seen finished, sorted
        (the latest 50)."""
        return self._sorted.get((kind or "", model or ""), ())
