"""`LocalPacer` (``pacing=True``) takes a shortcut through the same gate and buckets as `Pacer`
on any store: it must decide exactly as `Pacer` does, and skip reading figures only when no wait
could come of them."""

from __future__ import annotations

import itertools
from collections.abc import Generator
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from aurous._pacing import GATE, Admission, Bucket, Gate, LocalPacer, Pacer, bucket_key
from aurous._steps import Sleep, WaitFor
from aurous._store import LocalStore

from ._rows import generation as _generation

WALL = 1_779_282_060


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return WALL + self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.now += seconds


class _Call:
    def __init__(self, creates: bool) -> None:
        self.creates_generation = creates
        self.route = "POST /v1/images" if creates else "GET /v1/images/{id}"


class _Waits:
    def __init__(self, clock: _Clock) -> None:
        self.clock = clock

    def fits(self, seconds: float) -> bool:
        return seconds <= 5.0

    def left(self) -> float:
        return 5.0

    def spent(self, seconds: float) -> None:
        pass

    def log(self, seconds: float, what: str, kind: str) -> None:
        pass

    def now(self) -> float:
        return self.clock.now


def _drive(steps: Generator[Any, Any, Any]) -> tuple[str, Any]:
    """Run steps that need no I/O; ("done", value), or the first wait asked for."""
    try:
        step = next(steps)
    except StopIteration as stop:
        return "done", stop.value
    assert isinstance(step, (Sleep, WaitFor)), step
    steps.close()  # the caller gave up waiting (a deadline): its place goes to the next
    return "waits", type(step).__name__


def _normal(gate: Gate) -> dict[str, Any]:
    """The gate as data, with tickets numbered in order (each pacer draws its own)."""
    data = gate.dump()
    for table in ("sending", "queue"):
        data[table] = sorted(since for _, since in data[table].values())
    data["probing"] = data["probing"] is not None
    return data


# A call: (creates?, status of what it returns, Remaining, seconds later, answered or failed).
calls = st.lists(
    st.tuples(
        st.booleans(),
        st.sampled_from(["pending", "processing", "succeeded", "failed"]),
        st.integers(0, 9),
        st.floats(0.0, 3.0),
        st.booleans(),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(calls)
def test_the_shortcut_decides_as_the_general_pacer(script: list[Any]) -> None:
    pacers = []
    for kind in (LocalPacer, Pacer):
        clock = _Clock()
        pacer = kind(LocalStore(clock))  # type: ignore[arg-type]
        pacers.append((pacer, clock))
    ids = itertools.count()
    open_ids: list[str] = []
    for creates, status, remaining, later, ok in script:
        gid = f"img_{next(ids)}" if creates else (open_ids[0] if open_ids else "img_x")
        if creates and status in ("pending", "processing"):
            open_ids.append(gid)
        elif not creates and status in ("succeeded", "failed") and open_ids:
            open_ids.pop(0)
        outcomes = []
        for pacer, clock in pacers:
            clock.now += later
            outcome, admission = _drive(pacer.admit(_Call(creates), _Waits(clock)))  # type: ignore[arg-type]
            if outcome == "done":
                assert isinstance(admission, Admission)
                if ok:
                    response = httpx.Response(
                        200,
                        headers={
                            "X-RateLimit-Limit": "10",
                            "X-RateLimit-Remaining": str(remaining),
                            "X-RateLimit-Reset": str(WALL + int(clock.now) + 10 - remaining),
                        },
                    )
                    steps = admission.answered(response, _generation(gid, status), True)
                else:
                    steps = admission.answered(httpx.Response(200), None, False)
                assert _drive(steps) == ("done", None)
            outcomes.append((outcome, admission if outcome == "waits" else None))
        assert outcomes[0] == outcomes[1]
        (local, _), (general, _) = pacers
        assert _normal(local.gate) == _normal(general.gate)
        for route in ("POST /v1/images", "GET /v1/images/{id}"):
            assert local.bucket(route).dump() == general.bucket(route).dump()


def test_figures_go_unread_only_far_from_empty_and_for_a_second() -> None:
    bucket = Bucket()
    bucket.reserve(0.0)
    bucket.settle((100, 90, WALL + 10), 0.0, WALL)
    assert bucket.skims(0.5)
    bucket.reserve(0.5)
    bucket.spent()
    assert bucket.tokens == 89  # the unread answer took its token all the same
    assert not bucket.outstanding
    assert not bucket.skims(1.0)  # a second since the figures were read: read again

    bucket.settle((100, 20, WALL + 80), 1.0, WALL + 1)
    assert not bucket.skims(1.1)  # under a quarter of the capacity left

    bucket.settle((100, 40, WALL + 81), 21.0, WALL + 21)  # 20 s of refill later
    assert bucket.skims(21.1)
    for _ in range(20):
        bucket.reserve(21.1)
    assert not bucket.skims(21.1)  # 40 tokens, but 20 of them promised

    small = Bucket()
    small.settle((20, 9, WALL + 6), 0.0, WALL)
    assert not small.skims(0.1)  # fewer than 10 tokens spare: read every answer


def test_a_client_far_from_its_limits_reads_figures_once_a_second() -> None:
    clock = _Clock()
    pacer = LocalPacer(LocalStore(clock))  # type: ignore[arg-type]
    reads = 0
    original = pacer.read

    def counting(headers: Any) -> Any:
        nonlocal reads
        reads += 1
        return original(headers)

    pacer.read = counting  # type: ignore[method-assign]
    response = httpx.Response(
        200,
        headers={
            "X-RateLimit-Limit": "1200",
            "X-RateLimit-Remaining": "1100",
            "X-RateLimit-Reset": str(WALL + 200),
        },
    )
    for _ in range(50):
        clock.now += 0.05
        _, admission = _drive(pacer.admit(_Call(False), _Waits(clock)))  # type: ignore[arg-type]
        _drive(admission.answered(response, _generation("img_1", "succeeded"), True))
    assert reads == 3  # 2.5 s of answers: the first, then one a second
    bucket = pacer.bucket("GET /v1/images/{id}")
    assert not bucket.outstanding
    assert GATE not in pacer.store._objects  # reads never touch the gate
    assert bucket_key("GET /v1/images/{id}") in pacer.store._objects


def test_a_call_cancelled_while_waiting_for_a_token_gives_back_its_token_and_slot() -> None:
    for kind in (LocalPacer, Pacer):
        clock = _Clock()
        pacer = kind(LocalStore(clock))  # type: ignore[arg-type]
        _, admission = _drive(pacer.admit(_Call(True), _Waits(clock)))  # type: ignore[arg-type]
        empty = httpx.Response(
            201,
            headers={
                "X-RateLimit-Limit": "10",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(WALL + int(clock.now) + 10),
            },
        )
        _drive(admission.answered(empty, _generation("img_1", "pending"), True))
        # The bucket is empty: the next create is admitted by the gate, then waits for a token,
        # and is cancelled there (a deadline, a task cancelled).
        assert _drive(pacer.admit(_Call(True), _Waits(clock))) == ("waits", "Sleep")  # type: ignore[arg-type]
        assert not pacer.bucket("POST /v1/images").outstanding, kind
        assert not pacer.gate.sending, kind
