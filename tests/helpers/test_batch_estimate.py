"""``images.estimate_batch`` / ``videos.estimate_batch``: prices with few calls, checks, time bound."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest

import aurous
from aurous._batch._estimate import duration_lower_bound, expected_polls

from .conftest import Counting, Harness


def _counting(h: Harness, wrap: Any = None, **options: Any) -> tuple[Any, Counting]:
    made: dict[str, Counting] = {}

    def make(transport: Any) -> Counting:
        made["t"] = Counting(transport if wrap is None else wrap(transport))
        return made["t"]

    client = h.make_client(wrap=make, **options)
    return client, made["t"]


def _calls(counting: Counting, path: str, method: str = "POST") -> int:
    return sum(1 for m, p in counting.requests if (m, p) == (method, path))


def test_identical_and_same_price_requests_are_priced_once(h: Harness) -> None:
    client, counting = _counting(h)
    requests: list[Any] = [f"prompt {i % 50}" for i in range(5000)]
    requests += [{"prompt": "two", "count": 2}] * 100
    requests += [{"prompt": "enhanced", "enhance_prompt": True, "count": 3}] * 10
    est = h(client.images.estimate_batch(requests))

    assert est.requests == 5110
    assert len(est.items) == 5110
    assert est.distinct_requests == 52
    assert est.price_classes == 3
    assert est.outputs == 5000 + 200 + 30
    assert est.total == 5000 * 1 + 100 * 2 + 10 * 6
    assert [i.estimated_cost.amount for i in est.items[4999:5001]] == [1, 2]
    assert est.items[-1].estimated_cost.breakdown == {"base": 3, "enhance": 3}
    # One card, one estimate call to check the card; everything else from the card.
    assert est.estimate_calls == 1
    assert _calls(counting, "/v1/images/estimate") == 1
    assert _calls(counting, "/v1/pricing", "GET") == 1
    assert _calls(counting, "/v1/balance", "GET") == 1
    assert est.priced_by_rate_card == 110
    # Nothing was created or held.
    assert h.emu.team.generations == {}
    assert est.balance.available_credits == 1000
    assert est.balance_after == 1000 - est.total
    assert est.affordable == 1000
    assert not est.fits_balance


def test_prices_from_the_card_match_the_endpoint(h: Harness) -> None:
    requests: list[Any] = [
        {"prompt": "a", "count": c, "enhance_prompt": e}
        for c in (1, 2, 3, 4)
        for e in (False, True)
    ]
    by_card = h(h.client.images.estimate_batch(requests))
    by_endpoint = h(h.client.images.estimate_batch(requests, use_rate_card=False))
    assert by_card.estimate_calls == 1
    assert by_endpoint.estimate_calls == 8
    assert by_endpoint.priced_by_rate_card == 0
    assert [i.to_dict() for i in by_card.items] == [i.to_dict() for i in by_endpoint.items]
    for request, item in zip(requests, by_card.items, strict=True):
        expected = h(h.client.images.estimate(**request))
        assert item.estimated_cost == expected.estimated_cost


def test_videos_left_to_their_lora_defaults_ask_the_endpoint(h: Harness) -> None:
    lora = h.emu.add_lora("Long", video=True, default_resolution="1080p", default_duration=8)
    client, counting = _counting(h)
    requests: list[Any] = [
        {"prompt": "card: no LoRA, defaults 720p 5 s"},
        {"prompt": "card: both set", "video_lora_id": lora, "resolution": "480p", "duration": 4},
        *[{"prompt": f"endpoint {i}", "video_lora_id": lora} for i in range(20)],
        *[{"prompt": f"endpoint {i}", "video_lora_id": lora, "duration": 2} for i in range(20)],
    ]
    est = h(client.videos.estimate_batch(requests))
    amounts = [i.estimated_cost.amount for i in est.items]
    assert amounts[:3] == [3.75, 2, 10]  # 0.5 × 1.5 × 5, 0.5 × 1 × 4, 0.5 × 2.5 × 8
    assert amounts[-1] == 2.5  # 0.5 × 2.5 × 2
    assert est.total == 3.75 + 2 + 20 * 10 + 20 * 2.5
    # The card check, then one call per (LoRA, resolution, duration) left to the LoRA.
    assert _calls(counting, "/v1/videos/estimate") == 3
    assert est.estimate_calls == 3
    assert est.price_classes == 4
    assert est.priced_by_rate_card == 1
    # The API documents no video duration and this team has no history: counted as 0.
    assert est.generation_seconds is None
    assert est.generation_seconds_source is None


def test_negotiated_rates_switch_to_the_endpoint(h: Harness) -> None:
    class HalfPriceCard(httpx.BaseTransport, httpx.AsyncBaseTransport):
        """A card that does not match what the estimate endpoint charges this team."""

        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def _rewrite(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
            if request.url.path != "/v1/pricing":
                return response
            card = json.loads(response.content)
            card["image"]["base"] = 0.5
            return httpx.Response(200, headers=response.headers, json=card, request=request)

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = self.inner.handle_request(request)
            response.read()
            return self._rewrite(request, response)

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await self.inner.handle_async_request(request)
            await response.aread()
            return self._rewrite(request, response)

    client, counting = _counting(h, wrap=HalfPriceCard)
    requests = [{"prompt": "x", "count": c} for c in (1, 2, 3, 1, 2, 3)]
    est = h(client.images.estimate_batch(requests))
    assert [i.estimated_cost.amount for i in est.items] == [1, 2, 3, 1, 2, 3]
    assert est.priced_by_rate_card == 0
    assert _calls(counting, "/v1/images/estimate") == 3


def test_invalid_requests_are_named_before_anything_is_sent(h: Harness) -> None:
    client, counting = _counting(h)
    with pytest.raises(TypeError, match=r"batch request #2: .*'promt' \(did you mean 'prompt'\?\)"):
        h(client.images.estimate_batch(["a", "b", {"promt": "c"}]))
    with pytest.raises(TypeError, match=r"batch request #1: .*count must be int"):
        h(client.images.estimate_batch(["a", {"prompt": "b", "count": "2"}]))
    with pytest.raises(ValueError, match=r"batch request #1: .*size cannot be combined"):
        h(
            client.images.estimate_batch(
                ["a", {"prompt": "b", "size": "2k_1_1", "width": 1024, "height": 1024}]
            )
        )
    with pytest.raises(ValueError, match=r"batch request #0: guidance_scale must be a finite"):
        h(client.images.estimate_batch([{"prompt": "b", "guidance_scale": math.nan}]))
    with pytest.raises(ValueError, match=r"batch request #1: a video needs a prompt"):
        h(client.videos.estimate_batch(["a", {"resolution": "720p"}]))
    with pytest.raises(TypeError, match=r"requests must be an iterable"):
        h(client.images.estimate_batch(["a", 42]))
    with pytest.raises(TypeError, match=r"batch request #1 must be a prompt"):
        h(client.images.estimate_batch(iter(["a", 42])))
    assert counting.requests == []


def test_a_request_the_api_refuses_names_its_index(h: Harness) -> None:
    with pytest.raises(aurous.NotFoundError, match=r"batch request #1: ") as caught:
        h(h.client.videos.estimate_batch(["ok", {"prompt": "x", "video_lora_id": "nope"}]))
    assert caught.value.param == "video_lora_id"


def test_balance_after_and_what_the_balance_covers(make_harness: Any) -> None:
    h: Harness = make_harness(credits=10)
    est = h(h.client.images.estimate_batch([{"prompt": "x", "count": 3}] * 5))
    assert est.total == 15
    assert est.balance_after == -5
    assert est.affordable == 3
    assert not est.fits_balance
    exempt: Harness = make_harness(credits=10, billing_mode="exempt")
    assert h(exempt.client.images.estimate_batch(["x"] * 50)).fits_balance


def test_min_duration_before_anything_is_seen(h: Harness) -> None:
    est = h(h.client.images.estimate_batch(["x"] * 200, concurrency=16))
    # The documented tier, and the low end of the documented image time.
    assert est.limits.sources == {
        "create_rate": "documented",
        "reads_rate": "documented",
        "concurrency_limit": "documented",
    }
    assert (est.limits.create_burst, est.limits.create_per_second) == (120, 1.0)
    assert est.limits.concurrency_limit == 10
    assert est.generation_seconds == 10
    assert est.generation_seconds_source == "documented"
    assert est.min_duration == pytest.approx(max((200 - 120) / 1 + 10, math.ceil(200 / 10) * 10))


def test_min_duration_uses_the_create_rate_seen(make_harness: Any) -> None:
    h: Harness = make_harness(rate_limits={"images_post": (20, 60)}, instant=True)
    # A batch drains the create bucket: its refill rate then shows in the Reset headers. One
    # item at a time: on the manual clock, other threads' sleeps would move time between the
    # server writing Reset and the client reading it (milliseconds over a real network).
    h(h.client.images.batch(["warm-up"] * 40, concurrency=1, poll_interval=0.1))
    est = h(h.client.images.estimate_batch(["x"] * 200, concurrency=16, generation_seconds=2))
    assert est.limits.create_burst == 20
    assert est.limits.create_per_second == pytest.approx(1.0, rel=0.2)
    assert est.limits.sources["create_rate"] == "observed"
    # The bucket is nearly empty: almost every create waits for a token.
    assert est.min_duration == pytest.approx(200 / est.limits.create_per_second, rel=0.15)


def test_min_duration_uses_the_learned_limit_and_the_teams_median(make_harness: Any) -> None:
    h: Harness = make_harness(concurrency_limit=3, image_phases=(5.0, 5.0))
    h(h.client.images.batch(["warm-up"] * 12, concurrency=8, poll_interval=0.5))
    # What the pacer has learned of the limit (how it learns is its own business).
    pacer = h.client._pacer
    assert pacer is not None
    pacer.gate.limit = limit = 3
    est = h(h.client.images.estimate_batch(["x"] * 200, concurrency=16))
    assert est.limits.concurrency_limit == limit
    assert est.limits.sources["concurrency_limit"] == "learned"
    # The team's own median over the last week (GET /v1/usage): 10 s here.
    assert est.generation_seconds == pytest.approx(10.0, abs=0.5)
    assert est.generation_seconds_source == "usage"
    assert est.min_duration == pytest.approx(math.ceil(200 / limit) * est.generation_seconds)
    given = h(h.client.images.estimate_batch(["x"] * 10, generation_seconds=1.5))
    assert given.generation_seconds == 1.5
    assert given.generation_seconds_source == "given"


def test_requests_per_generation(h: Harness) -> None:
    est = h(
        h.client.images.estimate_batch(
            [{"prompt": "x", "count": 2}] * 4, generation_seconds=10, download=True
        )
    )
    # Polls at 2, 4, 7, 10.375 s: the fourth sees it finished; then 2 downloads and the create.
    assert expected_polls(10, 2.0, 15.0) == 4
    assert est.requests_per_generation == 1 + 4 + 2
    assert est.api_requests == 4 * 7
    assert est.to_dict()["items"][0]["estimated_cost"]["amount"] == 2


def test_the_bound_formula() -> None:
    # Rate-bound: 1000 creates, 120 at once, then one a second; the last runs 2 s.
    assert duration_lower_bound(
        generations=1000,
        generation_seconds=2,
        create_burst=120,
        create_per_second=1.0,
        concurrency_limit=10,
    ) == pytest.approx(882)
    # Slot-bound: long generations, ten at a time.
    assert duration_lower_bound(
        generations=100,
        generation_seconds=60,
        create_burst=120,
        create_per_second=1.0,
        concurrency_limit=10,
    ) == pytest.approx(600)
    # Read-bound.
    assert duration_lower_bound(
        generations=10,
        generation_seconds=0,
        create_burst=120,
        create_per_second=1.0,
        concurrency_limit=10,
        reads=5000,
        reads_burst=1000,
        reads_per_second=10,
    ) == pytest.approx(400)
    nothing = duration_lower_bound(
        generations=0,
        generation_seconds=5,
        create_burst=1,
        create_per_second=1.0,
        concurrency_limit=10,
    )
    assert nothing == 0
