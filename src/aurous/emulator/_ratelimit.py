"""Token buckets: continuous refill, one token per request, a refused request takes none; the
``X-RateLimit-*`` and ``Retry-After`` values follow from the bucket state."""

from __future__ import annotations

import dataclasses
import math

__all__ = ["BucketDecision", "TokenBucket"]

# Refill arithmetic is float; this keeps 0.99999999999 from reading as "no token left".
_EPSILON = 1e-9


@dataclasses.dataclass(frozen=True)
class BucketDecision:
    """The outcome of counting one request, and the headers it produces."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int

    def headers(self) -> list[tuple[str, str]]:
        """``X-RateLimit-*`` headers for the response."""
        return [
            ("X-RateLimit-Limit", str(self.limit)),
            ("X-RateLimit-Remaining", str(self.remaining)),
            ("X-RateLimit-Reset", str(self.reset)),
        ]


class TokenBucket:
    """A bucket of ``capacity`` tokens refilled continuously at ``per_minute / 60`` per second."""

    def __init__(self, capacity: int, per_minute: float, now: float) -> None:
        self.capacity = capacity
        self.rate = per_minute / 60.0
        self.tokens = float(capacity)  # a new bucket starts full
        self.updated = now

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(float(self.capacity), self.tokens + self.rate * (now - self.updated))
            self.updated = now

    def take(self, now: float) -> BucketDecision:
        """Consume one token if one is available (a refused request takes nothing)."""
        self._refill(now)
        allowed = self.tokens >= 1.0 - _EPSILON
        if allowed:
            self.tokens -= 1.0
        return self.peek(now, allowed=allowed)

    def peek(self, now: float, *, allowed: bool = True) -> BucketDecision:
        """Current figures without consuming."""
        self._refill(now)
        reset = math.ceil(now + (self.capacity - self.tokens) / self.rate) if self.rate else 0
        retry_after = max(1, math.ceil((1.0 - self.tokens) / self.rate)) if self.rate else 1
        return BucketDecision(
            allowed=allowed,
            limit=self.capacity,
            remaining=max(0, math.floor(self.tokens + _EPSILON)),
            reset=reset,
            retry_after=retry_after,
        )
