"""Webhooks complete waits: ``client.webhooks.receive`` / ``feed``, and the receiver apps."""

from __future__ import annotations

import asyncio
import copy
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import aurous
from aurous.emulator import Emulator
from aurous.webhooks import Receiver

from ..conftest import fixture

SECRET = "whsec_" + "k" * 32


def _delivery(generation: dict[str, Any], event_id: str, kind: str = "image.completed") -> bytes:
    envelope = copy.deepcopy(fixture("event.image.completed"))
    envelope["id"] = event_id
    envelope["type"] = kind
    envelope["data"] = generation
    return json.dumps(envelope).encode()


def _headers(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"Aurous-Webhook-Signature": aurous.webhooks.sign(body, secret)}


@pytest.fixture
def slow() -> Iterator[Emulator]:
    """Generations that take a minute: only a webhook can end a wait quickly."""
    emu = Emulator(image_phases=(0.0, 60.0), credits=100_000)
    yield emu
    emu.close()


class Counting(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.reads = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            self.reads += 1
        return self.inner.handle_request(request)


def _client(emu: Emulator) -> tuple[aurous.Client, Counting]:
    counting = Counting(emu.transport)
    http = httpx.Client(transport=counting, base_url=emu.base_url)
    return aurous.Client(api_key=emu.api_key, base_url=emu.base_url, http_client=http), counting


def test_a_delivery_wakes_a_wait_at_once_without_another_request(slow: Emulator) -> None:
    client, counting = _client(slow)
    created = client.images.create(prompt="a lighthouse")
    done: list[aurous.Generation] = []
    waiter = threading.Thread(
        target=lambda: done.append(
            client.images.wait(created, poll_interval=30, max_poll_interval=30, timeout=60)
        )
    )
    waiter.start()
    time.sleep(0.2)
    reads = counting.reads
    finished = {**created.to_dict(), "status": "succeeded", "duration_ms": 1500}
    body = _delivery(finished, "evt_wake_1")
    delivered = time.monotonic()
    event = client.webhooks.receive(body, _headers(body), secret=SECRET)
    waiter.join(5)
    woke = time.monotonic() - delivered
    assert not event.duplicate
    assert done
    assert done[0].status == "succeeded"
    assert woke < 0.1, f"woke after {woke:.3f}s"
    assert counting.reads == reads  # the delivery's state was used: no further poll


def test_a_duplicate_delivery_is_dropped(slow: Emulator) -> None:
    client, _ = _client(slow)
    created = client.images.create(prompt="x")
    body = _delivery({**created.to_dict(), "status": "succeeded"}, "evt_dup")
    first = client.webhooks.receive(body, _headers(body), secret=SECRET)
    again = client.webhooks.receive(body, _headers(body), secret=SECRET)
    assert not first.duplicate
    assert again.duplicate


def test_a_late_older_state_does_not_replace_a_finished_one(slow: Emulator) -> None:
    client, _ = _client(slow)
    created = client.images.create(prompt="x")
    finished = client.webhooks.feed(
        aurous.webhooks.parse_callback(
            {"event": "image.completed", "data": {**created.to_dict(), "status": "succeeded"}}
        )
    )
    late = client.webhooks.feed(
        aurous.webhooks.parse_callback(
            {"event": "image.completed", "data": {**created.to_dict(), "status": "processing"}}
        )
    )
    assert not finished.stale
    assert late.stale
    assert client._completions.latest(created.id).status == "succeeded"  # type: ignore[union-attr]


def test_a_bad_signature_is_refused_and_changes_nothing(slow: Emulator) -> None:
    client, _ = _client(slow)
    created = client.images.create(prompt="x")
    body = _delivery({**created.to_dict(), "status": "succeeded"}, "evt_bad")
    with pytest.raises(aurous.WebhookVerificationError):
        client.webhooks.receive(body, _headers(body, "whsec_" + "x" * 32), secret=SECRET)
    assert client._completions.latest(created.id) is None


def test_a_finished_delivery_frees_the_concurrency_slot() -> None:
    emu = Emulator(image_phases=(0.0, 60.0), concurrency_limit=1, credits=100_000)
    client, _ = _client(emu)
    first = client.images.create(prompt="one")
    with pytest.raises(aurous.RateLimitError):
        client.with_options(max_rate_limit_wait=0).images.create(prompt="refused")
    assert client._pacer is not None
    assert first.id in client._pacer.gate.tracked
    emu.faults.clear()
    client.images.cancel(first.id)
    body = _delivery({**first.to_dict(), "status": "cancelled"}, "evt_free", "image.cancelled")
    client.webhooks.receive(body, _headers(body), secret=SECRET)
    assert first.id not in client._pacer.gate.tracked
    emu.close()


# ---- the receiver apps --------------------------------------------------------------------------


def _receiver(client: aurous.Client | aurous.AsyncClient) -> tuple[Receiver, list[str]]:
    receiver = Receiver(client, secret=SECRET)
    seen: list[str] = []

    @receiver.on("image.completed")
    def completed(event: Any) -> None:
        seen.append(f"sync:{event.id}")

    @receiver.on("image.completed")
    async def completed_async(event: Any) -> None:
        await asyncio.sleep(0)
        seen.append(f"async:{event.id}")

    return receiver, seen


def test_the_asgi_app_answers_then_dispatches(slow: Emulator) -> None:
    client, _ = _client(slow)
    receiver, seen = _receiver(client)
    created = client.images.create(prompt="x")
    body = _delivery({**created.to_dict(), "status": "succeeded"}, "evt_asgi")

    async def go() -> list[int]:
        transport = httpx.ASGITransport(app=receiver.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            ok = await http.post("/", content=body, headers=_headers(body))
            again = await http.post("/", content=body, headers=_headers(body))
            bad = await http.post("/", content=body, headers={"Aurous-Webhook-Signature": "x"})
            get = await http.get("/")
        return [ok.status_code, again.status_code, bad.status_code, get.status_code]

    assert asyncio.run(go()) == [200, 200, 400, 405]
    assert sorted(seen) == ["async:evt_asgi", "sync:evt_asgi"]  # once: the duplicate is dropped
    assert receiver.rejected == 1


def test_the_wsgi_app_answers_then_dispatches(slow: Emulator) -> None:
    from werkzeug.test import Client as WsgiClient

    client, _ = _client(slow)
    receiver, seen = _receiver(client)
    created = client.images.create(prompt="x")
    body = _delivery({**created.to_dict(), "status": "succeeded"}, "evt_wsgi")
    http = WsgiClient(receiver.wsgi)
    assert http.post("/", data=body, headers=_headers(body)).status_code == 200
    assert http.post("/", data=body, headers=_headers(body)).status_code == 200
    assert http.post("/", data=body, headers={"Aurous-Webhook-Signature": "x"}).status_code == 400
    deadline = time.monotonic() + 5
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(seen) == ["async:evt_wsgi", "sync:evt_wsgi"]


def test_the_emulator_delivers_to_a_receiver_in_process() -> None:
    # On a manual clock the emulator delivers as the client's own waiting moves time on.
    emu = Emulator(clock="manual", image_phases=(0.2, 0.3), credits=100_000)
    client, counting = _client(emu)
    assert emu.sdk_clock is not None
    client._set_clock(emu.sdk_clock)
    receiver, seen = _receiver(client)
    emu.deliver_webhooks_to(receiver)
    generation = client.images.create_and_wait(
        prompt="a lighthouse", poll_interval=30, max_poll_interval=30
    )
    assert generation.status == "succeeded"
    emu.webhooks.flush()
    assert any(entry.startswith("sync:") for entry in seen)
    assert counting.reads <= 2
    emu.close()
