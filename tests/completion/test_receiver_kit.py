"""The receiver kit's edges: refusals a receiver hears about, clocks other than the wall clock,
handlers that fail, coroutine handlers of in-process deliveries to an `AsyncClient`."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import warnings
from typing import Any

import pytest

import aurous
from aurous.emulator import Emulator
from aurous.types import GenerationEvent
from aurous.webhooks import Event, Receiver

from ..conftest import fixture

SECRET = "whsec_" + "k" * 32


def _delivery(event_id: str = "evt_kit_1") -> bytes:
    envelope = copy.deepcopy(fixture("event.image.completed"))
    envelope["id"] = event_id
    return json.dumps(envelope).encode()


def _signed(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    return {"Aurous-Webhook-Signature": aurous.webhooks.sign(body, secret, timestamp=timestamp)}


def _client() -> aurous.Client:
    return aurous.Client(api_key="al_live_kit", base_url="http://127.0.0.1:9")


def test_on_rejected_hears_why_before_the_400(caplog: pytest.LogCaptureFixture) -> None:
    receiver = Receiver(_client(), secret=SECRET)
    reasons: list[str] = []
    dispatched: list[Event] = []
    receiver.on()(dispatched.append)

    @receiver.on_rejected
    def broken(error: aurous.WebhookVerificationError) -> None:
        raise RuntimeError("a bug in the rejection handler")

    @receiver.on_rejected
    def refused(error: aurous.WebhookVerificationError) -> None:
        reasons.append(error.reason)

    body = _delivery()
    with caplog.at_level(logging.WARNING, logger="aurous"):
        forged = receiver.deliver(body, _signed(body, "whsec_" + "x" * 32))
        unsigned = receiver.deliver(body, {})
    assert (forged, unsigned) == (400, 400)
    assert reasons == ["no matching signature", "missing Aurous-Webhook-Signature header"]
    assert (receiver.received, receiver.rejected) == (0, 2)
    assert dispatched == []
    assert "a webhook rejection handler failed" in caplog.text  # logged; the others still ran
    with pytest.raises(TypeError):
        receiver.on_rejected("not callable")  # type: ignore[type-var]


def test_tolerance_and_clock_belong_to_the_receiver() -> None:
    signed_at = 1779468310
    body = _delivery()
    headers = _signed(body, timestamp=signed_at)
    late = Receiver(_client(), secret=SECRET, clock=lambda: signed_at + 60)
    strict = Receiver(_client(), secret=SECRET, clock=lambda: signed_at + 60, tolerance=10)
    assert late.deliver(body, headers) == 200
    assert strict.deliver(body, headers) == 400
    assert Receiver(_client(), secret=SECRET).deliver(body, headers) == 400  # the wall clock


def test_a_manual_clock_emulator_delivers_to_its_receiver() -> None:
    # The emulator signs at its own time (2026-05-20 on a manual clock): the receiver must check
    # timestamps against that clock, or every in-process delivery is refused as too old.
    emu = Emulator(clock="manual", image_phases=(1.0, 2.0))
    client = emu.client()
    receiver = Receiver(client)
    completed: list[str] = []

    @receiver.on("image.completed")
    def done(event: Event) -> None:
        assert isinstance(event, GenerationEvent)
        completed.append(event.data.id)

    emu.deliver_webhooks_to(receiver)
    created = client.images.create(prompt="a lighthouse")
    assert client.images.wait(created).status == "succeeded"
    emu.webhooks.flush()
    assert completed == [created.id]
    assert (receiver.received, receiver.rejected) == (1, 0)
    emu.close()


def test_a_failing_handler_is_logged_and_the_delivery_still_answered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver = Receiver(_client(), secret=SECRET)
    ran: list[str] = []

    @receiver.on("image.completed")
    def broken(event: Event) -> None:
        raise RuntimeError("a bug in the handler")

    @receiver.on("image.completed")
    def fine(event: Event) -> None:
        ran.append("fine")

    body = _delivery()
    with caplog.at_level(logging.ERROR, logger="aurous"):
        status = receiver.deliver(body, _signed(body))
    # As behind a server: the answer is the 2xx (a retry would be dropped as a duplicate anyway).
    assert status == 200
    assert ran == ["fine"]
    assert "a webhook handler failed for evt_kit_1" in caplog.text


def test_coroutine_handlers_of_in_process_deliveries_run_on_the_async_client_s_loop() -> None:
    # An AsyncClient's emulator delivers in-process on the event loop: a coroutine handler
    # cannot get a loop of its own there, it becomes a task of the running one.
    emu = Emulator(clock="manual", image_phases=(1.0, 2.0))
    client = emu.async_client()
    receiver = Receiver(client)
    seen: list[tuple[str, Any]] = []

    @receiver.on("image.completed")
    async def done(event: Event) -> None:
        await asyncio.sleep(0)
        assert isinstance(event, GenerationEvent)
        seen.append((event.data.id, asyncio.get_running_loop()))

    emu.deliver_webhooks_to(receiver)

    async def main() -> tuple[str, Any]:
        generation = await client.images.create_and_wait(prompt="a lighthouse")
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
        await client.aclose()
        return generation.id, asyncio.get_running_loop()

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # "coroutine … was never awaited"
        generation_id, loop = asyncio.run(main())
    assert seen == [(generation_id, loop)]
    assert (receiver.received, receiver.rejected) == (1, 0)
    emu.close()
