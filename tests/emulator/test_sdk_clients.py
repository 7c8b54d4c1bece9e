"""``emu.client()`` / ``emu.async_client()``: SDK clients wired in-process on the manual clock."""

from __future__ import annotations

import asyncio

import pytest

import aurous
from aurous.emulator import Emulator


def test_sync_client_round_trip(emu: Emulator) -> None:
    client = emu.client()
    created = client.images.create(prompt="a lighthouse at dusk", size="2k_16_9")
    assert created.status == "pending"
    emu.advance(5)
    done = client.images.retrieve(created.id)
    assert done.status == "succeeded"
    assert done.output_urls
    assert done.output_urls[0].startswith(emu.base_url)
    assert [g.id for g in client.images.list(limit=5)] == [created.id]
    balance = client.balance.retrieve()
    assert float(balance.credits) == 999


def test_sdk_retries_run_on_the_emulator_clock(emu: Emulator) -> None:
    client = emu.client()
    emu.faults.fail_next("POST /v1/images", status=503, times=2)
    before = emu.now()
    created = client.images.create(prompt="retry me")
    assert created.status == "pending"
    assert emu.now() > before  # the back-off advanced the manual clock instead of sleeping
    assert len(emu.team.generations) == 1


def test_sdk_sees_drop_after_commit_and_recovers_with_its_key(emu: Emulator) -> None:
    client = emu.client()
    emu.faults.fail_next("POST /v1/images", drop_connection=True, after_commit=True)
    created = client.images.create(prompt="exactly once")
    assert len(emu.team.generations) == 1
    assert created._response.replayed


def test_dropped_replays_exhaust_the_sdk_retries(emu: Emulator) -> None:
    # The first attempt commits and its response is lost; the three retries replay the stored
    # result, and each replay is lost too.
    emu.faults.fail_next("POST /v1/images", drop_connection=True, after_commit=True, times=4)
    client = emu.client(max_retries=3)
    with pytest.raises(aurous.APIConnectionError) as caught:
        client.images.create(prompt="never seen")
    assert caught.value.idempotency_key is not None
    (generation,) = emu.team.generations.values()
    assert generation.prompt == "never seen"
    assert emu.team.available == 999  # held or charged once, not per attempt
    # The fault is used up: the next replay of the same key answers.
    replay = client.images.create(prompt="never seen", idempotency_key=caught.value.idempotency_key)
    assert replay.id == generation.id
    assert replay._response.replayed


def test_errors_map_to_sdk_exceptions(emu: Emulator) -> None:
    client = emu.client(max_retries=0)
    emu.set_balance(0)
    with pytest.raises(aurous.InsufficientBalanceError):
        client.images.create(prompt="poor")
    with pytest.raises(aurous.NotFoundError):
        client.images.retrieve("img_01KS2FZZZZ0000000000000000")
    reader = emu.client(api_key=emu.create_api_key(scope="read"))
    with pytest.raises(aurous.PermissionDeniedError):
        reader.images.create(prompt="no scope")


def test_async_client(emu: Emulator) -> None:
    async def go() -> None:
        client = emu.async_client()
        created = await client.videos.create(prompt="waves", resolution="1080p")
        assert created.cost is not None
        emu.advance(10)
        done = await client.videos.retrieve(created.id)
        assert done.status == "succeeded"
        assert done.output_video_url is not None
        await client.aclose()

    asyncio.run(go())


def test_real_clock_emulator_has_no_sdk_clock() -> None:
    assert Emulator().sdk_clock is None
    assert Emulator(clock="manual").sdk_clock is not None
