"""The example webhook receiver, served by uvicorn on a real loopback socket."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from aurous import webhooks

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "webhook_receiver.py"
FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "whsec_Zt3nQ8vJk2LmR5wXy7Bc9DfGh4Ps6Ua1"
OLD_SECRET = "whsec_Aa0Bb1Cc2Dd3Ee4Ff5Gg6Hh7Ii8Jj9Kk"
HEADER = webhooks.SIGNATURE_HEADER


@pytest.fixture(scope="module")
def receiver() -> ModuleType:
    spec = importlib.util.spec_from_file_location("webhook_receiver_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def body_of(name: str) -> bytes:
    obj = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


class Served:
    def __init__(self, app: Any, url: str) -> None:
        self.app = app
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10)
        self.lines: list[str] = []

    def deliver(self, body: bytes, secret: str = SECRET, **headers: str) -> httpx.Response:
        signed = {HEADER: webhooks.sign(body, secret), "Content-Type": "application/json"}
        return self.http.post("/webhooks", content=body, headers={**signed, **headers})


@pytest.fixture
def served(receiver: ModuleType) -> Iterator[Served]:
    lines: list[str] = []
    app = receiver.create_app(secret=SECRET, callback_token="cb-7f3a9", echo=lines.append)
    with receiver.serve_in_thread(app) as url:
        server = Served(app, url)
        server.lines = lines
        with server.http:
            yield server


def test_signed_delivery_is_accepted_and_recorded(served: Served) -> None:
    body = body_of("event.image.completed.json")
    response = served.deliver(body)
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    [event] = served.app.state.events
    assert event.type == "image.completed"
    assert event.id == "evt_01KS2D89D4YXBE2T2GG3AFNX7S"
    assert event.data.id == "img_01KS2D7VBRX1NC1J4R82RJEXE5"
    assert served.lines == [
        "[image.completed] evt_01KS2D89D4YXBE2T2GG3AFNX7S img_01KS2D7VBRX1NC1J4R82RJEXE5 succeeded"
    ]


def test_bad_signature_is_rejected_with_400(served: Served) -> None:
    body = body_of("event.image.completed.json")
    forged = served.deliver(body, secret="whsec_attacker")
    assert forged.status_code == 400
    assert "no matching signature" in forged.text
    assert SECRET not in forged.text
    unsigned = served.http.post("/webhooks", content=body)
    assert unsigned.status_code == 400
    assert "missing" in unsigned.text
    stale = served.http.post(
        "/webhooks",
        content=body,
        headers={HEADER: webhooks.sign(body, SECRET, timestamp=int(time.time()) - 3600)},
    )
    assert stale.status_code == 400
    assert served.app.state.events == []
    # Each refusal is reported by the receiver too, with its reason and never the secret.
    assert len(served.lines) == 3
    assert all(line.startswith("[rejected] webhook verification failed: ") for line in served.lines)
    assert "no matching signature" in served.lines[0]
    assert "missing" in served.lines[1]
    assert served.app.state.rejected == [line.removeprefix("[rejected] ") for line in served.lines]
    assert not any(SECRET in line for line in served.lines)


def test_reserialised_body_fails_and_raw_body_passes(served: Served) -> None:
    raw = body_of("event.usage.balance_low.json")
    header = webhooks.sign(raw, SECRET)
    pretty = json.dumps(json.loads(raw), indent=2).encode()
    assert (
        served.http.post("/webhooks", content=pretty, headers={HEADER: header}).status_code == 400
    )
    assert served.http.post("/webhooks", content=raw, headers={HEADER: header}).status_code == 200


def test_duplicates_are_acknowledged_but_recorded_once(served: Served) -> None:
    body = body_of("event.video.completed.json")
    first = served.deliver(body)
    retry = served.deliver(body)  # a retry is re-signed with a fresh timestamp, same id and body
    assert first.json() == {"received": True, "duplicate": False}
    assert retry.status_code == 200
    assert retry.json() == {"received": True, "duplicate": True}
    assert len(served.app.state.events) == 1
    assert len(served.lines) == 1


def test_unknown_event_types_are_acknowledged(served: Served) -> None:
    body = b'{"id":"evt_new","object":"event","type":"image.upscaled","data":{"id":"x_1"}}'
    assert served.deliver(body).status_code == 200
    assert served.lines == ["[image.upscaled] evt_new x_1 -"]


def test_events_without_id_or_status_print_dashes(served: Served) -> None:
    assert served.deliver(body_of("event.usage.balance_low.json")).status_code == 200
    assert served.lines == ["[usage.balance_low] evt_01KS8974G8M4EQ4KARE1T6XPYQ - -"]


def test_callbacks_need_the_token_and_are_deduplicated(served: Served) -> None:
    body = body_of("webhook_url.image.completed.json")
    assert served.http.post("/callbacks/guess", content=body).status_code == 404
    assert served.http.post("/callbacks/cb-7f3a9", content=b"{oops").status_code == 400
    first = served.http.post("/callbacks/cb-7f3a9", content=body)
    again = served.http.post("/callbacks/cb-7f3a9", content=body)
    assert first.json() == {"received": True, "duplicate": False}
    assert again.json() == {"received": True, "duplicate": True}
    [event] = served.app.state.callbacks
    assert event.type == "image.completed"
    assert event.id is None
    assert served.app.state.events == []
    assert served.lines == [
        "[rejected] callback not understood: "
        + served.app.state.rejected[0].removeprefix("callback not understood: "),
        "[image.completed] - img_01KS2D7VBRX1NC1J4R82RJEXE5 succeeded (unsigned callback)",
    ]


def test_secret_from_environment_and_rotation(
    receiver: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUROUS_WEBHOOK_SECRET", f"{SECRET}, {OLD_SECRET}")
    app = receiver.create_app(echo=lambda line: None)
    body = body_of("event.character.completed.json")
    with receiver.serve_in_thread(app) as url, httpx.Client(base_url=url) as http:
        for secret in (OLD_SECRET, SECRET):
            response = http.post(
                "/webhooks", content=body, headers={HEADER: webhooks.sign(body, secret)}
            )
            assert response.status_code == 200
        response = http.post(
            "/webhooks", content=body, headers={HEADER: webhooks.sign(body, "whsec_retired")}
        )
        assert response.status_code == 400
    assert [e.type for e in app.state.events] == ["character.completed"]


def test_injected_clock_accepts_a_sender_on_a_fake_clock(receiver: ModuleType) -> None:
    signed_at = 1779468310
    app = receiver.create_app(secret=SECRET, clock=lambda: signed_at + 60, echo=lambda line: None)
    body = body_of("event.usage.balance_low.json")
    header = webhooks.sign(body, SECRET, timestamp=signed_at)
    with receiver.serve_in_thread(app) as url, httpx.Client(base_url=url) as http:
        assert http.post("/webhooks", content=body, headers={HEADER: header}).status_code == 200
    assert app.state.event_log.wait_for(1, timeout=0)[0].type == "usage.balance_low"


def test_event_log_wait_for_returns_what_arrived(receiver: ModuleType) -> None:
    log = receiver.EventLog()
    assert log.wait_for(1, timeout=0) == []
    event = webhooks.parse_callback({"event": "x.test", "data": {}})
    assert log.add("k", event) is True
    assert log.add("k", event) is False
    assert log.wait_for(1, timeout=0) == [event]


def test_main_refuses_to_start_without_a_secret(
    receiver: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUROUS_WEBHOOK_SECRET", " , ")
    assert receiver.main(["--port", "0"]) == 2
    assert "AUROUS_WEBHOOK_SECRET" in capsys.readouterr().err
