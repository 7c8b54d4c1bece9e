"""``watch`` streams every state; polling learns how long generations take."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import time
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import aurous
from aurous._completion import Completions
from aurous._wait import _Poller, first_poll
from aurous.emulator import Emulator

from ..conftest import fixture
from ..helpers._rows import generation as _generation


class CountingReads(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.reads = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.startswith("/v1/images/"):
            self.reads += 1
        return self.inner.handle_request(request)


def _client(emu: Emulator) -> tuple[aurous.Client, CountingReads]:
    counting = CountingReads(emu.transport)
    http = httpx.Client(transport=counting, base_url=emu.base_url)
    client = aurous.Client(api_key=emu.api_key, base_url=emu.base_url, http_client=http)
    if emu.sdk_clock is not None:
        client._set_clock(emu.sdk_clock)
    return client, counting


def test_watch_yields_each_status_once_and_ends_after_the_terminal_one() -> None:
    emu = Emulator(clock="manual", image_phases=(3.0, 4.0))
    client, _ = _client(emu)
    created = client.images.create(prompt="a lighthouse")
    states = [
        g.status for g in client.images.watch(created, poll_interval=0.5, max_poll_interval=1)
    ]
    assert states == ["pending", "processing", "succeeded"]
    emu.close()


def test_watch_sends_nothing_until_asked_and_stops_when_left() -> None:
    emu = Emulator(clock="manual", image_phases=(3.0, 4.0))
    client, counting = _client(emu)
    created = client.images.create(prompt="a lighthouse")
    stream = client.images.watch(created.id, poll_interval=0.5, max_poll_interval=1)
    assert counting.reads == 0
    first = next(stream)
    assert first.status == "pending"
    reads = counting.reads
    stream.close()
    with pytest.raises(StopIteration):
        next(stream)
    assert counting.reads == reads
    emu.close()


def test_watch_times_out_like_wait_and_can_cancel() -> None:
    emu = Emulator(clock="manual", image_phases=(0.0, 600.0))
    client, _ = _client(emu)
    created = client.images.create(prompt="slow")
    seen: list[str] = []
    with pytest.raises(aurous.WaitTimeoutError) as info:
        for g in client.images.watch(created, timeout=5, poll_interval=1, cancel_on_timeout=True):
            seen.append(g.status)
    assert seen[0] == "pending"
    assert info.value.generation is not None
    assert info.value.generation.status == "cancelled"
    emu.close()


def test_watch_on_the_async_client() -> None:
    emu = Emulator(image_phases=(0.05, 0.1))

    async def go() -> list[str]:
        async with emu.async_client() as client:
            created = await client.images.create(prompt="a lighthouse")
            return [
                g.status
                async for g in client.images.watch(
                    created, poll_interval=0.02, max_poll_interval=0.05
                )
            ]

    states = asyncio.run(go())
    assert states[0] == "pending"
    assert states[-1] == "succeeded"
    assert len(states) == len(set(states))
    emu.close()


def test_watch_is_not_offered_on_a_raw_view() -> None:
    emu = Emulator()
    client = emu.client()
    with pytest.raises(TypeError, match="watch"):
        client.with_raw_response.images.watch("img_01KS2DH0GPE2Y1X16JH0Z1Y2GF")
    emu.close()


def test_wait_is_the_last_state_of_watch() -> None:
    emu = Emulator(clock="manual", image_phases=(2.0, 3.0))
    client, _ = _client(emu)
    created = client.images.create(prompt="x")
    updates: list[str] = []
    done = client.images.wait(created, on_update=lambda g: updates.append(g.status))
    assert done.status == "succeeded"
    assert updates == ["pending", "processing", "succeeded"]
    emu.close()


def test_polling_learns_the_usual_duration_and_polls_about_once() -> None:
    emu = Emulator(clock="manual", image_phases=(4.0, 8.0))
    client, counting = _client(emu)
    first = client.images.create_and_wait(prompt="the first teaches", poll_interval=1)
    assert first.duration_ms
    before = counting.reads
    for n in range(5):
        client.images.create_and_wait(prompt=f"then {n}", poll_interval=1)
    per_generation = (counting.reads - before) / 5
    # Without learning the schedule 1, 1.5, 2.25 … s polls 6 times for a 12 s generation.
    assert per_generation <= 1.5, per_generation
    emu.close()


def test_with_exact_durations_the_first_poll_finds_the_generation_as_it_finishes() -> None:
    # Durations are counted from creation and the pause starts once the create is answered: a
    # pause of exactly the learned duration finds the generation finished, with no time lost.
    emu = Emulator(clock="manual", image_phases=(0.5, 1.5))
    client, counting = _client(emu)
    client.images.create_and_wait(prompt="the first teaches")
    before = counting.reads
    for n in range(3):
        started = emu.now()
        done = client.images.create_and_wait(prompt=f"then {n}")
        assert done.status == "succeeded"
        assert emu.now() - started == pytest.approx(2.0, abs=1e-6)
    assert counting.reads - before == 3
    emu.close()


def _mean_found_at(durations: list[float], first: float, poll: float, most: float) -> float:
    """When, on average, a wait polling first at ``first`` then on the back-off schedule finds
    generations of these durations finished (written plainly, one poll at a time)."""
    total = 0.0
    for duration in durations:
        at, interval = first, poll
        while at < duration:
            at += interval
            interval = min(most, interval * 1.5)
        total += at
    return total / len(durations)


@settings(max_examples=200, deadline=None)
@given(
    durations=st.lists(st.floats(0.05, 120.0), min_size=1, max_size=50),
    poll=st.floats(0.05, 5.0),
    most=st.floats(1.0, 30.0),
)
def test_the_first_poll_finds_generations_soonest_of_the_durations_from_the_median_up(
    durations: list[float], poll: float, most: float
) -> None:
    most = max(most, poll)
    ordered = tuple(sorted(durations))
    chosen = first_poll(ordered, poll, most)
    assert chosen in ordered
    # At least half of the generations are found by the first poll (about one read each).
    assert sum(d <= chosen for d in ordered) * 2 >= len(ordered)
    best = _mean_found_at(durations, chosen, poll, most)
    for candidate in ordered[(len(ordered) - 1) // 2 :]:
        assert best <= _mean_found_at(durations, candidate, poll, most) + 1e-9


def test_the_first_poll_is_found_quickly_for_durations_far_apart_polled_often() -> None:
    # Up to a week (what a peer may send) against a 10 ms ceiling: millions of polls to follow
    # one by one. Beyond the first 200 they are counted at once, with the same outcome.
    durations = tuple(sorted([1.0] * 20 + [60.0 * k for k in range(1, 30)] + [7 * 86400.0]))
    started = time.perf_counter()
    chosen = first_poll(durations, 0.01, 0.01)
    assert time.perf_counter() - started < 0.5
    assert chosen == durations[(len(durations) - 1) // 2]
    # With a 1 s ceiling, both ways of counting give the same choice.
    assert first_poll(durations[:-1], 0.01, 1.0) == min(
        durations[(len(durations) - 2) // 2 : -1],
        key=lambda t: _mean_found_at(list(durations[:-1]), t, 0.01, 1.0),
    )


def test_the_first_poll_of_durations_that_vary_is_past_the_median_when_that_is_sooner() -> None:
    # Most finish at 10 s, a third at 10.5 s: polling at 10 s makes a third wait for a
    # second poll 2 s later; one poll at 10.5 s finds them all sooner on average.
    durations = tuple(sorted([10.0] * 20 + [10.5] * 10))
    assert first_poll(durations, 2.0, 15.0) == 10.5
    # Far apart, the median wins: waiting for the slow third costs the rest too much.
    durations = tuple(sorted([10.0] * 20 + [20.0] * 10))
    assert first_poll(durations, 2.0, 15.0) == 10.0
    assert first_poll((3.0,) * 7, 1.0, 10.0) == 3.0


@pytest.mark.parametrize(
    ("status", "pushing", "pause"),
    [
        ("pending", False, 12.0),  # a fresh row: after the learned duration
        ("processing", False, 1.0),  # part of its time is behind it: after poll_interval
        ("pending", True, 24.0),  # deliveries arrive: a backstop, twice the usual duration
        ("processing", True, 2.0),  # a backstop, twice poll_interval
    ],
)
def test_the_first_pause_follows_the_row_and_the_deliveries(
    status: str, pushing: bool, pause: float
) -> None:
    completions = Completions(None)
    for _ in range(3):
        completions.learn(
            _generation("img_done", "succeeded").model_copy(update={"duration_ms": 12_000})
        )
    if pushing:
        completions.pushed_at = time.monotonic()
    row = _generation("img_1", status)
    poller = _Poller(row.id, None, None, completions)
    assert poller._first_pause(row, 1.0, 15.0) == pytest.approx(pause)


def test_learned_durations_are_per_media() -> None:
    emu = Emulator(clock="manual", image_phases=(1.0, 1.0))
    client, _ = _client(emu)
    client.images.create_and_wait(prompt="an image", poll_interval=0.5)
    completions = client._completions
    assert completions.typical("image", None) is not None
    assert completions.typical("video", None) is None
    emu.close()


WAITER = textwrap.dedent(
    """
    import json, sys, time
    import aurous
    base_url, key, pacing, generation_id = sys.argv[1:5]
    client = aurous.Client(api_key=key, base_url=base_url, pacing=pacing)
    print("waiting", flush=True)
    done = client.images.wait(generation_id, poll_interval=60, max_poll_interval=60, timeout=90)
    print(json.dumps({"status": done.status, "woke": time.time()}), flush=True)
    """
)


@pytest.mark.slow
def test_a_delivery_received_by_one_worker_wakes_the_waits_of_another(store_url: str) -> None:
    emu = Emulator(image_phases=(0.0, 600.0), credits=100_000)
    with emu.serve() as server:
        receiver = aurous.Client(api_key=emu.api_key, base_url=server.base_url, pacing=store_url)
        created = receiver.images.create(prompt="finished elsewhere")
        waiter = subprocess.Popen(
            [sys.executable, "-c", WAITER, server.base_url, emu.api_key, store_url, created.id],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert waiter.stdout is not None
            assert waiter.stdout.readline().strip() == "waiting"
            time.sleep(1.0)  # the waiter has polled once and now sleeps for a minute
            envelope = dict(fixture("event.image.completed"))
            envelope["id"] = "evt_fleet_1"
            envelope["data"] = {**created.to_dict(), "status": "succeeded", "duration_ms": 900}
            body = json.dumps(envelope).encode()
            secret = "whsec_" + "f" * 32
            headers = {"Aurous-Webhook-Signature": aurous.webhooks.sign(body, secret)}
            delivered = time.time()
            receiver.webhooks.receive(body, headers, secret=secret)
            report = json.loads(waiter.stdout.readline())
            assert report["status"] == "succeeded"
            assert report["woke"] - delivered < 0.1 + 0.2, report["woke"] - delivered
        finally:
            waiter.kill()
            waiter.wait(10)
    emu.close()


def test_a_duplicate_is_recognised_by_every_process_sharing_the_store(store_url: str) -> None:
    one = Emulator(credits=100_000)
    a = one.client(pacing=store_url)
    b = one.client(pacing=store_url)
    # Two clients stand for two processes here: each keeps its own record of deliveries.
    envelope: dict[str, Any] = dict(fixture("event.image.completed"))
    envelope["id"] = "evt_shared_dup"
    body = json.dumps(envelope).encode()
    secret = "whsec_" + "d" * 32
    headers = {"Aurous-Webhook-Signature": aurous.webhooks.sign(body, secret)}
    assert not a.webhooks.receive(body, headers, secret=secret).duplicate
    assert b.webhooks.receive(body, headers, secret=secret).duplicate
    one.close()


def test_clients_sharing_a_store_learn_each_others_durations(store_url: str) -> None:
    emu = Emulator(image_phases=(0.2, 0.3), credits=100_000)
    with emu.serve() as server:
        # Two clients stand for two processes: each learns durations on its own.
        a = aurous.Client(api_key=emu.api_key, base_url=server.base_url, pacing=store_url)
        b = aurous.Client(api_key=emu.api_key, base_url=server.base_url, pacing=store_url)
        done = a.images.create_and_wait(prompt="a teaches", poll_interval=0.1)
        model = getattr(done, "model", None)
        assert b._completions.typical("image", model) is None
        deadline = time.monotonic() + 5
        while b._completions.typical("image", model) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert done.duration_ms is not None
        assert b._completions.typical("image", model) == done.duration_ms / 1000
        time.sleep(1.0)  # a's own message has come back to it by now: it is not kept twice
        assert len(a._completions._durations[("image", model or "")]) == 1
        a.close()
        b.close()
    emu.close()


def test_a_duration_message_that_makes_no_sense_is_dropped() -> None:
    from aurous._completion import Completions

    completions = Completions(None)
    for message in ("not json", "[1, 2]", '["x", "image", "", -1]', '["x", "image", "", 1e9]'):
        completions._learned_elsewhere(message)
    assert completions.typical("image", None) is None
    completions._learned_elsewhere('["x", "image", "", 2.5]')
    assert completions.typical("image", None) == 2.5
