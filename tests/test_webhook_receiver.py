"""examples/webhook_receiver.py (the receiver kit in a Starlette app), served by uvicorn on a real
loopback socket."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

import aurous
from aurous import webhooks
from aurous.types import Generation

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


def _client() -> aurous.Client:
    # The receiver's client sends nothing: deliveries only wake its waits.
    return aurous.Client(api_key="al_live_receiver", base_url="http://127.0.0.1:9")


class Served:
    def __init__(self, app: Any, url: str, client: aurous.Client, lines: list[str]) -> None:
        self.app = app
        self.url = url
        self.client = client
        self.http = httpx.Client(base_url=url, timeout=10)
        self.lines = lines

    @property
    def kit(self) -> webhooks.Receiver:
        receiver: webhooks.Receiver = self.app.state.receiver
        return receiver

    def deliver(self, body: bytes, secret: str = SECRET, **headers: str) -> httpx.Response:
        signed = {HEADER: webhooks.sign(body, secret), "Content-Type": "application/json"}
        return self.http.post("/webhooks", content=body, headers={**signed, **headers})


@pytest.fixture
def served(receiver: ModuleType) -> Iterator[Served]:
    lines: list[str] = []
    with _client() as client:
        app = receiver.create_app(
            client, secret=SECRET, callback_token="cb-7f3a9", echo=lines.append
        )
        with receiver.serve_in_thread(app) as url:
            server = Served(app, url, client, lines)
            with server.http:
                yield server


def test_signed_delivery_is_accepted_and_dispatched_after_the_answer(served: Served) -> None:
    body = body_of("event.image.completed.json")
    response = served.deliver(body)
    assert response.status_code == 200
    assert response.json() == {"received": True}
    [event] = served.app.state.events.wait_for(1)
    assert event.type == "image.completed"
    assert event.id == "evt_01KS2D89D4YXBE2T2GG3AFNX7S"
    assert event.data.id == "img_01KS2D7VBRX1NC1J4R82RJEXE5"
    assert served.lines == [
        "[image.completed] evt_01KS2D89D4YXBE2T2GG3AFNX7S img_01KS2D7VBRX1NC1J4R82RJEXE5 succeeded"
    ]
    assert (served.kit.received, served.kit.rejected) == (1, 0)
    # The client now knows the generation finished: a wait on it returns without a request.
    assert served.client.images.wait(event.data.id, timeout=1).status == "succeeded"


def test_bad_signature_is_rejected_with_400_and_logged(served: Served) -> None:
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
    # Each refusal is reported by the receiver, before its 400, with its reason (never the
    # secret), and nothing reached the handlers or the client.
    assert len(served.lines) == 3
    assert all(line.startswith("[rejected] webhook verification failed: ") for line in served.lines)
    assert "no matching signature" in served.lines[0]
    assert "missing" in served.lines[1]
    assert "timestamp outside tolerance" in served.lines[2]
    assert served.app.state.rejected == [line.removeprefix("[rejected] ") for line in served.lines]
    assert not any(SECRET in line for line in served.lines)
    assert (served.kit.received, served.kit.rejected) == (0, 3)
    assert served.app.state.events.wait_for(1, timeout=0.2) == []
    assert served.client._completions.latest("img_01KS2D7VBRX1NC1J4R82RJEXE5") is None


def test_reserialised_body_fails_and_raw_body_passes(served: Served) -> None:
    raw = body_of("event.usage.balance_low.json")
    header = webhooks.sign(raw, SECRET)
    pretty = json.dumps(json.loads(raw), indent=2).encode()
    assert (
        served.http.post("/webhooks", content=pretty, headers={HEADER: header}).status_code == 400
    )
    assert served.http.post("/webhooks", content=raw, headers={HEADER: header}).status_code == 200


def test_a_duplicate_is_acknowledged_but_dispatched_once(served: Served) -> None:
    body = body_of("event.video.completed.json")
    first = served.deliver(body)
    retry = served.deliver(body)  # a retry is re-signed with a fresh timestamp, same id and body
    assert first.json() == {"received": True}
    assert retry.status_code == 200  # acknowledged, or the sender keeps retrying it
    assert retry.json() == {"received": True, "ignored": "duplicate"}
    assert len(served.app.state.events.wait_for(2, timeout=0.5)) == 1
    assert len(served.lines) == 1
    assert (served.kit.received, served.kit.rejected) == (1, 0)


def test_unknown_event_types_are_acknowledged_and_dispatched(served: Served) -> None:
    body = b'{"id":"evt_new","object":"event","type":"image.upscaled","data":{"id":"x_1"}}'
    assert served.deliver(body).status_code == 200
    served.app.state.events.wait_for(1)
    assert served.lines == ["[image.upscaled] evt_new x_1 -"]


def test_events_without_id_or_status_print_dashes(served: Served) -> None:
    assert served.deliver(body_of("event.usage.balance_low.json")).status_code == 200
    served.app.state.events.wait_for(1)
    assert served.lines == ["[usage.balance_low] evt_01KS8974G8M4EQ4KARE1T6XPYQ - -"]


def test_a_bare_post_to_another_path_or_a_get_is_not_taken(served: Served) -> None:
    assert served.http.get("/webhooks").status_code == 405
    assert served.http.post("/elsewhere", content=b"{}").status_code == 404
    assert served.kit.rejected == 0


def test_callbacks_need_the_token_and_end_the_waits_on_their_generation(served: Served) -> None:
    body = body_of("webhook_url.image.completed.json")
    data = json.loads(body)["data"]
    pending = Generation.model_validate({**data, "status": "pending", "output_urls": None})
    ended: list[Generation] = []
    waiter = threading.Thread(
        target=lambda: ended.append(
            served.client.images.wait(pending, poll_interval=30, max_poll_interval=30, timeout=10)
        )
    )
    waiter.start()

    assert served.http.post("/callbacks/guess", content=body).status_code == 404
    assert served.http.post("/callbacks/cb-7f3a9", content=b"{oops").status_code == 400
    sent = time.monotonic()
    first = served.http.post("/callbacks/cb-7f3a9", content=body)
    waiter.join(5)
    again = served.http.post("/callbacks/cb-7f3a9", content=body)

    assert first.json() == {"received": True}
    assert again.json() == {"received": True, "ignored": "stale"}  # no newer state: not taken
    assert [g.status for g in ended] == ["succeeded"]  # woken by the callback, not a poll
    assert time.monotonic() - sent < 5
    [event] = served.app.state.callbacks.events
    assert event.type == "image.completed"
    assert event.id is None
    assert served.app.state.events.events == []
    assert served.lines == [
        "[rejected] callback not understood: "
        + served.app.state.rejected[0].removeprefix("callback not understood: "),
        "[image.completed] - img_01KS2D7VBRX1NC1J4R82RJEXE5 succeeded (unsigned callback)",
    ]


def test_secret_from_environment_and_rotation(
    receiver: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUROUS_WEBHOOK_SECRET", f"{SECRET}, {OLD_SECRET}")
    body = body_of("event.character.completed.json")
    with _client() as client:
        app = receiver.create_app(client, echo=lambda line: None)
        with receiver.serve_in_thread(app) as url, httpx.Client(base_url=url) as http:
            statuses = [
                http.post(
                    "/webhooks", content=body, headers={HEADER: webhooks.sign(body, secret)}
                ).status_code
                for secret in (OLD_SECRET, SECRET, "whsec_retired")
            ]
    # The second delivery is the same event again: acknowledged, not dispatched.
    assert statuses == [200, 200, 400]
    assert [e.type for e in app.state.events.wait_for(1)] == ["character.completed"]


def test_injected_clock_accepts_a_sender_on_a_fake_clock(receiver: ModuleType) -> None:
    signed_at = 1779468310
    body = body_of("event.usage.balance_low.json")
    header = webhooks.sign(body, SECRET, timestamp=signed_at)
    with _client() as client:
        app = receiver.create_app(
            client, secret=SECRET, clock=lambda: signed_at + 60, echo=lambda line: None
        )
        with receiver.serve_in_thread(app) as url, httpx.Client(base_url=url) as http:
            assert http.post("/webhooks", content=body, headers={HEADER: header}).status_code == 200
    assert app.state.events.wait_for(1, timeout=5)[0].type == "usage.balance_low"


def test_event_log_wait_for_returns_what_arrived(receiver: ModuleType) -> None:
    log = receiver.EventLog()
    assert log.wait_for(1, timeout=0) == []
    event = webhooks.parse_callback({"event": "x.test", "data": {}})
    threading.Timer(0.05, log.add, args=(event,)).start()
    assert log.wait_for(1, timeout=5) == [event]
    assert len(log) == 1


def test_main_refuses_to_start_without_a_secret_or_a_key(
    receiver: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AUROUS_API_KEY", raising=False)
    monkeypatch.setenv("AUROUS_WEBHOOK_SECRET", " , ")
    assert receiver.main(["--port", "0"]) == 2
    assert "AUROUS_WEBHOOK_SECRET" in capsys.readouterr().err
    monkeypatch.setenv("AUROUS_WEBHOOK_SECRET", SECRET)
    assert receiver.main(["--port", "0"]) == 2
    assert "AUROUS_API_KEY" in capsys.readouterr().err
