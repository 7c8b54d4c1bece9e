"""Many callers, one client: the client paces the team's rate limits and concurrency limit.

Threads share one `aurous.Client`, tasks share one `aurous.AsyncClient`; the emulator enforces
real limits. With pacing every call succeeds and nothing is billed twice; with ``pacing=False``
the same load fails, as it did before the client paced itself.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

import aurous
from aurous.emulator import Emulator

API = "https://api.test"


class Counting(httpx.BaseTransport):
    """The emulator's transport, counting 429s by code (thread-safe)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.lock = threading.Lock()
        self.refused: list[str] = []
        self.creates = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        with self.lock:
            if request.method == "POST" and request.url.path == "/v1/images":
                self.creates += 1
            if response.status_code == 429:
                response.read()
                self.refused.append(response.json()["error"]["code"])
        return response


class AsyncCounting(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.refused: list[str] = []
        self.creates = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path == "/v1/images":
            self.creates += 1
        if response.status_code == 429:
            await response.aread()
            self.refused.append(response.json()["error"]["code"])
        return response


@pytest.fixture
def emu() -> Iterator[Emulator]:
    # Real time, short generations: threads and tasks really run side by side.
    emulator = Emulator(concurrency_limit=3, image_phases=(0.05, 0.15), seed=7)
    yield emulator
    emulator.close()


def _sync_client(emu: Emulator, **options: Any) -> tuple[aurous.Client, Counting]:
    counting = Counting(emu.transport)
    http = httpx.Client(transport=counting, base_url=emu.base_url)
    client = aurous.Client(api_key=emu.api_key, base_url=emu.base_url, http_client=http, **options)
    return client, counting


def _async_client(emu: Emulator, **options: Any) -> tuple[aurous.AsyncClient, AsyncCounting]:
    counting = AsyncCounting(emu.async_transport)
    http = httpx.AsyncClient(transport=counting, base_url=emu.base_url)
    client = aurous.AsyncClient(
        api_key=emu.api_key, base_url=emu.base_url, http_client=http, **options
    )
    return client, counting


def _create_and_wait(client: aurous.Client, n: int) -> aurous.Generation:
    return client.images.create_and_wait(prompt=f"thread {n}", poll_interval=0.05, timeout=60)


# ---- threads and tasks sharing one client ----------------------------------------------------------


def test_threads_sharing_a_client_stay_inside_the_concurrency_limit(emu: Emulator) -> None:
    client, counting = _sync_client(emu)
    with ThreadPoolExecutor(max_workers=12) as pool:
        generations = list(pool.map(lambda n: _create_and_wait(client, n), range(12)))
    assert all(g.status == "succeeded" for g in generations)
    assert len({g.id for g in generations}) == 12
    assert len(emu.team.generations) == 12
    assert emu.team.balance()["credits"] == Decimal(988)
    # The limit is learned from one refusal and re-probed now and then, not hammered.
    assert counting.refused.count("concurrency_limit_exceeded") <= 4
    assert client._pacer is not None
    assert client._pacer.gate.limit is not None


def test_tasks_sharing_a_client_stay_inside_the_concurrency_limit(emu: Emulator) -> None:
    client, counting = _async_client(emu)

    async def run() -> list[aurous.Generation]:
        return await asyncio.gather(
            *(
                client.images.create_and_wait(prompt=f"task {n}", poll_interval=0.05, timeout=60)
                for n in range(15)
            )
        )

    generations = asyncio.run(run())
    assert all(g.status == "succeeded" for g in generations)
    assert len(emu.team.generations) == 15
    assert emu.team.balance()["credits"] == Decimal(985)
    assert counting.refused.count("concurrency_limit_exceeded") <= 4


def test_without_pacing_the_same_load_fails(emu: Emulator) -> None:
    client, counting = _sync_client(emu, pacing=False, max_retries=1)
    failures: list[BaseException] = []

    def attempt(n: int) -> None:
        try:
            _create_and_wait(client, n)
        except aurous.RateLimitError as error:
            failures.append(error)

    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(attempt, range(12)))
    assert failures
    assert all(isinstance(f, aurous.RateLimitError) for f in failures)
    assert all(f.idempotency_key for f in failures)  # type: ignore[attr-defined]
    assert counting.refused


def test_with_options_copies_share_the_pacing_state(emu: Emulator) -> None:
    client, _ = _sync_client(emu)
    copy = client.with_options(timeout=5, max_retries=1)
    assert copy._pacer is client._pacer
    assert aurous.Client(api_key="k", pacing=False)._pacer is None
    assert copy.pacing
    assert not aurous.Client(api_key="k", pacing=False).pacing


def test_a_small_bucket_is_paced_instead_of_refused() -> None:
    emu = Emulator(
        clock="manual", rate_limits={"images_post": (5, 120)}, concurrency_limit=100, instant=True
    )
    client, counting = _async_client(emu)
    client._set_clock(emu.sdk_clock)  # type: ignore[arg-type]
    start = emu.now()

    async def run() -> list[aurous.Generation]:
        return await asyncio.gather(*(client.images.create(prompt=f"p{n}") for n in range(25)))

    created = asyncio.run(run())
    assert len({g.id for g in created}) == 25
    assert counting.creates - 25 == len(counting.refused)
    assert len(counting.refused) <= 5
    # 20 tokens beyond the burst of 5, refilled at 2 per second.
    assert emu.now() - start >= 9.5
    emu.close()


# ---- other clients of the team ----------------------------------------------------------------------


def test_capacity_freed_by_another_client_is_found_again() -> None:
    emu = Emulator(clock="manual", concurrency_limit=4, image_phases=(0.0, 1000.0))
    other = emu.client()
    hogs = [other.images.create(prompt=f"hog {n}") for n in range(3)]
    ours, counting = _sync_client(emu)
    ours._set_clock(emu.sdk_clock)  # type: ignore[arg-type]
    assert ours._pacer is not None
    first = ours.images.create(prompt="mine")
    # The team is full: our next create is refused and teaches a limit of one (ours in flight).
    with pytest.raises(aurous.RateLimitError):
        ours.with_options(max_rate_limit_wait=0).images.create(prompt="refused")
    assert ours._pacer.gate.limit == 1
    # The other client's generations end; ours do not (they never finish in this test).
    for hog in hogs:
        other.images.cancel(hog.id)
    more = [ours.images.create(prompt=f"probe {n}") for n in range(3)]
    # Probes find the freed capacity: the three go through, at most two were refused on the way.
    assert len({g.id for g in [first, *more]}) == 4
    assert counting.refused.count("concurrency_limit_exceeded") <= 2
    emu.close()


# ---- waiting is bounded by time, not by the retry count ------------------------------------------------


def _rate_limited(retry_after: str) -> httpx.Response:
    body = {
        "error": {
            "type": "rate_limit",
            "code": "too_many_requests",
            "message": "Rate limit exceeded for reads. Retry after 90s.",
            "param": None,
            "doc_url": None,
            "request_id": "req_1",
        }
    }
    return httpx.Response(429, json=body, headers={"Retry-After": retry_after})


_BALANCE = {
    "credits": 1,
    "held_credits": 0,
    "available_credits": 1,
    "currency": "credit",
    "billing_mode": "metered",
}


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


@respx.mock(base_url=API, assert_all_called=False)
def test_retry_after_above_60_seconds_is_honoured(respx_mock: respx.Router) -> None:
    respx_mock.get("/v1/balance").side_effect = [
        _rate_limited("90"),
        httpx.Response(200, json=_BALANCE),
    ]
    client = aurous.Client(api_key="k", base_url=API, max_rate_limit_wait=120)
    clock = _Clock()
    client._set_clock(clock)
    assert client.balance.retrieve().credits == 1
    assert clock.sleeps == [90.0]


@respx.mock(base_url=API, assert_all_called=False)
def test_a_wait_beyond_the_budget_raises_at_once(respx_mock: respx.Router) -> None:
    route = respx_mock.post("/v1/images")
    route.side_effect = [_rate_limited("90")]
    client = aurous.Client(api_key="k", base_url=API)  # max_rate_limit_wait: 60 s
    clock = _Clock()
    client._set_clock(clock)
    with pytest.raises(aurous.RateLimitError) as caught:
        client.images.create(prompt="x")
    assert caught.value.retry_after == 90
    assert caught.value.idempotency_key
    assert clock.sleeps == []  # no point waiting part of it
    assert route.call_count == 1


@respx.mock(base_url=API, assert_all_called=False)
def test_rate_limit_waits_do_not_spend_max_retries(respx_mock: respx.Router) -> None:
    respx_mock.get("/v1/balance").side_effect = [_rate_limited("1")] * 6 + [
        httpx.Response(200, json=_BALANCE)
    ]
    client = aurous.Client(api_key="k", base_url=API, max_retries=2)
    clock = _Clock()
    client._set_clock(clock)
    assert client.balance.retrieve().credits == 1
    assert len(clock.sleeps) == 6


@respx.mock(base_url=API, assert_all_called=False)
def test_max_retries_zero_still_means_no_retry(respx_mock: respx.Router) -> None:
    route = respx_mock.get("/v1/balance")
    route.side_effect = [_rate_limited("1"), httpx.Response(200, json=_BALANCE)]
    client = aurous.Client(api_key="k", base_url=API, max_retries=0)
    client._set_clock(_Clock())
    with pytest.raises(aurous.RateLimitError):
        client.balance.retrieve()
    assert route.call_count == 1


@respx.mock(base_url=API, assert_all_called=False)
def test_the_budget_bounds_many_short_waits(respx_mock: respx.Router) -> None:
    respx_mock.get("/v1/balance").side_effect = [_rate_limited("7")] * 20
    client = aurous.Client(api_key="k", base_url=API, max_rate_limit_wait=30)
    clock = _Clock()
    client._set_clock(clock)
    with pytest.raises(aurous.RateLimitError):
        client.balance.retrieve()
    assert sum(clock.sleeps) <= 30
    assert clock.sleeps == [7.0] * 4


@respx.mock(base_url=API, assert_all_called=False)
def test_without_pacing_retry_after_counts_as_a_retry(respx_mock: respx.Router) -> None:
    route = respx_mock.get("/v1/balance")
    route.side_effect = [_rate_limited("2")] * 5
    client = aurous.Client(api_key="k", base_url=API, pacing=False, max_retries=2)
    clock = _Clock()
    client._set_clock(clock)
    with pytest.raises(aurous.RateLimitError):
        client.balance.retrieve()
    assert route.call_count == 3
    assert clock.sleeps == [2.0, 2.0]


def test_create_and_wait_counts_rate_limit_waits_inside_its_own_deadline() -> None:
    emu = Emulator(clock="manual", concurrency_limit=1, image_phases=(0.0, 50.0))
    client = emu.client()
    client.images.create(prompt="holds the only slot")
    with pytest.raises(aurous.RateLimitError):
        # Learn the limit first (the second create is refused).
        client.with_options(max_rate_limit_wait=0).images.create(prompt="x")
    start = emu.now()
    with pytest.raises((aurous.RateLimitError, aurous.WaitTimeoutError)):
        client.images.create_and_wait(prompt="waits for the slot", timeout=20)
    assert emu.now() - start <= 21
    emu.close()


def test_pacing_waits_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    emu = Emulator(clock="manual", rate_limits={"images_post": (1, 60)}, instant=True)
    client = emu.client()
    with caplog.at_level(logging.DEBUG, logger="aurous"):
        client.images.create(prompt="one")
        client.images.create(prompt="two")
    assert any("waiting" in r.message and "POST /v1/images" in r.message for r in caplog.records)
    emu.close()
