"""Small pieces: ULIDs, timestamps, JSON encoding, canonical JSON, the ASGI lifespan."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal
from typing import Any

import pytest

from aurous.emulator import Emulator, EmuRequest, ManualClock
from aurous.emulator._clock import format_timestamp, parse_timestamp
from aurous.emulator._http import canonical_json, dumps
from aurous.emulator._ids import IdMint, decode_ulid_time

ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def test_ulids_encode_time_and_stay_monotonic() -> None:
    mint = IdMint(seed=1)
    at = 1779271200.123
    ids = [mint.ulid(at) for _ in range(50)]
    assert all(ULID.match(i) for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == 50
    assert decode_ulid_time(ids[0]) == 1779271200123
    # A fixture id decodes to its created_at (2026-05-20T10:00:00Z).
    assert decode_ulid_time("01KS2D7VBRX1NC1J4R82RJEXE5") // 1000 == 1779271200
    assert IdMint(seed=5).api_key() == IdMint(seed=5).api_key()
    assert re.match(r"^al_live_[0-9a-f]{64}$", IdMint().api_key())


def test_timestamps() -> None:
    assert format_timestamp(1779271200.999) == "2026-05-20T10:00:00Z"
    assert parse_timestamp("2026-05-20T10:00:00Z") == 1779271200
    assert parse_timestamp("2026-05-20T00:00:00.000Z") == 1779235200
    assert parse_timestamp("2026-05-20T12:00:00+02:00") == 1779271200
    for bad in ("2026-05-20", "2026-02-30T00:00:00Z", "2026-05-20T10:00:00", "soon"):
        assert parse_timestamp(bad) is None


def test_credits_are_exact_decimals_on_the_wire() -> None:
    value = {"a": Decimal("2.0"), "b": Decimal("3.75"), "c": Decimal("1023.49"), "d": [Decimal(0)]}
    assert dumps(value) == b'{"a":2,"b":3.75,"c":1023.49,"d":[0]}'
    assert dumps(Decimal("0.1") + Decimal("0.2")) == b"0.3"


def test_canonical_json() -> None:
    assert canonical_json({"a": 1, "b": [1, 2]}) == canonical_json({"b": [1.0, 2], "a": 1e0})
    assert canonical_json([1, 2]) != canonical_json([2, 1])
    assert canonical_json({"a": True}) != canonical_json({"a": 1})


def test_manual_clock() -> None:
    clock = ManualClock(100)
    clock.sleep(5)
    asyncio.run(clock.asleep(1))
    assert clock.now() == 106
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_handle_plain_request_values() -> None:
    emu = Emulator(clock="manual")
    response = emu.handle(EmuRequest.build("GET", "/v1/team", headers={"X-API-KEY": emu.api_key}))
    assert response.status == 200
    assert response.header("content-type") == "application/json"
    assert response.header(
        "Aurous-Request-Id",
    ).startswith("req_")  # type: ignore[union-attr]


def test_constructor_validation() -> None:
    with pytest.raises(ValueError):
        Emulator(clock="sundial")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Emulator(speed=0)
    with pytest.raises(TypeError):
        Emulator().advance(1)
    emu = Emulator(
        clock="manual", seed=3, credits="12.5", billing_mode="exempt", api_key="og_fixed"
    )
    assert emu.api_key == "og_fixed"
    assert emu.team.credits == Decimal("12.5")
    assert emu.team.billing_mode == "exempt"
    with pytest.raises(ValueError):
        emu.create_api_key(scope="admin")


def test_accept_any_key() -> None:
    emu = Emulator(clock="manual", accept_any_key=True)
    response = emu.handle(
        EmuRequest.build(
            "POST", "/v1/images", headers={"X-Api-Key": "anything"}, body=b'{"prompt":"x"}'
        )
    )
    assert response.status == 201


def test_asgi_lifespan_and_http() -> None:
    emu = Emulator(clock="manual")
    sent: list[dict[str, Any]] = []
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(emu.asgi_app({"type": "lifespan"}, receive, send))  # type: ignore[arg-type]
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    sent.clear()
    inbox[:] = [{"type": "http.request", "body": b"", "more_body": False}]
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v1/pricing",
        "query_string": b"",
        "headers": [(b"host", b"example.test:9"), (b"x-api-key", emu.api_key.encode())],
    }
    asyncio.run(emu.asgi_app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 200
    assert b'"object":"pricing"' in sent[1]["body"]
