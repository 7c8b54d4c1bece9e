"""The pacer's arithmetic on a manual clock: token buckets and the concurrency gate."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from aurous._pacing import Admission, Bucket, Gate, Pacer
from aurous._response import Figures
from aurous.types import Generation

from ._rows import generation as _generation

WALL = 1_779_282_060.0


def _figures(limit: int, remaining: int, reset: float) -> Figures:
    return (limit, remaining, int(reset))


# ---- buckets -----------------------------------------------------------------------------------


def test_nothing_known_nothing_delayed() -> None:
    bucket = Bucket()
    assert [bucket.reserve(100.0) for _ in range(5)] == [0.0] * 5


def test_a_full_bucket_is_not_paced() -> None:
    bucket = Bucket()
    bucket.reserve(100.0)
    bucket.settle(_figures(120, 119, WALL + 1), 100.0, WALL)
    assert all(bucket.reserve(100.0) == 0.0 for _ in range(50))


def test_an_empty_bucket_queues_waiters_one_refill_apart() -> None:
    bucket = Bucket()
    bucket.reserve(100.0)
    # Empty, refilling 120 tokens in 120 s: one per second.
    bucket.settle(_figures(120, 0, WALL + 120), 100.0, WALL)
    assert [bucket.reserve(100.0) for _ in range(3)] == [1.0, 2.0, 3.0]


def test_refill_since_the_observation_counts() -> None:
    bucket = Bucket()
    bucket.reserve(100.0)
    bucket.settle(_figures(60, 0, WALL + 60), 100.0, WALL)
    later = 105.0  # five tokens came back
    assert [bucket.reserve(later) for _ in range(5)] == [0.0] * 5
    assert bucket.reserve(later) == pytest.approx(1.0)


def test_an_answer_overtaken_by_a_later_one_does_not_give_tokens_back() -> None:
    # Two creates in flight on an empty 5-token bucket refilling one per second: the one sent
    # first is answered last, with the Remaining and Reset of before the other was counted.
    bucket = Bucket()
    bucket.reserve(100.0)
    bucket.reserve(100.0)
    bucket.settle(_figures(5, 0, WALL + 5), 100.0, WALL)
    bucket.settle(_figures(5, 1, WALL + 4), 100.0, WALL)
    assert bucket.tokens == 0
    assert not bucket.outstanding  # both reservations are given back all the same
    assert bucket.reserve(100.0) == pytest.approx(1.0)
    # The shared stores keep the latest Reset with the rest of the bucket.
    assert Bucket.load(bucket.dump()).reset == int(WALL + 5)


def test_answers_give_reservations_back() -> None:
    bucket = Bucket()
    bucket.reserve(100.0)
    bucket.settle(_figures(10, 1, WALL + 9), 100.0, WALL)
    assert bucket.reserve(100.0) == 0.0  # the last token
    bucket.settle(None, 100.0, WALL)  # no answer (a dropped connection): the token is back
    assert bucket.reserve(100.0) == 0.0


def test_a_429_empties_the_estimate_until_retry_after() -> None:
    bucket = Bucket()
    bucket.reserve(100.0)
    bucket.settle(None, 100.0, WALL)
    bucket.emptied(100.0, retry_after=2.0)
    # Without a known rate, Retry-After is the refill estimate: one token after 2 s.
    assert bucket.reserve(100.0) == pytest.approx(2.0)
    bucket.settle(None, 102.0, WALL)
    assert bucket.reserve(102.0) == 0.0


def test_reset_given_as_a_delta_is_understood() -> None:
    bucket = Bucket()
    bucket.reserve(0.0)
    bucket.settle((60, 0, 60), 0.0, WALL)
    assert bucket.reserve(0.0) == pytest.approx(1.0)


# ---- the concurrency gate ------------------------------------------------------------------------


class _OneCaller:
    """The gate as one caller at a time uses it: each ``enter`` is a new create (a ticket) that,
    told to wait, walks away instead of queueing; answers go to the oldest admitted create."""

    def __init__(self) -> None:
        self._gate = Gate()
        self._tickets = itertools.count()
        self._admitted: list[str] = []
        self.wakes = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gate, name)

    def enter(self, now: float) -> float | None:
        ticket = f"t{next(self._tickets)}"
        verdict = self._gate.enter(ticket, "local", now)
        if verdict is None:
            self._admitted.append(ticket)
        else:
            self._gate.leave(ticket)
        return verdict

    def accepted(self, generation: Generation, now: float) -> None:
        pending = None if generation.is_terminal else generation.id
        self._gate.accepted(self._admitted.pop(0), pending, now)

    def refused(self, retry_after: float, now: float) -> None:
        self._gate.refused(self._admitted.pop(0), retry_after, now)

    def released(self) -> None:
        self._gate.released(self._admitted.pop(0))

    def seen(self, generation: Generation, now: float) -> None:
        if generation.is_terminal and self._gate.seen(generation.id, now):
            self.wakes += 1


def _gate() -> Any:
    return _OneCaller()


def test_slow_start_admits_one_more_per_accepted_create() -> None:
    gate = _gate()
    assert gate.enter(0.0) is None
    assert gate.enter(0.0) is not None  # window 1: the second waits for the first answer
    gate.accepted(_generation("img_1"), 0.0)
    assert gate.enter(0.0) is None  # window 2, one generation in flight
    assert gate.enter(0.0) is not None


def test_a_refusal_teaches_the_limit_and_a_finished_generation_frees_a_slot() -> None:
    gate = _gate()
    for n in range(4):
        assert gate.enter(0.0) is None
        gate.accepted(_generation(f"img_{n}"), 0.0)
    assert gate.enter(0.0) is None
    gate.refused(retry_after=1.0, now=0.0)
    assert gate.limit == 4
    seconds = gate.enter(0.1)
    assert seconds == pytest.approx(3.0)  # asks again within 3 s (a probe is due at 5.0)
    gate.seen(_generation("img_2", "succeeded"), 0.2)
    assert gate.wakes == 1  # waiters are woken
    assert gate.enter(0.2) is None


def test_a_terminal_replay_is_not_tracked() -> None:
    gate = _gate()
    assert gate.enter(0.0) is None
    gate.accepted(_generation("img_1", "succeeded"), 0.0)
    assert not gate.tracked


def test_probes_find_capacity_that_other_clients_freed() -> None:
    gate = _gate()
    for n in range(2):
        gate.enter(0.0)
        gate.accepted(_generation(f"img_{n}"), 0.0)
    gate.enter(0.0)
    gate.refused(retry_after=1.0, now=0.0)
    assert gate.limit == 2
    assert gate.enter(4.5) is not None  # nothing of ours finished, but not for long enough
    assert gate.enter(5.0) is None  # the probe
    assert gate.enter(5.0) is not None  # only one probe at a time
    gate.accepted(_generation("img_9"), 5.0)
    # It went through: there is room. The oldest slot is taken as finished unseen, and the
    # next probe comes soon.
    assert len(gate.tracked) == 2
    assert gate.probe_delay == pytest.approx(0.25)


def test_a_finished_generation_of_ours_postpones_the_probe() -> None:
    gate = _gate()
    for n in range(2):
        gate.enter(0.0)
        gate.accepted(_generation(f"img_{n}"), 0.0)
    gate.enter(0.0)
    gate.refused(retry_after=1.0, now=0.0)
    gate.seen(_generation("img_0", "succeeded"), 4.0)
    assert gate.enter(4.0) is None  # the freed slot
    gate.accepted(_generation("img_2"), 4.0)
    verdict = gate.enter(6.5)
    assert verdict == pytest.approx(2.5)  # five seconds after the last progress


def test_refused_raises_need_longer_runs_next_time() -> None:
    gate = _gate()
    gate.enter(0.0)
    gate.accepted(_generation("img_a"), 0.0)
    gate.enter(0.0)
    gate.refused(1.0, 0.0)
    assert gate.limit == 1
    runs = []
    n = 0
    for _ in range(3):
        accepted = 0
        while gate.limit == 1:
            gate.seen(_generation(f"img_{n - 1}" if n else "img_a", "succeeded"), 0.0)
            assert gate.enter(0.0) is None
            gate.accepted(_generation(f"img_{n}"), 0.0)
            n += 1
            accepted += 1
        runs.append(accepted)
        assert gate.enter(0.0) is None  # the trial of the raised limit
        gate.refused(1.0, 0.0)  # the team really allows one
    assert runs == [2, 4, 8]


def test_holding_nothing_a_client_asks_again_after_retry_after() -> None:
    gate = _gate()
    gate.enter(0.0)
    gate.refused(retry_after=1.0, now=0.0)  # other clients hold every slot; we hold none
    verdict = gate.enter(0.0)
    assert verdict == pytest.approx(1.0)
    assert gate.enter(1.0) is None  # the probe, after Retry-After
    gate.refused(retry_after=1.0, now=1.0)
    assert gate.enter(2.5) is not None  # refused again: the next one waits twice as long
    assert gate.enter(3.0) is None


def test_refused_probes_back_off() -> None:
    gate = Gate()
    gate.enter("first", "local", 0.0)
    gate.refused("first", retry_after=1.0, now=0.0)  # other clients hold every slot
    assert gate.limit == 0
    due = []
    now = 0.0
    for n in range(7):
        ticket = f"probe-{n}"
        while (wait := gate.enter(ticket, "local", now)) is not None:
            assert wait <= 3.0  # a held create re-asks at least every 3 s (keeps its place)
            now += wait
        due.append(now)
        gate.refused(ticket, retry_after=1.0, now=now)
    gaps = [b - a for a, b in itertools.pairwise(due)]
    assert gaps == sorted(gaps)
    assert gaps[-1] == pytest.approx(30.0)


def test_the_limit_is_re_probed_after_a_run_of_acceptances() -> None:
    gate = _gate()
    for n in range(3):
        gate.enter(0.0)
        gate.accepted(_generation(f"img_{n}"), 0.0)
    gate.enter(0.0)
    gate.refused(1.0, 0.0)
    assert gate.limit == 3
    for n in range(6):
        gate.seen(_generation(f"img_{n}", "succeeded"), 0.0)
        assert gate.enter(0.0) is None
        gate.accepted(_generation(f"img_{n + 3}"), 0.0)
    assert gate.limit == 4


def test_errors_and_cancellations_give_the_slot_back() -> None:
    gate = _gate()
    assert gate.enter(0.0) is None
    gate.released()
    assert gate.sending == {}
    assert gate.enter(0.0) is None


def test_generations_never_seen_again_stop_counting_after_an_hour() -> None:
    gate = _gate()
    gate.enter(0.0)
    gate.accepted(_generation("img_1"), 0.0)
    gate.enter(0.0)
    gate.refused(1.0, 0.0)
    assert gate.limit == 1
    assert gate.tracked
    assert gate.enter(3601.0) is None
    assert not gate.tracked


def test_the_pacer_sees_finished_generations_in_pages() -> None:
    from aurous._clock import SYSTEM_CLOCK
    from aurous._store import LocalStore

    pacer = Pacer(LocalStore(SYSTEM_CLOCK))
    gate = pacer.gate
    gate.enter("t", "local", 0.0)
    gate.accepted("t", "img_1", 0.0)

    class Page:
        def __init__(self) -> None:
            self.data = [_generation("img_1", "failed"), _generation("img_2", "succeeded")]

    version = pacer.signal.version
    # A list call's answer: it started nothing, and shows two rows finished (one tracked).
    admission = Admission(pacer, "GET /v1/images", None)
    steps = admission.answered(httpx.Response(200), Page(), True)
    with pytest.raises(StopIteration):
        next(steps)
    assert not gate.tracked
    assert pacer.signal.version != version


def test_a_held_create_keeps_its_place_in_line() -> None:
    gate = Gate()
    gate.enter("a", "local", 0.0)
    gate.accepted("a", "img_a", 0.0)
    gate.enter("x", "local", 0.0)
    gate.refused("x", 1.0, 0.0)  # the limit is one, held by img_a
    assert gate.enter("first", "local", 0.1) is not None
    assert gate.enter("second", "local", 0.2) is not None
    gate.seen("img_a", 0.3)
    assert gate.enter("second", "local", 0.3) is not None  # "first" asked before it
    assert gate.enter("first", "local", 0.3) is None
    assert list(gate.queue) == ["second"]


def test_a_ticket_nobody_refreshes_loses_its_place() -> None:
    gate = Gate()
    gate.enter("a", "local", 0.0)
    gate.accepted("a", "img_a", 0.0)
    gate.enter("x", "local", 0.0)
    gate.refused("x", 1.0, 0.0)
    assert gate.enter("gone", "local", 0.0) is not None
    gate.seen("img_a", 1.0)
    assert gate.enter("next", "local", 20.0) is None  # "gone" never came back


def test_a_dead_owner_loses_its_slots_after_the_lease() -> None:
    gate = Gate()
    gate.renew("worker-1", 0.0)
    gate.renew("worker-2", 0.0)
    gate.enter("a", "worker-1", 0.0)
    gate.accepted("a", "img_a", 0.0)
    gate.enter("b", "worker-2", 0.0)
    gate.accepted("b", "img_b", 0.0)
    gate.renew("worker-2", 25.0)
    assert not gate.expire(29.0)
    assert gate.expire(31.0)  # worker-1 stopped renewing 31 s ago
    assert set(gate.tracked) == {"img_b"}
    assert set(gate.owners) == {"worker-2"}


def test_a_gate_travels_as_plain_data() -> None:
    import json

    gate = Gate()
    gate.renew("w", 0.0)
    gate.enter("a", "w", 0.0)
    gate.accepted("a", "img_a", 0.0)
    gate.enter("b", "w", 0.0)
    gate.refused("b", 1.0, 0.0)
    gate.enter("c", "w", 0.5)
    copy = Gate.load(json.loads(json.dumps(gate.dump())))
    assert copy.dump() == gate.dump()
    bucket = Bucket()
    bucket.reserve(1.0)
    bucket.settle(_figures(10, 3, WALL + 7), 1.0, WALL)
    assert Bucket.load(json.loads(json.dumps(bucket.dump()))).dump() == bucket.dump()
