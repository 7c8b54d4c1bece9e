"""What happens to every `Call` between a method and the wire: pacing, retries, reading the answer.

`Flow.wrap` wraps a method's steps once, the way httpx's ``sync_auth_flow`` wraps an ``auth_flow``:
each `Call` the method yields becomes one or more attempts (`Transport.attempt`: the `Exchange`
steps of one request and its redirects), preceded by the waits the client's `Pacer` asks for and
separated by the waits the retry policy (`aurous._retry`) asks for; every other step passes
through untouched. Methods, helpers and the batch therefore never deal with rate limits or
retries themselves, and both clients share this code: only the driver differs.

A call with a ``deadline`` never runs past it: each attempt's timeout is cut to the time left,
and no wait (backoff, ``Retry-After``, pacing) is started that would end after it. A per-call
``timeout`` given as a number sets that deadline (`Call.total_timeout`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx

from ._budget import Budget, Spending
from ._call import Call
from ._clock import Clock
from ._errors import AurousError, RateLimitError
from ._pacing import CONCURRENCY_CODE, Admission, Pacer, WaitKind
from ._retry import rate_limit_delay, retry_delay
from ._steps import Sleep, Step, Steps, perform, relay
from ._transport import Transport

__all__ = ["Flow", "capped_timeout"]

T = TypeVar("T")

logger = logging.getLogger("aurous")


def capped_timeout(base: httpx.Timeout, remaining: float | None) -> httpx.Timeout:
    """``base`` with every phase limited to ``remaining`` seconds (the time left before a deadline)."""
    if remaining is None:
        return base
    remaining = max(remaining, 0.001)

    def cap(value: float | None) -> float:
        return remaining if value is None else min(value, remaining)

    return httpx.Timeout(
        connect=cap(base.connect), read=cap(base.read), write=cap(base.write), pool=cap(base.pool)
    )


def _new_key() -> str:
    return str(uuid.uuid4())


class Flow:
    """How one client turns calls into attempts: its clock, defaults, retry policy and pacer."""

    __slots__ = (
        "budget",
        "clock",
        "max_rate_limit_wait",
        "max_retries",
        "pacer",
        "spending",
        "tags",
        "timeout",
        "transport",
    )

    def __init__(
        self,
        *,
        transport: Transport,
        clock: Clock,
        timeout: httpx.Timeout,
        max_retries: int,
        max_rate_limit_wait: float,
        pacer: Pacer | None,
        budget: Budget | None = None,
        tags: Mapping[str, str] | None = None,
        spending: Spending | None = None,
    ) -> None:
        self.transport = transport
        self.clock = clock
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_rate_limit_wait = max_rate_limit_wait
        self.pacer = pacer
        self.budget = budget
        """The budget the creates of this client copy are counted by (``with_options``)."""
        self.tags: Mapping[str, str] = tags or {}
        """The tags of this copy's calls: on budget entries and log records."""
        self.spending = spending if spending is not None else Spending()
        """Budget bookkeeping shared by a client and its copies (`aurous._budget`)."""
        self.set_clock(clock)

    def set_clock(self, clock: Clock) -> None:
        self.clock = clock
        if self.pacer is not None:
            self.pacer.set_clock(clock)

    # ---- a method's steps ----------------------------------------------------------------------
    def wrap(self, steps: Steps[T]) -> Steps[T]:
        """``steps`` with every `Call` expanded into paced, retried attempts."""
        return relay(steps, self._expand)

    def _expand(self, step: Step) -> Steps[Any]:
        return self.call(step) if isinstance(step, Call) else perform(step)

    # ---- one call ------------------------------------------------------------------------------
    def call(self, call: Call[T]) -> Steps[T]:
        """The attempts of ``call`` until it succeeds or fails for good; its parsed result."""
        # Not a generator itself: one frame per call, as before budgets existed.
        call.prepare(_new_key)
        spending = self.spending
        if spending.active:
            # A copy of this client has a budget: creates reserve first, and ended generations
            # settle their holds (`aurous._budget`). Until then, this check is all it costs.
            return spending.call(self, call)
        return self.send(call)

    def send(self, call: Call[T]) -> Steps[T]:
        """The attempts of a prepared ``call`` (paced, retried); its parsed result."""
        options = call.options
        max_retries = options.get("max_retries", self.max_retries)
        base_timeout = self.timeout if call.timeout is None else call.timeout
        if call.total_timeout is not None:
            total_end = self.clock.monotonic() + call.total_timeout
            call.deadline = total_end if call.deadline is None else min(call.deadline, total_end)
        waits = _Waits(self, call)
        pacer = self.pacer
        attempt = limited = failures = 0
        refused: RateLimitError | None = None
        while True:
            admission = None if pacer is None else (yield from pacer.admit(call, waits, refused))
            attempt += 1
            deadline = call.deadline
            remaining = None if deadline is None else deadline - self.clock.monotonic()
            try:
                response: httpx.Response = yield from self.transport.attempt(
                    call, attempt, capped_timeout(base_timeout, remaining), deadline
                )
            except AurousError as error:
                if admission is not None and isinstance(error, RateLimitError):
                    # A limit, not a failure: waited out within the budget, never a retry.
                    limited += 1
                    if error.code == CONCURRENCY_CODE:
                        refused = error
                    yield from self._wait_out(admission, error, limited, max_retries, waits)
                    continue
                if admission is not None:
                    yield from admission.failed(error)
                failures += 1
                delay = retry_delay(error, call, failures, max_retries, rate_limits=pacer is None)
                if delay is None or (isinstance(error, RateLimitError) and not waits.fits(delay)):
                    raise
                yield from waits.retry(delay, error, failures, max_retries)
                continue
            except BaseException:
                # Cancelled or interrupted mid-request: give the reservations back.
                if admission is not None:
                    admission.abandon()
                raise
            if admission is None:
                return response if call.raw else call.read(response)  # type: ignore[return-value]
            try:
                result: T = response if call.raw else call.read(response)  # type: ignore[assignment]
            except Exception:
                yield from admission.answered(response, None, readable=False)
                raise
            yield from admission.answered(response, result, readable=True)
            return result

    @staticmethod
    def _wait_out(
        admission: Admission, error: RateLimitError, times: int, max_retries: int, waits: _Waits
    ) -> Steps[None]:
        """Wait before sending again after a 429; raise ``error`` when that does not fit."""
        delay = rate_limit_delay(error, times)
        yield from admission.rate_limited(error, rate_limit_delay(error, 1))
        if max_retries == 0 or not waits.fits(delay):
            raise error
        if admission.ticket is not None and error.code == CONCURRENCY_CODE:
            return  # the gate holds the retry until a slot frees or a probe is due
        yield from waits.rate_limit(delay, error)


class _Waits:
    """The waiting one call may still do: until its deadline, or ``max_rate_limit_wait`` for
    rate limits when it has none."""

    __slots__ = ("_call", "_flow", "_rate_limit_waited")

    def __init__(self, flow: Flow, call: Call[Any]) -> None:
        self._flow = flow
        self._call = call
        self._rate_limit_waited = 0.0

    def fits(self, seconds: float) -> bool:
        """Whether a rate-limit wait of ``seconds`` fits what is left of the budget."""
        call = self._call
        if call.deadline is not None:
            return self._flow.clock.monotonic() + seconds <= call.deadline
        budget = call.max_rate_limit_wait
        if budget is None:
            budget = self._flow.max_rate_limit_wait
        return self._rate_limit_waited + seconds <= budget

    def left(self) -> float:
        """Seconds of waiting the budget still allows."""
        call = self._call
        if call.deadline is not None:
            return call.deadline - self._flow.clock.monotonic()
        budget = call.max_rate_limit_wait
        if budget is None:
            budget = self._flow.max_rate_limit_wait
        return budget - self._rate_limit_waited

    def spent(self, seconds: float) -> None:
        self._rate_limit_waited += max(0.0, seconds)

    def now(self) -> float:
        return self._flow.clock.monotonic()

    def retry(
        self, delay: float, error: AurousError, attempt: int, max_retries: int
    ) -> Steps[None]:
        """Back off before attempt ``attempt + 1``, unless that would run past the deadline."""
        deadline = self._call.deadline
        if deadline is not None and self._flow.clock.monotonic() + delay > deadline:
            raise error
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "retrying after %s (attempt %d of %d, waiting %.2fs)",
                type(error).__name__,
                attempt,
                max_retries + 1,
                delay,
                extra={
                    "attempt": attempt,
                    "wait_seconds": delay,
                    "wait_kind": "rate_limit" if isinstance(error, RateLimitError) else "backoff",
                    "error_type": type(error).__name__,
                    "status_code": getattr(error, "status_code", None),
                    "request_id": getattr(error, "request_id", None),
                    "route": self._call.route,
                    "idempotency_key": self._call.idempotency_key,
                    "tags": self._flow.tags,
                },
            )
        if isinstance(error, RateLimitError):
            self.spent(delay)
            yield Sleep(delay, "rate_limit", error)
        else:
            yield Sleep(delay, "backoff", error)

    def rate_limit(self, delay: float, error: RateLimitError) -> Steps[None]:
        """Wait out a 429 before sending again (the caller checked that it `fits`)."""
        self.log(delay, self._call.route, "rate_limit")
        self.spent(delay)
        yield Sleep(delay, "rate_limit", error)

    def log(self, seconds: float, what: str, kind: WaitKind) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            call = self._call
            logger.debug(
                "waiting %.2fs for %s",
                seconds,
                what,
                extra={
                    "wait_seconds": seconds,
                    "wait_kind": kind,
                    "waiting_for": what,
                    "route": call.route,
                    "idempotency_key": call.idempotency_key,
                    "tags": self._flow.tags,
                },
            )
