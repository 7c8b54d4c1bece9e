"""The batch runtime's stop handling, step by step."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from aurous._batch._runtime import _stoppable, _Stopped
from aurous._steps import Now, Sleep, Steps


def _item(log: list[str]) -> Steps[str]:
    try:
        yield Sleep(10.0)
        log.append("woke")
        yield Now()
        return "done"
    finally:
        log.append("cleaned up")


def test_long_sleeps_are_sliced_without_changing_the_total() -> None:
    log: list[str] = []
    stop = threading.Event()
    steps = _stoppable(_item(log), stop, lambda event: None)
    slept = 0.0
    step: Any = next(steps)
    while isinstance(step, Sleep):
        assert step.seconds <= 0.5
        slept += step.seconds
        step = steps.send(None)
    assert slept == pytest.approx(10.0)
    assert isinstance(step, Now)
    with pytest.raises(StopIteration) as done:
        steps.send(1.0)
    assert done.value.value == "done"
    assert log == ["woke", "cleaned up"]


def test_a_stop_during_a_sleep_abandons_the_item_at_once() -> None:
    log: list[str] = []
    stop = threading.Event()
    steps = _stoppable(_item(log), stop, lambda event: None)
    assert isinstance(next(steps), Sleep)
    steps.send(None)
    stop.set()
    with pytest.raises(_Stopped):
        steps.send(None)
    assert log == ["cleaned up"]


def test_a_create_held_at_the_gate_counts_as_one_rate_limit_wait() -> None:
    import threading as _threading

    from aurous._batch._runtime import Tick, _stoppable
    from aurous._steps import Signal, WaitFor

    signal = Signal(_threading.Lock())

    def held() -> Steps[str]:
        for _ in range(3):  # woken twice by other items' progress, admitted the third time
            yield WaitFor(signal, 0, 1.0)
        yield Sleep(2.0, "rate_limit")  # then a token of the bucket
        yield WaitFor(signal, 0, 1.0)  # a later, separate wait
        return "sent"

    events: list[Any] = []
    steps = _stoppable(held(), None, events.append)
    step = next(steps)
    with pytest.raises(StopIteration):
        while True:
            step = steps.send(None)
    assert [e.seconds for e in events if isinstance(e, Tick)] == [1.0, 2.0, 1.0]
    assert step is not None
