"""Holds, commits, releases, the balance gate, exempt teams and the concurrency limit."""

from __future__ import annotations

import httpx
import pytest

from aurous.emulator import Emulator


def _balance(client: httpx.Client) -> dict[str, object]:
    return client.get("/v1/balance").json()


def test_hold_commit_release(emu: Emulator, client: httpx.Client) -> None:
    emu.set_balance("10.5")
    image = client.post(
        "/v1/images", json={"prompt": "a", "count": 2, "enhance_prompt": True}
    ).json()
    video = client.post("/v1/videos", json={"prompt": "v", "resolution": "720p"}).json()
    assert video["cost"]["amount"] == 3.75
    assert _balance(client) == {
        "credits": 10.5,
        "held_credits": 7.75,
        "available_credits": 2.75,
        "currency": "credit",
        "billing_mode": "metered",
    }
    client.post(f"/v1/images/{video['id']}/cancel")
    assert _balance(client)["held_credits"] == 4
    assert _balance(client)["available_credits"] == 6.5
    emu.advance(10)
    assert _balance(client) == {
        "credits": 6.5,
        "held_credits": 0,
        "available_credits": 6.5,
        "currency": "credit",
        "billing_mode": "metered",
    }
    assert client.get("/v1/team").json()["credits"] == 6.5
    assert client.get(f"/v1/images/{image['id']}").json()["cost"]["amount"] == 4


def test_failed_generation_releases_and_zeroes_cost(emu: Emulator, client: httpx.Client) -> None:
    row = client.post(
        "/v1/images", json={"prompt": "a [moderate] b", "enhance_prompt": True}
    ).json()
    assert _balance(client)["held_credits"] == 2
    emu.advance(10)
    final = client.get(f"/v1/images/{row['id']}").json()
    assert final["status"] == "failed"
    assert final["error_message"] == "output_moderation_rejected"
    assert final["cost"] == {
        "amount": 0,
        "currency": "credit",
        "breakdown": {"base": 0, "enhance": 0},
    }
    assert final["output_urls"] == []
    assert final["seed"] is None
    assert _balance(client)["credits"] == 1000
    assert _balance(client)["held_credits"] == 0


def test_balance_gate_exact_amount_allowed(emu: Emulator, client: httpx.Client) -> None:
    emu.set_balance("1.5")
    refused = client.post("/v1/images", json={"prompt": "a", "enhance_prompt": True})
    assert refused.status_code == 402
    assert refused.json()["error"] == {
        "type": "invalid_request",
        "code": "balance_too_low",
        "message": "Team available balance is 1.5 credits, generation requires 2.",
        "param": None,
        "doc_url": "https://docs.aurous-labs.com/errors#balance_too_low",
        "request_id": refused.headers["aurous-request-id"],
    }
    emu.set_balance(2)
    assert (
        client.post("/v1/images", json={"prompt": "a", "enhance_prompt": True}).status_code == 201
    )
    assert _balance(client)["available_credits"] == 0
    # Estimates never check the balance.
    assert client.post("/v1/images/estimate", json={"prompt": "a"}).status_code == 200


def test_exempt_team_never_moves(emu: Emulator, client: httpx.Client) -> None:
    team = emu.create_team("Free", credits=250, billing_mode="exempt")
    key = emu.create_api_key(team=team)
    headers = {"X-Api-Key": key}
    row = client.post("/v1/images", json={"prompt": "a", "count": 4}, headers=headers).json()
    assert row["cost"]["amount"] == 4
    before = client.get("/v1/balance", headers=headers).json()
    assert before == {
        "credits": 250,
        "held_credits": 0,
        "available_credits": 250,
        "currency": "credit",
        "billing_mode": "exempt",
    }
    emu.advance(10)
    assert client.get("/v1/balance", headers=headers).json() == before
    emu.set_balance(0, team)
    assert client.post("/v1/images", json={"prompt": "a"}, headers=headers).status_code == 201


def test_other_teams_rows_are_invisible(emu: Emulator, client: httpx.Client) -> None:
    key = emu.create_api_key(team=emu.create_team("Other"))
    row = client.post("/v1/images", json={"prompt": "mine"}).json()
    theirs = client.get(f"/v1/images/{row['id']}", headers={"X-Api-Key": key})
    assert theirs.status_code == 404
    assert client.get("/v1/images", headers={"X-Api-Key": key}).json()["data"] == []
    # The private LoRA belongs to the default team only.
    assert len(client.get("/v1/loras", headers={"X-Api-Key": key}).json()) == 2
    private = client.post(
        "/v1/images", json={"prompt": "x", "lora_id": "acme-ink-wash"}, headers={"X-Api-Key": key}
    )
    assert private.status_code == 404


def test_concurrency_limit(emu: Emulator, client: httpx.Client) -> None:
    emu.config.concurrency_limit = 3
    for _ in range(3):
        assert client.post("/v1/images", json={"prompt": "a"}).status_code == 201
    refused = client.post("/v1/images", json={"prompt": "a"}, headers={"Idempotency-Key": "c"})
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error"]["code"] == "concurrency_limit_exceeded"
    assert refused.json()["error"]["type"] == "rate_limit"
    assert refused.headers["x-ratelimit-remaining"] == "116"  # the request took a token
    assert client.post("/v1/videos", json={"prompt": "a"}).status_code == 429
    assert client.post("/v1/images/estimate", json={"prompt": "a"}).status_code == 200
    emu.advance(10)
    assert (
        client.post(
            "/v1/images", json={"prompt": "a"}, headers={"Idempotency-Key": "c"}
        ).status_code
        == 201
    )


@pytest.mark.parametrize(
    ("body", "amount"),
    [
        ({"prompt": "v"}, 3.75),
        ({"prompt": "v", "resolution": "1080p"}, 6.25),
        ({"prompt": "v", "resolution": "480p", "duration": 12}, 6),
        ({"prompt": "v", "video_lora_id": "aerial-drone-sweep"}, 6),
        ({"prompt": "v", "video_lora_id": "seedance-1-pro", "duration": 2}, 2.5),
    ],
)
def test_video_cost_uses_resolved_defaults(
    client: httpx.Client, body: dict[str, object], amount: float
) -> None:
    estimate = client.post("/v1/videos/estimate", json=body).json()
    assert estimate["estimated_cost"] == {
        "amount": amount,
        "currency": "credit",
        "breakdown": {"base": amount},
    }
