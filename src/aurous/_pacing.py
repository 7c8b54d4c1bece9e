"""Client-wide pacing: one client shared by many threads or tasks stays inside the team's limits.

Two kinds of limit apply to a team (``X-RateLimit-*`` headers, ``429`` answers):

- **Rate limits**: token buckets, one per kind of request, refilled continuously. A `Bucket` per
  route (``"POST /v1/images"``) keeps an estimate of its tokens from the ``X-RateLimit-Limit`` /
  ``-Remaining`` / ``-Reset`` headers (or their ``RateLimit-*`` spellings) and spaces requests so
  the bucket is not emptied. Bucket names are never assumed: the state is keyed by route.
- **The concurrency limit**: how many generations may be unfinished at once. It is not
  announced; the `Gate` learns it from ``429 concurrency_limit_exceeded`` (the generations this
  client had in flight then are what it may have) and lets a waiting create go when one of this
  client's generations is seen finished (by any retrieve, wait or list) — or, to find capacity
  that other clients of the team freed, one probe after ``Retry-After``, backing off while
  probes are refused.

Until the limit is known, creates ramp up like TCP's slow start: one, then one more for every
create accepted, so the limit is found with at most one refusal. `aurous._flow` consults the
`Pacer` around every call; nothing else in the SDK knows about pacing. The state is guarded by
one lock, never held across a wait, so the same object serves threads and tasks.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._response import RateLimit
from ._steps import Signal

if TYPE_CHECKING:
    from .types.generation import Generation

__all__ = ["Bucket", "Gate", "Pacer"]

_UNKNOWN_RATE_WAIT = 1.0
"""Wait when a bucket looks empty but its refill rate is not known yet."""
_RATE_MEMORY = 300.0
"""Seconds a precise refill-rate reading is preferred over coarser new ones."""
_FIRST_PROBE_DELAY = 5.0
"""Seconds without any of the client's generations finishing before a held create probes."""
_MAX_PROBE_BACKOFF = 30.0
"""Longest pause between two probes of a concurrency limit that keeps refusing."""
_STALE_AFTER = 3600.0
"""A generation not seen finished within this many seconds stops counting as in flight (its
owner may never read it again, e.g. when it learns the outcome from a webhook)."""
_MAX_TRACKED = 10_000


class Bucket:
    """The estimated tokens of one rate-limit bucket, as seen through one route's responses.

    Capacity ``C`` refills at ``r`` tokens per second; ``Remaining`` is the whole tokens left
    after a request and ``Reset`` the Unix time the bucket is full again, so
    ``r ≈ (C − Remaining) / (Reset − now)``. Between responses the estimate grows by ``r`` per
    second and shrinks by the requests sent (or promised to a waiter) since.
    """

    __slots__ = (
        "_limit",
        "_outstanding",
        "_rate",
        "_rate_at",
        "_rate_deficit",
        "_seen_at",
        "_tokens",
    )

    def __init__(self) -> None:
        self._tokens: float | None = None
        self._seen_at = 0.0
        self._limit: int | None = None
        self._rate: float | None = None
        self._rate_deficit = 0
        self._rate_at = 0.0
        self._outstanding = 0

    def reserve(self, now: float) -> float:
        """Take a token for a request about to be sent; the seconds to wait before sending it.

        The token is promised at once, so waiters queue one refill interval apart instead of
        all waking at the same moment.
        """
        delay = self._delay(now)
        self._outstanding += 1
        return delay

    def _delay(self, now: float) -> float:
        if self._tokens is None:
            return 0.0
        tokens = self._tokens
        if self._rate is not None:
            tokens += self._rate * max(0.0, now - self._seen_at)
            if self._limit is not None:
                tokens = min(float(self._limit), tokens)
        tokens -= self._outstanding
        if tokens >= 1:
            return 0.0
        if self._rate is None:
            return _UNKNOWN_RATE_WAIT
        return (1 - tokens) / self._rate

    def settle(self, figures: RateLimit | None, now: float, wall: float) -> None:
        """The request answered; learn from its rate-limit figures (``None``: no answer)."""
        self._outstanding = max(0, self._outstanding - 1)
        if figures is None or figures.remaining is None:
            return
        self._tokens = float(figures.remaining)
        self._seen_at = now
        self._limit = figures.limit
        if figures.limit is not None and figures.remaining < figures.limit:
            until_full = figures.seconds_until_reset(wall)
            deficit = figures.limit - figures.remaining
            # Whole tokens over whole seconds: a bucket seen near full gives a coarse rate (one
            # token and one second off either way). Keep the reading taken furthest from full,
            # unless it is old enough that the team's tier may have changed since.
            fresher = now - self._rate_at > _RATE_MEMORY
            if until_full and (deficit >= self._rate_deficit or fresher):
                self._rate = deficit / until_full
                self._rate_deficit = deficit
                self._rate_at = now

    def emptied(self, now: float, retry_after: float) -> None:
        """A 429 ``too_many_requests``: the bucket is empty whatever the estimate said.

        It holds a token again after ``retry_after``; without a known refill rate, that is the
        best estimate of one.
        """
        self._tokens = 0.0
        self._seen_at = now
        if self._rate is None and retry_after > 0:
            self._rate = 1.0 / retry_after

    def figures(self, now: float) -> tuple[int | None, float | None, float | None, float]:
        """What is known, for planning (``estimate_batch``; pacing itself uses `reserve`).

        (capacity, refill per second, tokens estimated at ``now``, span): None where not
        learned. ``span`` is how far from full the bucket was when last seen, in seconds: the
        refill rate comes from a whole-second ``Reset``, so it is only as precise as one second
        in ``span``.
        """
        if self._tokens is None:
            return self._limit, self._rate, None, 0.0
        rate = self._rate or 0.0
        span = (self._limit - self._tokens) / rate if self._limit is not None and rate else 0.0
        tokens = self._tokens + rate * max(0.0, now - self._seen_at)
        if self._limit is not None:
            tokens = min(float(self._limit), tokens)
        return self._limit, self._rate, tokens, span


class Gate:
    """How many of this client's generations may be unfinished: the team's concurrency limit.

    ``sending`` counts creates admitted but not answered, ``tracked`` this client's generations
    not yet seen finished. A create may go while ``sending + len(tracked)`` is below the limit
    (or, until the first refusal teaches the limit, below the slow-start ``window``).

    The limit is re-probed in two ways. After ``2 × limit`` creates accepted in a row it is
    raised by one, so capacity that other clients of the team freed is found again; when such a
    raise is refused, the run needed for the next one doubles, so a client working at the true
    limit wastes fewer and fewer requests on it. And when creates are held back while none of this
    client's generations finishes for ``probe_delay`` seconds (its own generations may be
    followed by webhooks and never read again), one create goes anyway; refused, the delay
    doubles up to `_MAX_PROBE_BACKOFF`.
    """

    def __init__(self, signal: Signal) -> None:
        self.signal = signal
        self.limit: int | None = None
        self.window = 1
        self.sending = 0
        self.tracked: collections.OrderedDict[str, float] = collections.OrderedDict()
        self._probe_at = 0.0
        self._probe_delay = _FIRST_PROBE_DELAY
        self._probing = False
        self._progress_at = 0.0
        self._streak = 0
        self._streak_factor = 2
        self._raised = False

    def enter(self, now: float) -> tuple[int, float] | None:
        """Admit a create (``None``), or ``(signal version, seconds)`` to wait before asking again."""
        self._forget_stale(now)
        unsettled = self.sending + len(self.tracked)
        if self.limit is None:
            if unsettled < self.window:
                self.sending += 1
                return None
            return self.signal.version, _UNKNOWN_RATE_WAIT
        if unsettled < self.limit:
            self.sending += 1
            return None
        probe_at = max(self._probe_at, self._progress_at + self._probe_delay)
        if not self._probing and now >= probe_at:
            self._probing = True
            self.sending += 1
            return None
        wait = self._probe_delay if self._probing else probe_at - now
        return self.signal.version, max(0.001, wait)

    def force(self) -> None:
        """Send without admission (the caller's wait budget ran out): the server decides."""
        self.sending += 1

    def accepted(self, generation: Any, now: float) -> None:
        """A create was answered 2xx with ``generation``."""
        # Deferred (down the layers): the model loads with the first call, not with the client.
        from .types.generation import Generation

        self.sending = max(0, self.sending - 1)
        if isinstance(generation, Generation) and not generation.is_terminal:
            self.tracked[generation.id] = now
            if len(self.tracked) > _MAX_TRACKED:
                self.tracked.popitem(last=False)
        self._progress_at = now
        if self.limit is None:
            self.window += 1
        elif self._probing:
            self._probing = False
            self.limit = max(self.limit, len(self.tracked))
            self._probe_delay = _FIRST_PROBE_DELAY
            self._streak_factor = 2
        else:
            self._streak += 1
            if self._streak >= self._streak_factor * max(1, self.limit):
                self.limit += 1
                self._streak = 0
                self._raised = True
            elif self._streak >= max(1, self.limit):
                self._raised = False  # the raise held for a while: it was right
        self.signal.fire_locked()

    def refused(self, retry_after: float, now: float) -> None:
        """A create was refused with ``429 concurrency_limit_exceeded``."""
        self.sending = max(0, self.sending - 1)
        # The server allows at most what we had in flight when it said no (other clients of the
        # team may hold the rest: then this is 0 and only probes go until slots free up). Some
        # of ours may have finished unseen, so a known limit only ever comes down by one here.
        in_flight = len(self.tracked)
        if self.limit is None:
            self.limit = in_flight
        elif self._raised:
            self.limit -= 1  # the last raise was one too many
            self._streak_factor = min(64, self._streak_factor * 2)
        elif self._probing:
            self.limit = min(self.limit, in_flight)
        else:
            self.limit = min(in_flight, self.limit - 1)
        self.limit = max(0, self.limit)
        self._raised = False
        self._streak = 0
        if self._probing:
            self._probing = False
            self._probe_delay = min(_MAX_PROBE_BACKOFF, self._probe_delay * 2)
        elif not self.tracked:
            # None of ours is in flight, so none can free a slot: only other clients' can. Ask
            # again when the server says, backing off while it keeps refusing.
            self._probe_delay = max(retry_after, 0.1)
        else:
            self._probe_delay = _FIRST_PROBE_DELAY
        self._probe_at = now + max(self._probe_delay, retry_after)
        self.signal.fire_locked()

    def released(self) -> None:
        """A create ended without an answer that tells anything (an error, a cancellation)."""
        self.sending = max(0, self.sending - 1)
        self._probing = False
        self.signal.fire_locked()

    def seen(self, generation: Generation, now: float) -> None:
        """A generation was read; if it is one of ours and finished, its slot is free."""
        if generation.id in self.tracked and generation.is_terminal:
            del self.tracked[generation.id]
            self._progress_at = now
            self.signal.fire_locked()

    def _forget_stale(self, now: float) -> None:
        while self.tracked:
            oldest, since = next(iter(self.tracked.items()))
            if now - since < _STALE_AFTER:
                return
            del self.tracked[oldest]


class Pacer:
    """The pacing state of one client and its ``with_options`` copies."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.signal = Signal(self.lock)
        self.gate = Gate(self.signal)
        self._buckets: dict[str, Bucket] = {}

    def bucket(self, route: str) -> Bucket:
        bucket = self._buckets.get(route)
        if bucket is None:
            with self.lock:
                bucket = self._buckets.setdefault(route, Bucket())
        return bucket

    def observe(self, result: Any, now: float) -> None:
        """Note finished generations in any result (a row, a page of rows)."""
        gate = self.gate
        if not gate.tracked:
            return
        # Deferred (down the layers): once a create was tracked, the model is loaded anyway.
        from .types.generation import Generation

        if isinstance(result, Generation):
            with self.lock:
                gate.seen(result, now)
            return
        data = getattr(result, "data", None)
        if isinstance(data, list):
            # A page rarely holds one of ours: look the rows up before taking the lock (`seen`
            # checks again under it), so a 100-row page costs a dict lookup per row.
            tracked = gate.tracked
            ours = [i for i in data if isinstance(i, Generation) and i.id in tracked]
            if ours:
                with self.lock:
                    for item in ours:
                        gate.seen(item, now)

    def __repr__(self) -> str:
        gate = self.gate
        limit = "unknown" if gate.limit is None else gate.limit
        return (
            f"<Pacer routes={len(self._buckets)} concurrency_limit={limit} "
            f"in_flight={len(gate.tracked)} sending={gate.sending}>"
        )


def figures_of(headers: Mapping[str, str] | None) -> RateLimit | None:
    """The rate-limit figures of a response's headers, or ``None`` when it carries none."""
    if headers is None:
        return None
    figures = RateLimit.from_headers(headers)
    return None if figures.remaining is None else figures
