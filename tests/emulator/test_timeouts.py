"""In-process transports honour the request's read timeout; the server side still finishes."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest

import aurous
from aurous.emulator import Emulator


def _http(emu: Emulator) -> httpx.Client:
    return httpx.Client(
        transport=emu.transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
    )


def _ahttp(emu: Emulator) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=emu.async_transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
    )


# ---- real clock: real seconds, small numbers ---------------------------------------------------


def test_sdk_gives_up_after_the_read_timeout_not_the_latency() -> None:
    emu = Emulator()
    emu.faults.latency(1.2, "POST /v1/images")
    client = emu.client(max_retries=1)
    started = time.monotonic()
    with pytest.raises(aurous.APITimeoutError) as caught:
        client.images.create(prompt="slow", timeout=0.1)
    elapsed = time.monotonic() - started
    # Two attempts of 0.1 s and one back-off (0.25-0.5 s); waiting out the latency took 2.4 s.
    assert elapsed < 1.0
    assert caught.value.idempotency_key is not None
    # The first attempt's work is committed once its latency is over, like a real server's.
    assert emu.wait_abandoned(timeout=10)
    (generation,) = emu.team.generations.values()
    assert generation.prompt == "slow"
    emu.close()


def test_async_transport_gives_up_after_the_read_timeout() -> None:
    emu = Emulator()
    emu.faults.latency(1.0, "POST /v1/images", times=1)

    async def go() -> float:
        async with _ahttp(emu) as http:
            started = time.monotonic()
            with pytest.raises(httpx.ReadTimeout):
                await http.post("/v1/images", json={"prompt": "a"}, timeout=0.1)
            return time.monotonic() - started

    assert asyncio.run(go()) < 0.6
    # The event loop is gone, yet the server side completes the request.
    assert emu.wait_abandoned(timeout=10)
    assert len(emu.team.generations) == 1
    emu.close()


def test_gate_longer_than_the_read_timeout_real_clock() -> None:
    emu = Emulator()
    with emu.faults.pause("POST /v1/images") as gate, _http(emu) as http:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            http.post("/v1/images", json={"prompt": "held"}, timeout=0.2)
        assert time.monotonic() - started < 1.0
        assert gate.wait_reached(0)
        assert emu.team.generations == {}  # still held server-side
        gate.release()
        # Releasing the gate lets the held request finish on the releasing thread.
        assert len(emu.team.generations) == 1
        assert emu.wait_abandoned(timeout=0)
    emu.close()


# ---- manual clock: the read timeout elapses on the emulator clock ------------------------------


def test_sdk_timeout_on_the_manual_clock(emu: Emulator) -> None:
    emu.faults.latency(3.0, "GET /v1/balance")
    client = emu.client()
    start = emu.now()
    with pytest.raises(aurous.APITimeoutError):
        client.balance.retrieve(timeout=0.5, max_retries=1)
    # A per-call number bounds the whole call: the attempt times out at 0.5 s, and a retry
    # would not fit in what is left (not 3 s per attempt, nor a back-off past the deadline).
    assert 0.5 <= emu.now() - start <= 0.6


def test_abandoned_work_finishes_when_the_clock_reaches_it(emu: Emulator) -> None:
    emu.faults.latency(3.0, "POST /v1/images", times=1)
    client = emu.client(max_retries=0)
    start = emu.now()
    with pytest.raises(aurous.APITimeoutError) as caught:
        client.images.create(prompt="later", timeout=0.5)
    assert emu.now() == start + 0.5
    assert emu.team.generations == {}  # the server is still working on it
    key = caught.value.idempotency_key
    assert key is not None
    # A retry while the original is in flight is refused, as the real server does.
    with _http(emu) as http:
        busy = http.post("/v1/images", json={"prompt": "later"}, headers={"Idempotency-Key": key})
        assert busy.status_code == 409
        emu.advance(10)
        (generation,) = emu.team.generations.values()
        assert generation.created_at == start + 3.0  # done when its latency was over
        replay = http.post("/v1/images", json={"prompt": "later"}, headers={"Idempotency-Key": key})
    assert replay.headers["aurous-idempotent-replayed"] == "true"
    assert replay.json()["id"] == generation.id
    assert emu.wait_abandoned(timeout=0)


def test_async_sdk_timeout_on_the_manual_clock(emu: Emulator) -> None:
    emu.faults.latency(3.0, "POST /v1/images", times=1)

    async def go() -> None:
        client = emu.async_client(max_retries=0)
        with pytest.raises(aurous.APITimeoutError):
            await client.images.create(prompt="later", timeout=0.5)
        await client.aclose()

    start = emu.now()
    asyncio.run(go())
    assert emu.now() == start + 0.5
    assert emu.team.generations == {}
    emu.advance(2.5)
    assert len(emu.team.generations) == 1


def test_gate_times_out_when_the_manual_clock_passes_the_deadline(emu: Emulator) -> None:
    outcome: list[BaseException | int] = []

    def post() -> None:
        with _http(emu) as http:
            try:
                outcome.append(http.post("/v1/images", json={"prompt": "g"}, timeout=5).status_code)
            except httpx.ReadTimeout as exc:
                outcome.append(exc)

    with emu.faults.pause("POST /v1/images") as gate:
        thread = threading.Thread(target=post)
        thread.start()
        assert gate.wait_reached()
        emu.advance(5)  # the client's read timeout is over on the emulator clock
        thread.join(10)
        assert not thread.is_alive()
        assert isinstance(outcome[0], httpx.ReadTimeout)
        assert emu.team.generations == {}
    # Leaving the block releases the gate: the held request is finished then.
    assert len(emu.team.generations) == 1


def test_latency_within_the_timeout_is_spent_in_full(emu: Emulator) -> None:
    emu.faults.latency(2.0, "GET /v1/balance", times=1)
    start = emu.now()
    with _http(emu) as http:
        assert http.get("/v1/balance", timeout=2.0).status_code == 200
    assert emu.now() == start + 2.0


def test_cancelled_async_request_is_still_finished(emu: Emulator) -> None:
    async def go() -> None:
        async with _ahttp(emu) as http:
            with emu.faults.pause("POST /v1/images") as gate:
                task = asyncio.create_task(http.post("/v1/images", json={"prompt": "c"}))
                while not gate.wait_reached(0):
                    await asyncio.sleep(0.001)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                assert emu.team.generations == {}

    asyncio.run(go())
    # The client went away; the gate's release let the server side finish the request.
    assert len(emu.team.generations) == 1
