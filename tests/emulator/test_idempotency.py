"""Idempotency through the in-process transport."""

from __future__ import annotations

import threading

import httpx

from aurous.emulator import Emulator


def _create(
    client: httpx.Client, body: dict[str, object], key: str | None, **headers: str
) -> httpx.Response:
    sent = dict(headers)
    if key is not None:
        sent["Idempotency-Key"] = key
    return client.post("/v1/images", json=body, headers=sent)


def test_replay_is_byte_identical_and_not_billed(emu: Emulator, client: httpx.Client) -> None:
    first = _create(client, {"prompt": "a", "count": 2}, "k-1")
    assert first.status_code == 201
    assert "aurous-idempotent-replayed" not in first.headers
    immediate = _create(client, {"prompt": "a", "count": 2}, "k-1")
    # A replay counts against the rate limit.
    assert immediate.headers["x-ratelimit-remaining"] == "118"
    emu.advance(10)  # the row succeeds meanwhile; the replay still shows the snapshot
    replay = client.post(
        "/v1/images", content=b'{"count": 2.0, "prompt": "a"}', headers={"Idempotency-Key": "k-1"}
    )
    assert replay.status_code == 201
    assert replay.content == first.content
    assert replay.headers["aurous-idempotent-replayed"] == "true"
    assert replay.headers["aurous-request-id"] != first.headers["aurous-request-id"]
    assert replay.json()["status"] == "pending"
    assert len(emu.team.generations) == 1
    assert client.get("/v1/balance").json()["credits"] == 998


def test_alias_header_and_precedence(emu: Emulator, client: httpx.Client) -> None:
    first = client.post(
        "/v1/images", json={"prompt": "a"}, headers={"Aurous-Idempotent-Key": "alias"}
    )
    again = _create(client, {"prompt": "a"}, "alias")
    assert again.headers["aurous-idempotent-replayed"] == "true"
    assert again.content == first.content
    # Idempotency-Key wins over the alias.
    fresh = client.post(
        "/v1/images",
        json={"prompt": "a"},
        headers={"Idempotency-Key": "other", "Aurous-Idempotent-Key": "alias"},
    )
    assert "aurous-idempotent-replayed" not in fresh.headers
    assert fresh.json()["id"] != first.json()["id"]


def test_different_body_or_route_conflicts(client: httpx.Client) -> None:
    assert _create(client, {"prompt": "a"}, "k").status_code == 201
    conflict = _create(client, {"prompt": "b"}, "k")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_key_in_use"
    assert "retry-after" not in conflict.headers
    other_route = client.post("/v1/videos", json={"prompt": "a"}, headers={"Idempotency-Key": "k"})
    assert other_route.status_code == 409


def test_failed_outcomes_are_not_stored(emu: Emulator, client: httpx.Client) -> None:
    blocked = _create(client, {"prompt": "forbidden"}, "retry-me")
    assert blocked.status_code == 400
    emu.set_balance(0)
    poor = _create(client, {"prompt": "ok"}, "retry-me")
    assert poor.status_code == 402
    emu.set_balance(10)
    assert _create(client, {"prompt": "ok"}, "retry-me").status_code == 201


def test_keys_are_per_team(emu: Emulator, client: httpx.Client) -> None:
    other = emu.create_api_key(team=emu.create_team("Other"))
    assert _create(client, {"prompt": "a"}, "shared").status_code == 201
    theirs = client.post(
        "/v1/images",
        json={"prompt": "b"},
        headers={"Idempotency-Key": "shared", "X-Api-Key": other},
    )
    assert theirs.status_code == 201


def test_window_expires_after_24h(emu: Emulator, client: httpx.Client) -> None:
    first = _create(client, {"prompt": "a"}, "day")
    emu.advance(24 * 3600 - 1)
    assert _create(client, {"prompt": "b"}, "day").status_code == 409
    emu.advance(1)
    fresh = _create(client, {"prompt": "b"}, "day")
    assert fresh.status_code == 201
    assert fresh.json()["id"] != first.json()["id"]


def test_key_length_limits(client: httpx.Client) -> None:
    for key in ("", "x" * 257):
        response = _create(client, {"prompt": "a"}, key)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "value_out_of_range"
        assert response.json()["error"]["param"] == "Idempotency-Key"
    assert _create(client, {"prompt": "a"}, "x" * 256).status_code == 201


def test_ignored_on_other_endpoints(client: httpx.Client) -> None:
    for _ in range(2):
        response = client.post(
            "/v1/images/estimate", json={"prompt": "a"}, headers={"Idempotency-Key": "est"}
        )
        assert "aurous-idempotent-replayed" not in response.headers


def test_in_flight_conflict(emu: Emulator) -> None:
    results: dict[str, httpx.Response] = {}
    headers = {"X-Api-Key": emu.api_key, "Idempotency-Key": "slow"}

    def original() -> None:
        with httpx.Client(transport=emu.transport, base_url=emu.base_url) as http:
            results["first"] = http.post("/v1/images", json={"prompt": "a"}, headers=headers)

    with emu.faults.pause("POST /v1/images") as gate:
        worker = threading.Thread(target=original)
        worker.start()
        assert gate.wait_reached()
        # While the original holds the key, the same request gets 409 (no Retry-After).
        with httpx.Client(transport=emu.transport, base_url=emu.base_url) as http:
            probe = http.post("/v1/images", json={"prompt": "a"}, headers=headers)
        assert probe.status_code == 409
        assert "retry-after" not in probe.headers
        assert probe.json()["error"]["code"] == "idempotency_key_in_use"
    worker.join(5)
    assert results["first"].status_code == 201
    with httpx.Client(transport=emu.transport, base_url=emu.base_url) as http:
        replay = http.post("/v1/images", json={"prompt": "a"}, headers=headers)
    assert replay.headers["aurous-idempotent-replayed"] == "true"
    assert replay.json()["id"] == results["first"].json()["id"]
