"""Token buckets on the manual clock: continuous refill, a token per request, none per 429."""

from __future__ import annotations

import math

import httpx

from aurous.emulator import Emulator
from aurous.emulator._ratelimit import TokenBucket


def test_bucket_drains_refuses_and_refills(emu: Emulator, client: httpx.Client) -> None:
    start = emu.now()
    for expected in range(11, 8, -1):
        response = client.post("/v1/images/estimate", json={"prompt": "a"})
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit"] == "240"
        del expected
    emu.core.config.buckets["files_post"] = (2, 30)  # tiny bucket: 2 tokens, 0.5 token/s
    ok1 = client.delete("/v1/files/file_x")
    ok2 = client.delete("/v1/files/file_x")
    assert (ok1.headers["x-ratelimit-remaining"], ok2.headers["x-ratelimit-remaining"]) == (
        "1",
        "0",
    )
    assert ok2.headers["x-ratelimit-reset"] == str(math.ceil(start + 2 / 0.5))
    refused = client.delete("/v1/files/file_x")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert (
        refused.json()["error"]["message"] == "Rate limit exceeded for files_post. Retry after 2s."
    )
    assert refused.headers["retry-after"] == "2"
    assert refused.headers["x-ratelimit-remaining"] == "0"
    emu.advance(1)  # 0.5 token: still refused, Retry-After shrinks
    again = client.delete("/v1/files/file_x")
    assert again.status_code == 429
    assert again.headers["retry-after"] == "1"
    emu.advance(1)
    assert client.delete("/v1/files/file_x").status_code == 200


def test_buckets_are_shared_by_a_teams_keys_and_separate_per_team(
    emu: Emulator, client: httpx.Client
) -> None:
    emu.core.config.buckets["reads"] = (3, 60)
    second_key = emu.create_api_key(scope="read")
    other_key = emu.create_api_key(team=emu.create_team("Other"))
    assert client.get("/v1/balance").headers["x-ratelimit-remaining"] == "2"
    assert (
        client.get("/v1/balance", headers={"X-Api-Key": second_key}).headers[
            "x-ratelimit-remaining"
        ]
        == "1"
    )
    assert (
        client.get("/v1/balance", headers={"X-Api-Key": other_key}).headers["x-ratelimit-remaining"]
        == "2"
    )


def test_unauthenticated_and_redirects_are_not_counted(emu: Emulator, client: httpx.Client) -> None:
    emu.core.config.buckets["reads"] = (2, 60)
    assert client.get("/v1/balance", headers={"X-Api-Key": "bad"}).status_code == 401
    assert client.get("/v1/generations").status_code == 308
    assert client.get("/v1/balance").headers["x-ratelimit-remaining"] == "1"


def test_rate_limits_can_be_disabled() -> None:
    emu = Emulator(clock="manual", rate_limits=False)
    with httpx.Client(
        transport=emu.transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
    ) as http:
        response = http.get("/v1/balance")
    assert response.status_code == 200
    assert "x-ratelimit-limit" not in response.headers


def test_custom_bucket_configuration() -> None:
    emu = Emulator(clock="manual", rate_limits={"reads": (1, 60)})
    with httpx.Client(
        transport=emu.transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
    ) as http:
        assert http.get("/v1/team").status_code == 200
        assert http.get("/v1/team").status_code == 429


def test_arithmetic_matches_the_spec_example() -> None:
    bucket = TokenBucket(120, 60, now=1779282060.0)
    bucket.tokens = 0.2
    decision = bucket.take(1779282060.0)
    assert not decision.allowed
    assert decision.retry_after == 1
    assert decision.reset == 1779282180
    assert decision.remaining == 0
    assert bucket.tokens == 0.2  # a refused request takes nothing
