"""Pacing's blind spots (issue 24, items 15 and 16): clients that only create, and clocks that
disagree with the server's."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

import aurous
from aurous.emulator import Emulator


class Counting(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.lock = threading.Lock()
        self.refused = 0
        self.creates = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        with self.lock:
            if request.method == "POST" and request.url.path == "/v1/images":
                self.creates += 1
                if response.status_code == 429:
                    self.refused += 1
        return response


def _client(emu: Emulator, **options: Any) -> tuple[aurous.Client, Counting]:
    counting = Counting(emu.transport)
    http = httpx.Client(transport=counting, base_url=emu.base_url)
    client = aurous.Client(api_key=emu.api_key, base_url=emu.base_url, http_client=http, **options)
    if emu.sdk_clock is not None:
        client._set_clock(emu.sdk_clock)
    return client, counting


def test_a_create_only_client_recovers_from_a_spurious_concurrency_429_in_seconds() -> None:
    emu = Emulator(clock="manual", concurrency_limit=1000, image_phases=(0.1, 0.1))
    client, counting = _client(emu)
    for n in range(50):
        client.images.create(prompt=f"before {n}")  # never polled: a webhook user, say
    emu.faults.fail_next("POST /v1/images", status=429, code="concurrency_limit_exceeded")
    started = emu.now()
    for n in range(50):
        client.images.create(prompt=f"after {n}")
    # Before: 6 creates in 30 s. The probes that go through free the slots counted for
    # generations that finished unseen, twice as many each time.
    assert emu.now() - started < 10.0
    assert counting.refused == 1
    emu.close()


def test_a_create_only_client_at_the_real_limit_is_refused_little() -> None:
    emu = Emulator(clock="manual", concurrency_limit=10, image_phases=(1.0, 1.0))
    client, counting = _client(emu)
    started = emu.now()
    for n in range(60):
        client.images.create(prompt=f"fire and forget {n}")
    elapsed = emu.now() - started
    # Before: 199 refusals for 60 creates. The limits allow 60 in 10 s.
    assert counting.refused <= 20, counting.refused
    assert elapsed < 40.0, elapsed
    emu.close()


@pytest.mark.parametrize("skew", [-3600.0, -86400.0, 3600.0])
def test_a_client_clock_off_by_hours_paces_like_a_correct_one(
    skew: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = Emulator(rate_limits={"images_post": (5, 120)}, instant=True, credits=100_000)
    client, counting = _client(emu)
    assert client._pacer is not None
    store: Any = client._pacer.store
    # This machine's clock is off; the server's Date tells its own.
    monkeypatch.setattr(store, "wall", lambda: time.time() + skew)
    for n in range(15):
        client.images.create(prompt=f"skewed {n}")
    assert counting.refused <= 1
    emu.close()


def test_the_emulator_sends_its_date_on_its_own_clock() -> None:
    emu = Emulator(clock="manual")
    client = emu.client()
    info = client.balance.retrieve()._response
    assert info is not None
    sent = info.headers["date"]
    assert sent.endswith("GMT")
    from aurous._pacing import server_time

    assert server_time(info.headers.get("date")) == pytest.approx(emu.now(), abs=1.0)
    emu.close()
