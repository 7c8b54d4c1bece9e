"""``Emulator(instant=True)`` and ``Emulator(speed=10)`` make ``create_and_wait`` fast too.

Shortening generations was not enough: the SDK waits its poll interval (2 s) before it reads a
created generation again, so on the real clock ``create_and_wait`` took 2 s whatever ``instant``
or ``speed`` said. The emulator's own clients now sleep less (or not at all) and move the
emulator's clock on by the whole sleep. Bounds are wall time, generous for a loaded machine.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from aurous.emulator import Emulator, RealClock
from aurous.emulator._clock import WarpClock, WarpSdkClock


def _create_and_wait_seconds(emu: Emulator) -> float:
    with emu.client() as client:
        started = time.monotonic()
        done = client.images.create_and_wait(prompt="a lighthouse at dusk")
        elapsed = time.monotonic() - started
    assert done.status == "succeeded"
    return elapsed


def test_instant_create_and_wait_returns_at_once() -> None:
    emu = Emulator(instant=True)
    try:
        # Before the fix: 2.0 s (the first poll interval), however instant the generation.
        assert _create_and_wait_seconds(emu) < 1.0
    finally:
        emu.close()


@pytest.mark.slow
def test_speed_10_is_much_faster_than_speed_1() -> None:
    # An image takes 2 s at speed 1 (0.5 s pending, 1.5 s processing): about 2 s of waiting,
    # and about 0.2 s at speed 10. Before the fix both took 2 s (the first poll interval).
    normal, fast = Emulator(speed=1), Emulator(speed=10)
    try:
        slow_seconds = _create_and_wait_seconds(normal)
        fast_seconds = _create_and_wait_seconds(fast)
    finally:
        normal.close()
        fast.close()
    assert slow_seconds >= 1.9
    assert fast_seconds < slow_seconds / 3, (slow_seconds, fast_seconds)


def test_speed_10_create_and_wait_is_under_a_second() -> None:
    emu = Emulator(speed=10)
    try:
        assert _create_and_wait_seconds(emu) < 1.0
    finally:
        emu.close()


def test_async_instant_create_and_wait_returns_at_once() -> None:
    emu = Emulator(instant=True)

    async def go() -> float:
        async with emu.async_client() as client:
            started = time.monotonic()
            done = await client.videos.create_and_wait(
                prompt="a whale", video_lora_id="seedance-1-pro"
            )
            assert done.status == "succeeded"
            return time.monotonic() - started

    try:
        assert asyncio.run(go()) < 1.0
    finally:
        emu.close()


def test_instant_clients_still_respect_the_rate_limits() -> None:
    # The waits a client spends on a rate limit move the emulator's clock too, so its buckets
    # refill: six creates through a bucket of 2 pass without a RateLimitError, at once.
    emu = Emulator(instant=True, rate_limits={"images_post": (2, 6)}, concurrency_limit=100)
    try:
        with emu.client() as client:
            started = time.monotonic()
            done = [client.images.create_and_wait(prompt=f"image {n}") for n in range(6)]
            elapsed = time.monotonic() - started
        assert all(g.status == "succeeded" for g in done)
        assert elapsed < 2.0
        # Three of the six waited for a token: 10 s each at 6 per minute, on the emulator clock.
        assert emu.now() - time.time() >= 25
    finally:
        emu.close()


def test_which_clock_and_sdk_clock_each_setting_gets() -> None:
    assert type(Emulator().clock) is RealClock
    assert Emulator().sdk_clock is None
    assert type(Emulator(speed=0.5).clock) is RealClock
    instant = Emulator(instant=True)
    assert isinstance(instant.clock, WarpClock)
    assert isinstance(instant.sdk_clock, WarpSdkClock)
    assert isinstance(Emulator(speed=10).clock, WarpClock)


def test_concurrent_sleeps_move_the_clock_to_the_latest_wake_up_not_their_sum() -> None:
    clock = WarpClock(float("inf"))
    sdk = WarpSdkClock(clock)
    start = clock.now()
    sdk.sleep(5)
    sdk.sleep(0)
    assert 5 <= clock.now() - start < 6
    # A sleep that began before the clock was moved does not move it again past its own end.
    clock.reach(start + 3)
    assert 5 <= clock.now() - start < 6
    with pytest.raises(ValueError):
        WarpClock(1.0)
