"""The batch's pacing pieces, driven step by step on a fake clock."""

from __future__ import annotations

from typing import Any

import httpx

from aurous._batch_pacing import ConcurrencyCap, TokenPacer
from aurous._operations import Now, Sleep, Steps
from aurous._response import ResponseInfo

WALL = 1_779_282_060.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def run(self, steps: Steps[Any]) -> Any:
        """Drive ``steps`` (only Now and Sleep) to completion."""
        try:
            step = next(steps)
            while True:
                if isinstance(step, Now):
                    step = steps.send(self.now)
                elif isinstance(step, Sleep):
                    self.sleeps.append(step.seconds)
                    self.now += step.seconds
                    step = steps.send(None)
                else:
                    raise AssertionError(f"unexpected step {step!r}")
        except StopIteration as done:
            return done.value


def _info(limit: int, remaining: int, reset: float) -> ResponseInfo:
    headers = httpx.Headers(
        {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(int(reset)),
        }
    )
    return ResponseInfo(201, headers, "POST", "https://api.test/v1/images")


def _pacer(waits: list[float]) -> TokenPacer:
    return TokenPacer(lambda: WALL, waits.append)


def test_nothing_known_nothing_delayed() -> None:
    clock, waits = FakeClock(), list[float]()
    pacer = _pacer(waits)
    for _ in range(5):
        clock.run(pacer.acquire())
    assert clock.sleeps == []
    assert waits == []


def test_a_full_bucket_is_not_paced() -> None:
    clock, waits = FakeClock(), list[float]()
    pacer = _pacer(waits)
    clock.run(pacer.acquire())
    clock.run(pacer.observe(_info(120, 119, WALL + 1)))
    for _ in range(50):
        clock.run(pacer.acquire())
    assert clock.sleeps == []


def test_an_empty_bucket_queues_waiters_one_refill_apart() -> None:
    clock, waits = FakeClock(), list[float]()
    pacer = _pacer(waits)
    clock.run(pacer.acquire())
    # Empty, refilling 120 tokens in 120 s: one per second.
    clock.run(pacer.observe(_info(120, 0, WALL + 120)))
    start = clock.now
    steps = [pacer.acquire() for _ in range(3)]
    delays = []
    for gen in steps:
        before = len(clock.sleeps)
        clock.now = start  # all three ask at the same moment
        clock.run(gen)
        delays.append(sum(clock.sleeps[before:]))
    assert delays == [1.0, 2.0, 3.0]
    assert waits == [1.0, 2.0, 3.0]


def test_refill_since_the_observation_counts() -> None:
    clock, waits = FakeClock(), list[float]()
    pacer = _pacer(waits)
    clock.run(pacer.acquire())
    clock.run(pacer.observe(_info(60, 0, WALL + 60)))
    clock.now += 5.0  # five tokens came back
    for _ in range(5):
        clock.run(pacer.acquire())
    assert clock.sleeps == []
    clock.run(pacer.acquire())
    assert clock.sleeps == [1.0]


def test_a_429_empties_the_estimate() -> None:
    clock, waits = FakeClock(), list[float]()
    pacer = _pacer(waits)
    clock.run(pacer.acquire())
    clock.run(pacer.observe(_info(10, 5, WALL + 5)))
    clock.run(pacer.acquire())
    clock.run(pacer.observe(None))
    pacer.rate_limited(1.0)
    assert waits == [1.0]
    clock.run(pacer.acquire())
    assert clock.sleeps
    assert clock.sleeps[-1] > 0


def test_concurrency_cap_learns_and_probes_upwards() -> None:
    cap = ConcurrencyCap()
    assert cap.allows(1000)
    cap.refused(4)
    assert cap.limit == 4
    assert cap.allows(3)
    assert not cap.allows(4)
    for _ in range(7):
        cap.accepted()
    assert cap.limit == 4
    cap.accepted()
    assert cap.limit == 5
    cap.refused(0)
    assert cap.limit == 1
