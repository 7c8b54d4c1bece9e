"""The retry policy (errors.md §4): one tenacity configuration serving both clients."""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

import tenacity

from ._constants import INITIAL_BACKOFF, MAX_BACKOFF, MAX_RETRY_WAIT
from ._errors import (
    APIConnectionError,
    IdempotencyKeyInUseError,
    RateLimitError,
    ServerError,
)

__all__ = ["RetryPolicy", "never_sent"]

logger = logging.getLogger("aurous")


def never_sent(error: BaseException) -> bool:
    """True for a connection failure that happened before the request could reach the server."""
    return isinstance(error, APIConnectionError) and getattr(error, "_never_sent", False)


def backoff_delay(attempt: int) -> float:
    """Exponential backoff with jitter: 0.5 s doubling, capped at 8 s, then 50–100 % of that."""
    base = min(MAX_BACKOFF, INITIAL_BACKOFF * (2.0 ** max(0, attempt - 1)))
    return float(base * (0.5 + random.random() / 2))


def rate_limit_delay(error: RateLimitError, attempt: int) -> float:
    """How long to wait after a 429: ``Retry-After``, else the bucket reset, else backoff; ≤ 60 s."""
    if error.retry_after is not None:
        return min(MAX_RETRY_WAIT, error.retry_after)
    until_reset = error.rate_limit.seconds_until_reset()
    if until_reset is not None:
        return min(MAX_RETRY_WAIT, until_reset)
    return backoff_delay(attempt)


class RetryPolicy:
    """Decides which failures are retried and how long to wait before the next attempt.

    Retried: connection errors and timeouts, 409 ``idempotency_key_in_use``, 429 and 5xx — but a
    request that is not safe to repeat (a POST without an idempotency key) is retried only when it
    certainly never reached the server, or when the server refused it before doing anything (429).
    """

    def __init__(self, max_retries: int) -> None:
        self.max_retries = max(0, max_retries)

    @staticmethod
    def should_retry(error: BaseException, *, retry_safe: bool) -> bool:
        if never_sent(error):
            return True
        if isinstance(error, RateLimitError):
            return True
        if not retry_safe:
            return False
        return isinstance(error, (APIConnectionError, ServerError, IdempotencyKeyInUseError))

    @staticmethod
    def delay(error: BaseException | None, attempt: int) -> float:
        if isinstance(error, RateLimitError):
            return rate_limit_delay(error, attempt)
        return backoff_delay(attempt)

    def _kwargs(self, retry_safe: bool) -> dict[str, Any]:
        def retry(state: tenacity.RetryCallState) -> bool:
            outcome = state.outcome
            error = outcome.exception() if outcome is not None and outcome.failed else None
            if error is None:
                return False
            return self.should_retry(error, retry_safe=retry_safe)

        def wait(state: tenacity.RetryCallState) -> float:
            outcome = state.outcome
            error = outcome.exception() if outcome is not None and outcome.failed else None
            return self.delay(error, state.attempt_number)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            outcome = state.outcome
            error = outcome.exception() if outcome is not None and outcome.failed else None
            wait_s = state.next_action.sleep if state.next_action else 0.0
            logger.info(
                "retrying after %s (attempt %d of %d, waiting %.2fs)",
                type(error).__name__,
                state.attempt_number,
                self.max_retries + 1,
                wait_s,
            )

        return {
            "before_sleep": before_sleep,
            "retry": retry,
            "wait": wait,
            "stop": tenacity.stop_after_attempt(self.max_retries + 1),
            "reraise": True,
        }

    def retrying(self, *, retry_safe: bool, sleep: Callable[[float], None]) -> tenacity.Retrying:
        return tenacity.Retrying(sleep=sleep, **self._kwargs(retry_safe))

    def async_retrying(
        self, *, retry_safe: bool, sleep: Callable[[float], Awaitable[None]]
    ) -> tenacity.AsyncRetrying:
        return tenacity.AsyncRetrying(sleep=sleep, **self._kwargs(retry_safe))
