"""How a batch keeps out of 429s: token-bucket pacing and a learned concurrency cap.

A `TokenPacer` is shared by every item of one batch (items run on worker threads in the sync
client and as tasks in the async one, hence its lock) and is written as steps, so it sleeps on
the client's clock like everything else. The `ConcurrencyCap` is consulted by the engine alone,
which starts an item only when the cap allows: waiting for a free slot is never a polling loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ._operations import Now, Sleep, Steps
from ._response import ResponseInfo

__all__ = ["ConcurrencyCap", "TokenPacer"]

_MAX_PACING_WAIT = 60.0
_UNKNOWN_RATE_WAIT = 1.0
"""Wait when the bucket looks empty but its refill rate is not known yet."""


class TokenPacer:
    """Delays requests that would find one rate-limit bucket empty.

    The bucket model is errors.md §6.3: capacity ``C`` refilled continuously at a rate ``r``;
    ``X-RateLimit-Remaining`` is the whole tokens left after a request and ``X-RateLimit-Reset``
    the Unix time at which the bucket is full again, so ``r ≈ (C − Remaining) / (Reset − now)``.
    Between responses the estimate is advanced by ``r`` and reduced by the requests sent (or
    promised to a waiter) since.
    Bucket names are never hard-coded: a batch keeps one pacer per kind of request.
    """

    def __init__(self, wall_clock: Callable[[], float], on_wait: Callable[[float], None]) -> None:
        self._lock = threading.Lock()
        self._wall = wall_clock
        self._on_wait = on_wait
        self._tokens: float | None = None
        self._seen_at = 0.0
        self._limit: int | None = None
        self._rate: float | None = None
        self._outstanding = 0

    def _delay(self, now: float) -> float:
        if self._tokens is None:
            return 0.0
        tokens = self._tokens
        if self._rate is not None:
            tokens += self._rate * max(0.0, now - self._seen_at)
            if self._limit is not None:
                tokens = min(float(self._limit), tokens)
        # Requests sent but not answered yet, and tokens promised to earlier waiters.
        tokens -= self._outstanding
        if tokens >= 1:
            return 0.0
        if self._rate is None:
            return _UNKNOWN_RATE_WAIT
        return min(_MAX_PACING_WAIT, (1 - tokens) / self._rate)

    def acquire(self) -> Steps[None]:
        """Steps returning once a request may be sent without emptying the bucket.

        The token is reserved at once and the caller sleeps until it should have refilled, so
        waiters queue up one refill interval apart instead of all waking at the same moment.
        """
        now: float = yield Now()
        with self._lock:
            delay = self._delay(now)
            self._outstanding += 1
        if delay > 0:
            self._on_wait(delay)
            yield Sleep(delay)

    def observe(self, info: ResponseInfo | None) -> Steps[None]:
        """Learn from the answer to a request let through by `acquire` (``None``: no headers)."""
        now: float = yield Now()
        with self._lock:
            self._outstanding = max(0, self._outstanding - 1)
            figures = info.rate_limit if info is not None else None
            if figures is None or figures.remaining is None:
                return
            self._tokens = float(figures.remaining)
            self._seen_at = now
            self._limit = figures.limit
            if figures.limit is not None and figures.remaining < figures.limit:
                until_full = figures.seconds_until_reset(self._wall())
                if until_full:
                    self._rate = (figures.limit - figures.remaining) / until_full

    def rate_limited(self, seconds: float) -> None:
        """A request got a 429 anyway; its caller waits ``seconds``."""
        with self._lock:
            self._tokens = 0.0
        self._on_wait(seconds)


class ConcurrencyCap:
    """How many of its generations a batch may have in flight: the team's concurrency limit.

    The limit (errors.md §6.4) is not announced; it is learned from a ``429
    concurrency_limit_exceeded``: the generations this batch had in flight when it came is what
    the server allows. The engine then starts a create only when one of its generations has
    finished, instead of letting items retry and spend a rate-limit token every second. After
    ``2 × cap`` creates accepted in a row the cap is raised by one, so capacity freed by other
    clients of the team is found again (at the cost of at most one 429 per probe).

    Used by the batch engine only (one thread); it does no I/O.
    """

    def __init__(self) -> None:
        self.limit: int | None = None
        self._accepted = 0

    def allows(self, in_flight: int) -> bool:
        """Whether one more create may start while ``in_flight`` of ours are unfinished."""
        return self.limit is None or in_flight < self.limit

    def refused(self, holding: int) -> None:
        """A create was refused while ``holding`` of our generations were in flight."""
        self.limit = max(1, holding)
        self._accepted = 0

    def accepted(self) -> None:
        """A create was accepted."""
        if self.limit is None:
            return
        self._accepted += 1
        if self._accepted >= 2 * self.limit:
            self.limit += 1
            self._accepted = 0
