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
