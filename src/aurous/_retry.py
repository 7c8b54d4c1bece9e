"""The retry policy: which failures are retried and how long to wait, for both clients.

One tenacity configuration decides; `aurous._flow` asks it only after an attempt failed, so a call
that succeeds first time builds no retry state at all. The waiting itself is a `Sleep` step, so
the emulator's manual clock and the async client sleep exactly like the sync one.

Retried: connection errors and timeouts, 5xx, 409 ``idempotency_key_in_use`` — but a request
that is not safe to repeat (a POST without an idempotency key) only when it certainly never
reached the server. A 429 is retried here only when the client does not pace itself
(``pacing=False``); otherwise `aurous._pacing` waits for it, without spending ``max_retries``.
"""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING, Any

from ._constants import INITIAL_BACKOFF, MAX_BACKOFF
from ._errors import (
    APIConnectionError,
    AurousError,
    IdempotencyKeyInUseError,
    RateLimitError,
    ServerError,
)

if TYPE_CHECKING:
    import tenacity

    from ._call import Call

__all__ = ["RetryPolicy", "backoff_delay", "never_sent", "rate_limit_delay"]

logger = logging.getLogger("aurous")


def never_sent(error: BaseException) -> bool:
    """True for a connection failure that happened before the request could reach the server."""
    return isinstance(error, APIConnectionError) and getattr(error, "_never_sent", False)


def backoff_delay(attempt: int) -> float:
    """Exponential backoff with jitter: 0.5 s doubling, capped at 8 s, then 50–100 % of that."""
    base = min(MAX_BACKOFF, INITIAL_BACKOFF * (2.0 ** max(0, attempt - 1)))
    return float(base * (0.5 + random.random() / 2))


def rate_limit_delay(error: RateLimitError, attempt: int) -> float:
    """How long a 429 asks to wait: ``Retry-After``, else until the bucket resets, else backoff.

    The server's ``Retry-After`` is honoured whatever its size; the caller decides whether that
    fits its wait budget.
    """
    if error.retry_after is not None:
        return error.retry_after
    until_reset = error.rate_limit.seconds_until_reset()
    if until_reset is not None:
        return until_reset
    return backoff_delay(attempt)


class RetryPolicy:
    """The client's retry decisions (one object, shared by its calls and its sync/async forms).

    Per-call facts (the call, its ``max_retries``) travel in the tenacity state, so the single
    ``tenacity.Retrying`` built here serves every call of the client concurrently.
    """

    def __init__(self, *, retry_rate_limits: bool, max_rate_limit_wait: float) -> None:
        self.retry_rate_limits = retry_rate_limits
        self.max_rate_limit_wait = max_rate_limit_wait
        self._machine: tenacity.Retrying | None = None

    @property
    def _retrying(self) -> tenacity.Retrying:
        # Built on the first failure: a client whose calls succeed never imports tenacity (nor
        # the asyncio it imports). Two threads failing at once may both build one: either serves.
        if self._machine is None:
            import tenacity

            self._machine = tenacity.Retrying(
                retry=self._retry,
                wait=self._wait,
                stop=self._stop,
                before_sleep=self._log,
                reraise=True,
            )
        return self._machine

    def should_retry(self, error: BaseException, call: Call[Any]) -> bool:
        if isinstance(error, RateLimitError):
            # Refused before doing anything, so safe to repeat; but never wait past the budget.
            return self.retry_rate_limits and rate_limit_delay(error, 1) <= self.max_rate_limit_wait
        if never_sent(error):
            return True
        if not call.retry_safe:
            return False
        return isinstance(error, (APIConnectionError, ServerError, IdempotencyKeyInUseError))

    def start(self, call: Call[Any], max_retries: int) -> tenacity.RetryCallState:
        """The retry state of one call, created when its first attempt failed."""
        # tenacity keeps (thread-local) statistics that its strategies update; start them.
        import tenacity  # deferred: see _retrying

        self._retrying.begin()
        return tenacity.RetryCallState(
            self._retrying, fn=None, args=(), kwargs={"call": call, "max_retries": max_retries}
        )

    def next_delay(self, state: tenacity.RetryCallState, error: AurousError) -> float:
        """Seconds to wait before the next attempt after ``error``; raises ``error`` if none is due."""
        import tenacity  # deferred: see _retrying

        state.set_exception((type(error), error, error.__traceback__))
        action = self._retrying.iter(state)
        if not isinstance(action, tenacity.DoSleep):
            raise error  # pragma: no cover - tenacity re-raises the error itself
        state.prepare_for_next_attempt()
        return float(action)

    # ---- tenacity strategies -----------------------------------------------------------------
    def _retry(self, state: tenacity.RetryCallState) -> bool:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        return error is not None and self.should_retry(error, state.kwargs["call"])

    @staticmethod
    def _wait(state: tenacity.RetryCallState) -> float:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        if isinstance(error, RateLimitError):
            return rate_limit_delay(error, state.attempt_number)
        return backoff_delay(state.attempt_number)

    @staticmethod
    def _stop(state: tenacity.RetryCallState) -> bool:
        return bool(state.attempt_number > state.kwargs["max_retries"])

    @staticmethod
    def _log(state: tenacity.RetryCallState) -> None:
        if not logger.isEnabledFor(logging.INFO):
            return
        outcome = state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        wait = state.next_action.sleep if state.next_action else 0.0
        logger.info(
            "retrying after %s (attempt %d of %d, waiting %.2fs)",
            type(error).__name__,
            state.attempt_number,
            state.kwargs["max_retries"] + 1,
            wait,
        )
