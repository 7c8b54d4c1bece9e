"""Fault injection: scripted failures, latency, gates and forced generation outcomes."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable
from fnmatch import fnmatchcase

__all__ = ["Faults", "Gate", "ScriptedFailure", "apply_fault_spec"]

# How often a request held at a gate re-reads the emulator clock for its read timeout.
_POLL_SECONDS = 0.02

_SERVER_CODES = {
    500: ("internal_error", "An internal error occurred. Retry with the same Idempotency-Key."),
    502: ("provider_unavailable", "The upstream provider is unavailable."),
    503: ("provider_unavailable", "The upstream provider is unavailable."),
    504: ("provider_timeout", "The upstream provider timed out."),
    429: ("too_many_requests", "Rate limit exceeded. Retry after 1s."),
}


def matches(pattern: str, method: str, path: str, template: str | None = None) -> bool:
    """``fnmatch`` over ``"METHOD /path"`` when the pattern has a space, else over the path.

    The route template (``/v1/images/{id}``) is tried as well as the concrete path.
    """
    candidates = [path] if template is None else [path, template]
    if " " in pattern:
        return any(fnmatchcase(f"{method} {c}", pattern) for c in candidates)
    return any(fnmatchcase(c, pattern) for c in candidates)


@dataclasses.dataclass
class ScriptedFailure:
    """One ``fail_next`` instruction."""

    pattern: str
    remaining: int
    status: int
    drop_connection: bool
    after_commit: bool
    code: str
    message: str


@dataclasses.dataclass
class _Latency:
    pattern: str
    seconds: float
    remaining: int | None


class Gate:
    """Holds matching requests after their idempotency key is reserved, until released.

    ``with emu.faults.pause("POST /v1/images") as gate:`` start a request on another thread,
    ``gate.wait_reached()``, observe the in-flight state, then ``gate.release()`` (also done on
    exit).
    """

    def __init__(self, faults: Faults, pattern: str, times: int | None = 1) -> None:
        self._faults = faults
        self.pattern = pattern
        self.remaining = times
        self._reached = threading.Event()
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._on_release: list[Callable[[], None]] = []

    @property
    def released(self) -> bool:
        """Whether :meth:`release` was called."""
        return self._released.is_set()

    def wait_reached(self, timeout: float = 5.0) -> bool:
        """Block until a request is held at the gate; False on timeout."""
        return self._reached.wait(timeout)

    def release(self) -> None:
        """Let held (and future) requests through and remove the gate."""
        self._released.set()
        self._faults._remove_gate(self)
        with self._lock:
            callbacks, self._on_release = self._on_release, []
        for callback in callbacks:
            callback()

    def on_release(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the gate is released (now, if it already is)."""
        with self._lock:
            # release() sets the event before taking the lock, so a callback is either queued
            # here and run by release(), or run below: never lost, never run twice.
            if not self._released.is_set():
                self._on_release.append(callback)
                return
        callback()

    def arrive(self) -> None:
        """Mark that a request reached the gate (for :meth:`wait_reached`)."""
        self._reached.set()

    def block(self, timeout: float = 30.0) -> None:
        """Called by adapters: wait (synchronously) until released."""
        self._reached.set()
        self._released.wait(timeout)

    async def ablock(self, timeout: float = 30.0) -> None:
        """Async form of :meth:`block`."""
        self._reached.set()
        await asyncio.to_thread(self._released.wait, timeout)

    def block_until(self, now: Callable[[], float], deadline: float) -> bool:
        """Wait until released or until ``now()`` reaches ``deadline``; True when released.

        ``now`` is the emulator clock. A manual clock only moves when another thread advances
        it, so the clock is re-read at short real-time intervals instead of waiting once.
        """
        self._reached.set()
        while not self._released.is_set():
            remaining = deadline - now()
            if remaining <= 0:
                return False
            self._released.wait(min(remaining, _POLL_SECONDS))
        return True

    async def ablock_until(self, now: Callable[[], float], deadline: float) -> bool:
        """Async form of :meth:`block_until`."""
        self._reached.set()
        while not self._released.is_set():
            remaining = deadline - now()
            if remaining <= 0:
                return False
            await asyncio.to_thread(self._released.wait, min(remaining, _POLL_SECONDS))
        return True

    def __enter__(self) -> Gate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class Faults:
    """Scripted misbehaviour, reachable as ``emu.faults``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: list[ScriptedFailure] = []
        self._latencies: list[_Latency] = []
        self._gates: list[Gate] = []
        self._forced: dict[str, tuple[str, str]] = {}
        self._next_outcomes: list[tuple[str, str]] = []

    # ------------------------------------------------------------------------- public API
    def fail_next(
        self,
        pattern: str = "*",
        *,
        times: int = 1,
        status: int = 503,
        drop_connection: bool = False,
        after_commit: bool = False,
        code: str | None = None,
        message: str | None = None,
    ) -> ScriptedFailure:
        """Make the next ``times`` requests matching ``pattern`` fail.

        Without ``drop_connection`` they get ``status`` with an error envelope (500
        ``internal_error``, 503 ``provider_unavailable``, 504 ``provider_timeout``). With
        ``drop_connection=True`` the connection fails instead of answering. With
        ``after_commit=True`` the request is fully processed first (row created, credits held,
        idempotent result stored) and only then fails: the work exists afterwards. That applies
        to whatever the request got, an idempotent replay or an early error included, so every
        attempt that consumes the fault fails.
        """
        default_code, default_message = _SERVER_CODES.get(status, ("internal_error", "Injected."))
        failure = ScriptedFailure(
            pattern,
            times,
            status,
            drop_connection,
            after_commit,
            code or default_code,
            message or default_message,
        )
        with self._lock:
            self._failures.append(failure)
        return failure

    def latency(self, seconds: float, pattern: str = "*", *, times: int | None = None) -> None:
        """Delay matching requests by ``seconds`` (emulator-clock seconds: instant on a manual
        clock) between the idempotency reservation and the action."""
        with self._lock:
            self._latencies.append(_Latency(pattern, seconds, times))

    def pause(self, pattern: str, *, times: int | None = 1) -> Gate:
        """Hold the next ``times`` matching requests (all, when None) in flight until the
        returned gate is released."""
        gate = Gate(self, pattern, times)
        with self._lock:
            self._gates.append(gate)
        return gate

    def fail_generation(
        self,
        generation_id: str | None = None,
        *,
        error_message: str = "internal_error",
        status: str = "failed",
        times: int = 1,
    ) -> None:
        """Force an outcome: the in-flight generation ``generation_id``, or else the next
        ``times`` generations created, end with ``status`` and ``error_message`` (use
        ``error_message="output_moderation_rejected"`` for output moderation, or
        ``status="expired"``)."""
        with self._lock:
            if generation_id is not None:
                self._forced[generation_id] = (status, error_message)
            else:
                self._next_outcomes.extend([(status, error_message)] * times)

    def clear(self) -> None:
        """Remove every scripted fault and release every gate."""
        with self._lock:
            gates = list(self._gates)
            self._failures.clear()
            self._latencies.clear()
            self._forced.clear()
            self._next_outcomes.clear()
        for gate in gates:
            gate.release()

    # ------------------------------------------------------------------------- used by the core
    def take_failure(self, method: str, path: str, template: str | None) -> ScriptedFailure | None:
        """Consume one matching scripted failure."""
        with self._lock:
            for failure in self._failures:
                if matches(failure.pattern, method, path, template):
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._failures.remove(failure)
                    return failure
        return None

    def latency_for(self, method: str, path: str, template: str | None) -> float:
        """Total injected latency for this request (consumes counted entries)."""
        total = 0.0
        with self._lock:
            for entry in list(self._latencies):
                if matches(entry.pattern, method, path, template):
                    total += entry.seconds
                    if entry.remaining is not None:
                        entry.remaining -= 1
                        if entry.remaining <= 0:
                            self._latencies.remove(entry)
        return total

    def gate_for(self, method: str, path: str, template: str | None) -> Gate | None:
        """The first gate matching this request."""
        with self._lock:
            for gate in self._gates:
                if matches(gate.pattern, method, path, template):
                    if gate.remaining is not None:
                        gate.remaining -= 1
                        if gate.remaining <= 0:
                            # Caught enough: stop matching, keep holding what it caught.
                            self._gates.remove(gate)
                    return gate
        return None

    def take_creation_outcome(self) -> tuple[str, str] | None:
        """A forced outcome for a generation being created now."""
        with self._lock:
            return self._next_outcomes.pop(0) if self._next_outcomes else None

    def take_forced_outcome(self, generation_id: str) -> tuple[str, str] | None:
        """A forced outcome registered for ``generation_id``."""
        with self._lock:
            return self._forced.pop(generation_id, None)

    def _remove_gate(self, gate: Gate) -> None:
        with self._lock:
            if gate in self._gates:
                self._gates.remove(gate)


def apply_fault_spec(faults: Faults, spec: str) -> None:
    """Apply a command-line fault description to ``faults``.

    Comma-separated items; the first item names the fault:

    - ``status=503,route=POST /v1/images,times=2[,after_commit]``
    - ``drop,route=POST /v1/images[,after_commit][,times=N]``
    - ``latency=2.5[,route=GET /v1/images/*][,times=N]``
    - ``fail_generation[,times=N][,error=output_moderation_rejected][,status=expired]``
    """
    items = [item.strip() for item in spec.split(",") if item.strip()]
    if not items:
        raise ValueError("empty fault description")
    kind, _, value = items[0].partition("=")
    options: dict[str, str] = {}
    for item in items[1:]:
        key, sep, val = item.partition("=")
        options[key.strip()] = val.strip() if sep else "true"
    route = options.pop("route", "*")
    times_raw = options.pop("times", None)
    after_commit = options.pop("after_commit", "false").lower() in ("true", "1", "yes")
    if kind == "status":
        faults.fail_next(
            route, times=int(times_raw or 1), status=int(value), after_commit=after_commit
        )
    elif kind == "drop":
        faults.fail_next(
            route, times=int(times_raw or 1), drop_connection=True, after_commit=after_commit
        )
    elif kind == "latency":
        faults.latency(float(value), route, times=int(times_raw) if times_raw else None)
    elif kind == "fail_generation":
        faults.fail_generation(
            None,
            times=int(times_raw or 1),
            error_message=options.pop("error", "internal_error"),
            status=options.pop("status", "failed"),
        )
    else:
        raise ValueError(f"unknown fault kind {kind!r} in {spec!r}")
    if options:
        raise ValueError(f"unknown fault options {sorted(options)} in {spec!r}")
