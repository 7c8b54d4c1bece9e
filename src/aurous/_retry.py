"""The retry policy: which failures are retried, and how long to wait first.

Plain functions, asked by `aurous._flow` after an attempt failed. Retryability is decided
first: an error that is never retried (a 404, a 400) raises straight from the flow, with no
retry machinery in its traceback. The waiting itself is a `Sleep` step, so the emulator's manual
clock and the async client wait exactly like the sync one.

The schedule is the one the API documents for its clients (docs/guides/retries.md):

- 5xx, connection errors and timeouts: exponential backoff with jitter, 1 s → 2 s → 4 s → 8 s …,
  capped at 30 s; each wait is drawn from ±20 % around its step.
- 409 ``idempotency_key_in_use`` (the first request with the key is still being processed):
  0.5 s, doubling, up to 8 s.
- 429: ``Retry-After``; without it, until the bucket's reset; without either, 1 s.

Why not tenacity: its retry loop owns the sleeping (it calls ``sleep`` itself), but here a wait is
a step the method yields, so the loop must live in the flow; driving tenacity's state machine from
outside meant using its internals, and put its frames (and ``concurrent.futures``') in every
traceback. What tenacity would decide here fits in the functions below.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

from ._errors import (
    APIConnectionError,
    AurousError,
    IdempotencyKeyInUseError,
    RateLimitError,
    ServerError,
)

if TYPE_CHECKING:
    from ._call import Call

__all__ = [
    "BACKOFF_CAP",
    "CONFLICT_BACKOFF_CAP",
    "backoff_delay",
    "conflict_delay",
    "never_sent",
    "rate_limit_delay",
    "retry_delay",
]

BACKOFF_START = 1.0
BACKOFF_CAP = 30.0
CONFLICT_BACKOFF_START = 0.5
CONFLICT_BACKOFF_CAP = 8.0
JITTER = 0.2
"""Each backoff wait is drawn from ±20 % around its step, so many clients that failed together
do not all come back at the same instant."""
BARE_RATE_LIMIT_WAIT = 1.0
"""A 429 with neither ``Retry-After`` nor a reset header waits this long (errors.md §4.1)."""
_MIN_RATE_LIMIT_WAIT = 0.25
"""A 429 asking for no wait (``Retry-After: 0``) still waits this long, doubling with each 429 in
a row up to `BARE_RATE_LIMIT_WAIT`: otherwise such a server would be hammered."""


def never_sent(error: BaseException) -> bool:
    """True for a connection failure that happened before the request could reach the server."""
    return isinstance(error, APIConnectionError) and getattr(error, "_never_sent", False)


def _jittered(step: float, cap: float) -> float:
    return min(cap, step * random.uniform(1 - JITTER, 1 + JITTER))


def _doubled(start: float, times: int, cap: float) -> float:
    """``start`` doubled ``times - 1`` times, at most ``cap``: the exponent is bounded, since a
    float power overflows (``OverflowError``) after about a thousand doublings."""
    return min(cap, start * 2.0 ** min(max(0, times - 1), 64))


def backoff_delay(attempt: int) -> float:
    """The wait after failed attempt number ``attempt`` (1-based): 1, 2, 4, 8 … s, ±20 %, ≤ 30 s."""
    return _jittered(_doubled(BACKOFF_START, attempt, BACKOFF_CAP), BACKOFF_CAP)


def conflict_delay(attempt: int) -> float:
    """The wait after the ``attempt``-th 409 ``idempotency_key_in_use``: 0.5 s doubling to 8 s."""
    step = _doubled(CONFLICT_BACKOFF_START, attempt, CONFLICT_BACKOFF_CAP)
    return _jittered(step, CONFLICT_BACKOFF_CAP)


def rate_limit_delay(error: RateLimitError, times: int = 1) -> float:
    """How long the ``times``-th 429 in a row asks to wait.

    ``Retry-After`` (honoured whatever its size: the caller decides whether it fits its budget),
    else until the bucket resets, else 1 s; never less than a floor that doubles with each 429
    in a row, so a server answering ``Retry-After: 0`` is not hammered.
    """
    floor = _doubled(_MIN_RATE_LIMIT_WAIT, times, BARE_RATE_LIMIT_WAIT)
    if error.retry_after is not None:
        return max(error.retry_after, floor)
    until_reset = error.rate_limit.seconds_until_reset()
    if until_reset is not None and math.isfinite(until_reset):
        return max(until_reset, floor)
    return BARE_RATE_LIMIT_WAIT


def retry_delay(
    error: AurousError, call: Call[Any], attempt: int, max_retries: int, *, rate_limits: bool
) -> float | None:
    """Seconds to wait before sending ``call`` again after ``error`` ended attempt ``attempt``;
    ``None`` when it is not retried.

    ``rate_limits``: whether a 429 is retried here (only when the client does not pace itself;
    a pacing client waits for limits without spending retries).
    """
    if attempt > max_retries or getattr(error, "_client_closed", False):
        return None
    if isinstance(error, RateLimitError):
        # Refused before anything was done, so always safe to repeat.
        return rate_limit_delay(error, attempt) if rate_limits else None
    if never_sent(error):
        return backoff_delay(attempt)
    if not call.is_retry_safe:
        return None
    if isinstance(error, IdempotencyKeyInUseError):
        return conflict_delay(attempt)
    if isinstance(error, (APIConnectionError, ServerError)):
        return backoff_delay(attempt)
    return None
