"""Generation lifecycle on controllable clocks (no real sleeping)."""

from __future__ import annotations

from typing import Any

import httpx

from aurous.emulator import Emulator, EventHooks
from aurous.emulator._ids import decode_ulid_time
from aurous.emulator._state import Team


def _status(client: httpx.Client, gen_id: str) -> str:
    return str(client.get(f"/v1/images/{gen_id}").json()["status"])


def test_image_phases_on_the_manual_clock(emu: Emulator, client: httpx.Client) -> None:
    row = client.post("/v1/images", json={"prompt": "a"}).json()
    assert row["created_at"] == "2026-05-20T10:00:00Z"
    assert decode_ulid_time(row["id"][4:]) == int(emu.now() * 1000)
    emu.advance(0.49)
    assert _status(client, row["id"]) == "pending"
    emu.advance(0.01)
    assert _status(client, row["id"]) == "processing"
    emu.advance(1.49)
    assert _status(client, row["id"]) == "processing"
    emu.advance(0.01)
    final = client.get(f"/v1/images/{row['id']}").json()
    assert final["status"] == "succeeded"
    assert final["duration_ms"] == 2000
    assert final["completed_at"] == "2026-05-20T10:00:02Z"
    assert isinstance(final["seed"], int)
    # Terminal rows never change again.
    emu.advance(3600)
    assert client.get(f"/v1/images/{row['id']}").json() == final


def test_transitions_use_scheduled_times_even_when_observed_late(
    emu: Emulator, client: httpx.Client
) -> None:
    row = client.post("/v1/videos", json={"prompt": "v"}).json()
    emu.advance(3600)
    final = client.get(f"/v1/images/{row['id']}").json()
    assert final["duration_ms"] == 5000
    assert final["completed_at"] == "2026-05-20T10:00:05Z"


def test_requested_seed_is_echoed() -> None:
    emu = Emulator(clock="manual", instant=True)
    with httpx.Client(
        transport=emu.transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
    ) as http:
        row = http.post("/v1/images", json={"prompt": "a", "seed": 42}).json()
        assert row["status"] == "pending"
        # Instant mode: terminal on the very next read.
        final = http.get(f"/v1/images/{row['id']}").json()
    assert final["status"] == "succeeded"
    assert final["seed"] == 42
    assert final["duration_ms"] == 0


def test_speed_divides_durations() -> None:
    emu = Emulator(clock="manual", speed=4)
    with httpx.Client(
        transport=emu.transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
    ) as http:
        row = http.post("/v1/images", json={"prompt": "a"}).json()
        emu.advance(0.5)
        assert http.get(f"/v1/images/{row['id']}").json()["status"] == "succeeded"


def test_custom_phases_and_forced_outcomes() -> None:
    emu = Emulator(clock="manual", image_phases=(1, 1))
    emu.faults.fail_generation(error_message="provider_timeout")
    with httpx.Client(
        transport=emu.transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
    ) as http:
        failing = http.post("/v1/images", json={"prompt": "a"}).json()
        fine = http.post("/v1/images", json={"prompt": "a"}).json()
        later = http.post("/v1/images", json={"prompt": "a"}).json()
        emu.faults.fail_generation(later["id"], status="expired", error_message="provider_timeout")
        emu.advance(2)
        rows = {
            g: http.get(f"/v1/images/{g}").json() for g in (failing["id"], fine["id"], later["id"])
        }
    assert (rows[failing["id"]]["status"], rows[failing["id"]]["error_message"]) == (
        "failed",
        "provider_timeout",
    )
    assert rows[fine["id"]]["status"] == "succeeded"
    assert rows[later["id"]]["status"] == "expired"
    assert rows[later["id"]]["cost"]["amount"] == 0


def test_prompt_markers(emu: Emulator, client: httpx.Client) -> None:
    ids = {
        marker: client.post("/v1/images", json={"prompt": f"x {marker}"}).json()["id"]
        for marker in ("[fail]", "[timeout]", "[unavailable]", "[expire]")
    }
    emu.advance(10)
    seen = {m: client.get(f"/v1/images/{i}").json() for m, i in ids.items()}
    assert seen["[fail]"]["error_message"] == "internal_error"
    assert seen["[timeout]"]["error_message"] == "provider_timeout"
    assert seen["[unavailable]"]["error_message"] == "provider_unavailable"
    assert seen["[expire]"]["status"] == "expired"


def test_events_and_callbacks_are_emitted_at_terminal_transitions(
    emu: Emulator, client: httpx.Client
) -> None:
    seen: list[tuple[str, str]] = []

    class Recorder(EventHooks):
        def emit_event(self, team: Team, type: str, data: dict[str, Any], at: float) -> None:
            seen.append(("event", type))

        def emit_callback(
            self, team: Team, url: str, event: str, data: dict[str, Any], at: float
        ) -> None:
            seen.append(("callback", event))

    emu.hooks = Recorder()
    hook = "https://hooks.example/cb"
    ok = client.post("/v1/images", json={"prompt": "a", "webhook_url": hook}).json()
    bad = client.post("/v1/videos", json={"prompt": "a [fail]", "webhook_url": hook}).json()
    gone = client.post("/v1/images", json={"prompt": "a", "webhook_url": hook}).json()
    client.post(f"/v1/images/{gone['id']}/cancel")
    emu.advance(60)
    assert sorted(seen) == sorted(
        [
            ("event", "image.cancelled"),
            ("event", "image.completed"),
            ("callback", "image.completed"),
            ("event", "video.failed"),
            ("callback", "video.failed"),
        ]
    )
    events = {record.type: record for record in emu.events()}
    assert events["image.completed"].data["id"] == ok["id"]
    assert (
        events["image.completed"].data["output_urls"][0].startswith("http://aurous.emulator.local/")
    )
    assert events["video.failed"].data["id"] == bad["id"]
    assert [c.url for c in emu.callbacks()] == [hook, hook]


def test_real_clock_instant_mode() -> None:
    emu = Emulator(instant=True)
    with httpx.Client(
        transport=emu.transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
    ) as http:
        row = http.post("/v1/images", json={"prompt": "a"}).json()
        assert http.get(f"/v1/images/{row['id']}").json()["status"] == "succeeded"
