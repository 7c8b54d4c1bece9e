"""Fault injection: scripted statuses, dropped connections (before/after commit), latency."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from aurous.emulator import Emulator
from aurous.emulator._faults import apply_fault_spec, matches


def test_status_fault_creates_nothing(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.fail_next("POST /v1/images", times=2, status=503)
    for _ in range(2):
        response = client.post("/v1/images", json={"prompt": "a"})
        assert response.status_code == 503
        body = response.json()["error"]
        assert (body["type"], body["code"]) == ("server_error", "provider_unavailable")
        assert body["request_id"] == response.headers["aurous-request-id"]
    assert emu.team.generations == {}
    assert client.post("/v1/images", json={"prompt": "a"}).status_code == 201
    emu.faults.fail_next("/v1/balance", status=500)
    assert client.get("/v1/balance").json()["error"]["code"] == "internal_error"
    emu.faults.fail_next("GET /v1/team", status=504)
    assert client.get("/v1/team").json()["error"]["code"] == "provider_timeout"
    emu.faults.fail_next("GET /v1/team", status=429)
    assert client.get("/v1/team").headers["retry-after"] == "1"


def test_drop_before_commit_does_nothing(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.fail_next("POST /v1/images", drop_connection=True)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/v1/images", json={"prompt": "a"}, headers={"Idempotency-Key": "k"})
    assert emu.team.generations == {}
    retry = client.post("/v1/images", json={"prompt": "a"}, headers={"Idempotency-Key": "k"})
    assert retry.status_code == 201
    assert "aurous-idempotent-replayed" not in retry.headers


def test_drop_after_commit_in_process(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.fail_next("POST /v1/images", drop_connection=True, after_commit=True)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/v1/images", json={"prompt": "a"}, headers={"Idempotency-Key": "k"})
    # The work exists: a row, a hold, and a stored idempotent result.
    (gen,) = emu.team.generations.values()
    assert client.get("/v1/balance").json()["held_credits"] == 1
    retry = client.post("/v1/images", json={"prompt": "a"}, headers={"Idempotency-Key": "k"})
    assert retry.headers["aurous-idempotent-replayed"] == "true"
    assert retry.json()["id"] == gen.id


def test_drop_after_commit_async_transport(emu: Emulator) -> None:
    emu.faults.fail_next("POST /v1/videos", drop_connection=True, after_commit=True)

    async def go() -> None:
        async with httpx.AsyncClient(
            transport=emu.async_transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
        ) as http:
            with pytest.raises(httpx.RemoteProtocolError):
                await http.post("/v1/videos", json={"prompt": "v"})
            assert (await http.get("/v1/images")).json()["data"][0]["media_type"] == "video"

    asyncio.run(go())


def test_drop_after_commit_served(emu: Emulator) -> None:
    emu.faults.fail_next("POST /v1/images", drop_connection=True, after_commit=True)
    emu.faults.fail_next("GET /v1/team", drop_connection=True)
    with (
        emu.serve() as server,
        httpx.Client(
            base_url=server.base_url, headers={"X-Api-Key": emu.api_key}, timeout=10
        ) as http,
    ):
        with pytest.raises(httpx.RemoteProtocolError):
            http.post("/v1/images", json={"prompt": "served"}, headers={"Idempotency-Key": "s"})
        with pytest.raises(httpx.RemoteProtocolError):
            http.get("/v1/team")
        listed = http.get("/v1/images").json()["data"]
        assert [row["prompt"] for row in listed] == ["served"]
        replay = http.post(
            "/v1/images", json={"prompt": "served"}, headers={"Idempotency-Key": "s"}
        )
        assert replay.headers["aurous-idempotent-replayed"] == "true"


def test_status_after_commit(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.fail_next("POST /v1/images", status=500, after_commit=True)
    response = client.post("/v1/images", json={"prompt": "a"}, headers={"Idempotency-Key": "z"})
    assert response.status_code == 500
    assert "x-ratelimit-limit" in response.headers
    assert len(emu.team.generations) == 1


def test_latency_on_the_manual_clock_and_timeouts(emu: Emulator, client: httpx.Client) -> None:
    start = emu.now()
    emu.faults.latency(2.0, "GET /v1/balance", times=1)
    assert client.get("/v1/balance").status_code == 200
    assert emu.now() == start + 2.0  # spent on the emulator clock: no real waiting
    emu.faults.latency(30.0, "POST /v1/images", times=1)
    with pytest.raises(httpx.ReadTimeout):
        client.post("/v1/images", json={"prompt": "slow"}, timeout=5.0)
    assert emu.now() == start + 7.0  # the client waited its read timeout, not the latency
    # The server finishes the work even though the client gave up, once the latency is over.
    assert emu.team.generations == {}
    emu.advance(25.0)
    assert len(emu.team.generations) == 1


def test_async_latency_and_timeout(emu: Emulator) -> None:
    emu.faults.latency(10.0, "GET /v1/team", times=1)

    async def go() -> None:
        async with httpx.AsyncClient(
            transport=emu.async_transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
        ) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get("/v1/team", timeout=1.0)
            assert (await http.get("/v1/team")).status_code == 200

    asyncio.run(go())


def test_patterns() -> None:
    assert matches("POST /v1/images", "POST", "/v1/images")
    assert not matches("POST /v1/images", "GET", "/v1/images")
    assert matches("/v1/images/*", "GET", "/v1/images/img_1")
    assert matches("GET /v1/images/{id}", "GET", "/v1/images/img_1", "/v1/images/{id}")
    assert matches("*", "DELETE", "/anything")


def test_fault_specs(emu: Emulator, client: httpx.Client) -> None:
    apply_fault_spec(emu.faults, "status=502,route=GET /v1/team,times=1")
    apply_fault_spec(emu.faults, "latency=1.5,route=GET /v1/pricing,times=1")
    apply_fault_spec(emu.faults, "fail_generation,error=output_moderation_rejected")
    assert client.get("/v1/team").status_code == 502
    before = emu.now()
    client.get("/v1/pricing")
    assert emu.now() == before + 1.5
    row = client.post("/v1/images", json={"prompt": "a"}).json()
    emu.advance(10)
    assert (
        client.get(f"/v1/images/{row['id']}").json()["error_message"]
        == "output_moderation_rejected"
    )
    apply_fault_spec(emu.faults, "drop,route=GET /v1/loras,after_commit")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/v1/loras")
    for bad in ("", "explode", "status=503,colour=red"):
        with pytest.raises(ValueError):
            apply_fault_spec(emu.faults, bad)


def test_clear_releases_everything(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.fail_next("*", status=503, times=10)
    emu.faults.clear()
    assert client.get("/v1/team").status_code == 200
