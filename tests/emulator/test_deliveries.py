"""Webhook delivery by the emulator: signing, retries, bookkeeping,
auto-disable, rotation, test fires, per-request callbacks, and real HTTP delivery."""

from __future__ import annotations

import http.server
import json
import re
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

import aurous
from aurous._signature import SIGNATURE_HEADER, compute_signature
from aurous.emulator import Emulator, EmulatorConfig
from aurous.emulator._webhooks import DeliveryAttempt, OutgoingWebhook, WebhookSettings

HEADER = re.compile(r"^t=(\d+),v1=([0-9a-f]{64})$")
HOOK = "https://hooks.acme.dev/aurous"
DONE = 2.0  # default image phases: 0.5 s pending + 1.5 s processing
SCHEDULE = [0, 10, 30, 70, 150, 310, 630, 1270]  # 10 s doubling, seconds after the event


class Inbox:
    """An in-memory receiver: answers ``status_for(url)`` (default 200) and keeps requests."""

    def __init__(self) -> None:
        self.requests: list[OutgoingWebhook] = []
        self.status: dict[str, int | Callable[[OutgoingWebhook], int]] = {}

    def __call__(self, request: OutgoingWebhook) -> int:
        self.requests.append(request)
        answer = self.status.get(request.url, 200)
        return answer(request) if callable(answer) else answer


@pytest.fixture
def inbox(emu: Emulator) -> Inbox:
    receiver = Inbox()
    emu.webhooks.sender = receiver
    return receiver


def endpoint(client: httpx.Client, url: str = HOOK, events: list[str] | None = None) -> Any:
    body = {"url": url, "events": events or ["image.completed", "image.failed", "image.cancelled"]}
    response = client.post("/v1/webhook_endpoints", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def image(client: httpx.Client, prompt: str = "a lighthouse", **extra: Any) -> Any:
    response = client.post("/v1/images", json={"prompt": prompt, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def signature(attempt: DeliveryAttempt) -> tuple[int, str]:
    header = attempt.headers[SIGNATURE_HEADER]
    match = HEADER.match(header)
    assert match is not None, header
    return int(match.group(1)), match.group(2)


def verifies(attempt: DeliveryAttempt, secret: str) -> bool:
    t, v1 = signature(attempt)
    return compute_signature(secret, t, attempt.body) == v1


def to(emu: Emulator, endpoint_id: str) -> list[DeliveryAttempt]:
    return [d for d in emu.deliveries if d.endpoint_id == endpoint_id]


# ----------------------------------------------------------------------------- signed events
def test_a_completed_generation_is_delivered_signed(
    emu: Emulator, client: httpx.Client, inbox: Inbox
) -> None:
    first = endpoint(client)
    second = endpoint(client, url="https://second.example.com/h")
    unsubscribed = endpoint(client, url="https://video.example.com/h", events=["video.completed"])
    paused = endpoint(client, url="https://paused.example.com/h")
    client.patch(f"/v1/webhook_endpoints/{paused['id']}", json={"is_active": False})
    gen = image(client)
    emu.advance(DONE)

    one, two = emu.deliveries
    assert (one.endpoint_id, two.endpoint_id) == (first["id"], second["id"])
    assert to(emu, unsubscribed["id"]) == to(emu, paused["id"]) == []
    assert one.kind == "event"
    assert (one.url, one.attempt, one.status, one.ok, one.sent) == (HOOK, 1, 200, True, True)
    assert one.headers["Content-Type"] == "application/json"
    t, _ = signature(one)
    assert t == int(emu.now())
    assert verifies(one, first["secret"])
    assert not verifies(one, second["secret"])
    assert verifies(two, second["secret"])
    # What a receiver using the SDK does with the delivery.
    assert one.signature is not None
    verified = aurous.webhooks.verify(one.body, one.signature, first["secret"], now=emu.now())
    assert verified.type == "image.completed"

    envelope = one.json()
    row = client.get(f"/v1/images/{gen['id']}").json()
    assert envelope == {
        "id": envelope["id"],
        "object": "event",
        "type": "image.completed",
        "created_at": row["completed_at"],
        "api_version": "2026-05-15",
        "synthetic": False,
        "data": row,
    }
    assert envelope["id"].startswith("evt_")
    # Compact JSON; the same bytes (and event id) for every endpoint.
    assert one.body == json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()
    assert one.body == two.body
    assert [r.body for r in inbox.requests] == [one.body, two.body]

    read = client.get(f"/v1/webhook_endpoints/{first['id']}").json()
    assert (read["consecutive_failures"], read["last_success_at"]) == (0, row["completed_at"])


def test_failed_and_cancelled_generations(
    emu: Emulator, client: httpx.Client, inbox: Inbox
) -> None:
    endpoint(client)
    image(client, prompt="[fail] please")
    pending = image(client)
    client.post(f"/v1/images/{pending['id']}/cancel")
    emu.advance(DONE)
    types = [d.event_type for d in emu.deliveries]
    assert types == ["image.cancelled", "image.failed"]


# ----------------------------------------------------------------------------- retries
def test_retry_schedule_on_the_manual_clock(
    emu: Emulator, client: httpx.Client, inbox: Inbox
) -> None:
    row = endpoint(client)
    inbox.status[HOOK] = 500
    image(client)
    emu.advance(DONE)
    event_at = emu.now()
    assert len(emu.deliveries) == 1
    for count, offset in enumerate(SCHEDULE[1:], start=2):
        emu.advance(event_at + offset - emu.now() - 0.5)
        assert len(emu.deliveries) == count - 1, f"attempt {count} came early"
        emu.advance(0.5)
        assert len(emu.deliveries) == count, f"attempt {count} is late"
    emu.advance(24 * 3600)
    attempts = emu.deliveries
    assert len(attempts) == 8  # then the event is dropped for this endpoint
    assert [a.at - event_at for a in attempts] == SCHEDULE
    assert [a.attempt for a in attempts] == list(range(1, 9))
    assert len({a.body for a in attempts}) == 1  # the same body (and event id) every time
    assert [signature(a)[0] for a in attempts] == [int(event_at + s) for s in SCHEDULE]
    assert all(verifies(a, row["secret"]) and not a.ok for a in attempts)
    read = client.get(f"/v1/webhook_endpoints/{row['id']}").json()
    assert read["consecutive_failures"] == 8
    assert read["is_active"] is True
    assert read["last_success_at"] is None
    assert read["last_failure_at"] == "2026-05-20T10:21:12Z"  # event + 1270 s


def test_a_jump_of_the_clock_makes_every_due_attempt_at_its_time(
    emu: Emulator, client: httpx.Client, inbox: Inbox
) -> None:
    endpoint(client)
    inbox.status[HOOK] = 503
    image(client)
    emu.advance(DONE + 100)
    assert [a.at - emu.now() + 100 for a in emu.deliveries] == [0, 10, 30, 70]


def test_redirects_and_errors_are_failures_then_success_resets(
    emu: Emulator, client: httpx.Client, inbox: Inbox
) -> None:
    row = endpoint(client)
    answers = iter([302, 0, 204])

    def answer(request: OutgoingWebhook) -> int:
        status = next(answers)
        if status == 0:
            raise ConnectionRefusedError("nobody listening")
        return status

    inbox.status[HOOK] = answer
    image(client)
    emu.advance(DONE + 30)
    first, second, third = emu.deliveries
    assert (first.status, first.ok) == (302, False)
    assert (second.status, second.ok) == (None, False)
    assert second.error is not None
    assert "nobody listening" in second.error
    assert (third.status, third.ok) == (204, True)
    read = client.get(f"/v1/webhook_endpoints/{row['id']}").json()
    assert read["consecutive_failures"] == 0
    assert read["last_success_at"] == "2026-05-20T10:00:32Z"
    assert read["last_failure_at"] == "2026-05-20T10:00:12Z"


def test_without_a_receiver_attempts_are_recorded_as_acknowledged(
    emu: Emulator, client: httpx.Client
) -> None:
    endpoint(client)
    image(client)
    emu.advance(DONE)
    (attempt,) = emu.deliveries
    assert (attempt.sent, attempt.ok, attempt.status) == (False, True, None)
    assert emu.webhooks.pending() == 0


# ----------------------------------------------------------------------------- auto-disable
def test_auto_disable_after_twenty_failures(
    emu: Emulator, client: httpx.Client, inbox: Inbox
) -> None:
    failing = endpoint(client)
    watcher = endpoint(
        client, url="https://ops.example.com/h", events=["webhook.endpoint_disabled"]
    )
    inbox.status[HOOK] = 500
    for _ in range(3):
        image(client)
    emu.advance(DONE)
    event_at = emu.now()
    emu.advance(3600)

    failures = to(emu, failing["id"])
    assert len(failures) == 20  # 3 events × 8 attempts would be 24: the queue was dropped
    disabled_at = failures[-1].at
    assert disabled_at == event_at + 630  # attempt 7 of the second event
    read = client.get(f"/v1/webhook_endpoints/{failing['id']}").json()
    assert (read["is_active"], read["consecutive_failures"]) == (False, 20)
    assert read["updated_at"] == "2026-05-20T10:10:32Z"

    (notice,) = to(emu, watcher["id"])
    assert notice.event_type == "webhook.endpoint_disabled"
    assert verifies(notice, watcher["secret"])
    envelope = notice.json()
    assert envelope["created_at"] == read["updated_at"]
    assert envelope["data"] == read
    assert envelope["data"]["secret"] is None

    image(client)
    emu.advance(3600)
    assert len(to(emu, failing["id"])) == 20  # inactive endpoints get nothing

    # Re-enabling resets the counter; events from the inactive period are not replayed.
    inbox.status[HOOK] = 200
    enabled = client.patch(f"/v1/webhook_endpoints/{failing['id']}", json={"is_active": True})
    assert (enabled.json()["is_active"], enabled.json()["consecutive_failures"]) == (True, 0)
    emu.advance(3600)
    assert len(to(emu, failing["id"])) == 20
    image(client)
    emu.advance(DONE)
    assert to(emu, failing["id"])[-1].ok


def test_a_recent_success_prevents_auto_disable() -> None:
    settings = WebhookSettings(max_attempts=25, first_retry_delay=1, retry_cap=1)
    emu = Emulator(clock="manual", config=EmulatorConfig(webhooks=settings))
    inbox = Inbox()
    emu.webhooks.sender = inbox
    with httpx.Client(
        transport=emu.transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
    ) as client:
        row = endpoint(client)
        image(client)
        emu.advance(DONE)  # success
        inbox.status[HOOK] = 500
        image(client)
        emu.advance(DONE + 60)
        read = client.get(f"/v1/webhook_endpoints/{row['id']}").json()
        assert (read["consecutive_failures"], read["is_active"]) == (25, True)
        emu.advance(24 * 3600)
        image(client)
        emu.advance(DONE)
        read = client.get(f"/v1/webhook_endpoints/{row['id']}").json()
        assert (read["consecutive_failures"], read["is_active"]) == (26, False)


# ----------------------------------------------------------------------------- rotation
def test_rotation_signs_the_next_attempt_with_the_new_secret(
    emu: Emulator, client: httpx.Client, inbox: Inbox
) -> None:
    row = endpoint(client)
    inbox.status[HOOK] = 500
    image(client)
    emu.advance(DONE)
    emu.advance(5)
    rotated = client.post(f"/v1/webhook_endpoints/{row['id']}/rotate_secret").json()
    inbox.status[HOOK] = 200
    emu.advance(5)
    before, after = emu.deliveries
    assert verifies(before, row["secret"])
    assert verifies(after, rotated["secret"])
    assert not verifies(after, row["secret"])  # no grace period, no dual signing
    assert after.body == before.body
    assert signature(after)[0] == signature(before)[0] + 10


# ----------------------------------------------------------------------------- test fires
def test_test_fire_reaches_an_inactive_endpoint(
    emu: Emulator, client: httpx.Client, inbox: Inbox
) -> None:
    row = endpoint(client)
    path = f"/v1/webhook_endpoints/{row['id']}"
    client.patch(path, json={"is_active": False})
    image(client)
    emu.advance(DONE)
    assert emu.deliveries == []  # real events skip inactive endpoints

    inbox.status[HOOK] = 500
    fired = client.post(f"{path}/test", json={"event_type": "image.failed"}).json()
    (attempt,) = emu.deliveries
    envelope = attempt.json()
    assert (envelope["id"], envelope["synthetic"], envelope["type"]) == (
        fired["event_id"],
        True,
        "image.failed",
    )
    assert attempt.synthetic
    assert verifies(attempt, row["secret"])
    emu.advance(10)  # retried like any delivery
    assert len(emu.deliveries) == 2
    read = client.get(path).json()
    assert (read["consecutive_failures"], read["is_active"]) == (2, False)
    inbox.status[HOOK] = 200
    emu.advance(20)
    read = client.get(path).json()
    assert (read["consecutive_failures"], read["is_active"]) == (0, False)
    assert read["last_success_at"] is not None


def test_deleting_or_pausing_drops_queued_retries(
    emu: Emulator, client: httpx.Client, inbox: Inbox
) -> None:
    deleted = endpoint(client)
    paused = endpoint(client, url="https://paused.example.com/h")
    inbox.status[HOOK] = inbox.status["https://paused.example.com/h"] = 500
    image(client)
    emu.advance(DONE)
    assert emu.webhooks.pending() == 2
    client.delete(f"/v1/webhook_endpoints/{deleted['id']}")
    client.patch(f"/v1/webhook_endpoints/{paused['id']}", json={"is_active": False})
    emu.advance(3600)
    assert len(emu.deliveries) == 2
    assert emu.webhooks.pending() == 0


# ----------------------------------------------------------------------------- callbacks
def test_per_request_callbacks(emu: Emulator, client: httpx.Client, inbox: Inbox) -> None:
    callback = "https://cb.example.com/only-we-know"
    inbox.status[callback] = 500
    registered = endpoint(client)
    gen = image(client, webhook_url=callback)
    emu.advance(DONE)
    event_at = emu.now()
    emu.advance(1.99)
    assert len([d for d in emu.deliveries if d.kind == "callback"]) == 1
    emu.advance(0.01)
    assert len([d for d in emu.deliveries if d.kind == "callback"]) == 2
    emu.advance(3600)
    calls = [d for d in emu.deliveries if d.kind == "callback"]
    assert [c.at - event_at for c in calls] == [0, 2, 4]  # 3 attempts, 2 s apart
    assert all(SIGNATURE_HEADER not in c.headers for c in calls)  # unsigned
    assert calls[0].headers == {"Content-Type": "application/json"}
    body = calls[0].json()
    assert body == {
        "event": "image.completed",
        "data": client.get(f"/v1/images/{gen['id']}").json(),
    }
    assert (calls[0].event_id, calls[0].endpoint_id) == (None, None)
    # No bookkeeping for callbacks; the registered endpoint got its own delivery.
    (event,) = to(emu, registered["id"])
    assert event.ok
    assert event.json()["data"] == body["data"]

    failed = image(client, prompt="[fail]", webhook_url=callback)
    cancelled = image(client, webhook_url=callback)
    client.post(f"/v1/images/{cancelled['id']}/cancel")
    inbox.status[callback] = 200
    emu.advance(DONE)
    later = [d for d in emu.deliveries if d.kind == "callback"][3:]
    assert [(c.json()["event"], c.json()["data"]["id"]) for c in later] == [
        ("image.failed", failed["id"])
    ]  # nothing for the cancelled generation


# ----------------------------------------------------------------------------- other events
def test_character_and_low_balance_events_are_delivered() -> None:
    config = EmulatorConfig(low_balance_threshold=Decimal(996))
    emu = Emulator(clock="manual", config=config)
    inbox = Inbox()
    emu.webhooks.sender = inbox
    body = {"name": "Okafor", "generate": True, "attributes": {"age": 41}}
    with httpx.Client(
        transport=emu.transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
    ) as client:
        row = endpoint(client, events=["*"])
        client.post("/v1/characters", json=body)
        client.post("/v1/characters", json=body)  # within the hour: no second balance_low
        emu.advance(5)
        types = [d.event_type for d in emu.deliveries]
        assert types == ["usage.balance_low", "character.completed", "character.completed"]
        low = emu.deliveries[0].json()
        assert low["data"] == {
            "credits": 996,
            "held_credits": 0,
            "available_credits": 996,
            "currency": "credit",
            "billing_mode": "metered",
        }
        assert all(verifies(d, row["secret"]) for d in emu.deliveries)
        emu.advance(3600)
        client.post("/v1/characters", json=body)
        assert [d.event_type for d in emu.deliveries].count("usage.balance_low") == 2


# ----------------------------------------------------------------------------- real HTTP
def test_http_delivery_through_a_transport_does_not_follow_redirects() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(307, headers={"Location": "https://elsewhere.example.com/"})
        return httpx.Response(200)

    settings = WebhookSettings(transport=httpx.MockTransport(handler))
    emu = Emulator(clock="manual", config=EmulatorConfig(webhooks=settings))
    try:
        with httpx.Client(
            transport=emu.transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
        ) as client:
            row = endpoint(client)
            image(client)
            emu.advance(DONE)
            assert emu.webhooks.flush()
            emu.advance(10)
            assert emu.webhooks.flush()
        assert [str(r.url) for r in seen] == [HOOK, HOOK]
        first, second = emu.deliveries
        assert (first.status, first.ok, second.status, second.ok) == (307, False, 200, True)
        assert first.sent
        assert second.sent
        assert seen[1].content == first.body
        t, v1 = seen[1].headers[SIGNATURE_HEADER].removeprefix("t=").split(",v1=")
        assert compute_signature(row["secret"], int(t), seen[1].content) == v1
    finally:
        emu.close()


class _Receiver(http.server.BaseHTTPRequestHandler):
    """Records each POST; while handling it, calls the emulator back (the core lock must be
    free during delivery)."""

    received: list[tuple[dict[str, str], bytes, int | None]]
    arrived: threading.Event
    api: tuple[str, str] | None = None

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = None
        if self.api is not None:
            base_url, key = self.api
            gen_id = json.loads(body)["data"]["id"]
            callback = httpx.get(f"{base_url}/v1/images/{gen_id}", headers={"X-Api-Key": key})
            status = callback.status_code
        self.received.append((dict(self.headers), body, status))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.arrived.set()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


@pytest.fixture
def receiver() -> Iterator[tuple[http.server.ThreadingHTTPServer, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"received": [], "arrived": threading.Event()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server, handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_served_emulator_delivers_to_a_loopback_receiver(
    receiver: tuple[http.server.ThreadingHTTPServer, type[_Receiver]],
) -> None:
    server, handler = receiver
    emu = Emulator(clock="manual", allow_http_webhooks=True)
    try:
        with emu.serve(host="127.0.0.1", port=0) as srv:
            handler.api = (srv.base_url, emu.api_key)
            with httpx.Client(
                base_url=srv.base_url, headers={"X-Api-Key": emu.api_key}, timeout=10
            ) as api:
                hook = f"http://127.0.0.1:{server.server_address[1]}/hook"
                row = endpoint(api, url=hook)
                gen = image(api)
                emu.advance(DONE)
                assert handler.arrived.wait(10), "no delivery arrived"
                assert emu.webhooks.flush()
        ((headers, body, callback_status),) = handler.received
        assert callback_status == 200
        assert headers["Content-Type"] == "application/json"
        match = HEADER.match(headers[SIGNATURE_HEADER])
        assert match is not None
        assert compute_signature(row["secret"], int(match.group(1)), body) == match.group(2)
        envelope = json.loads(body)
        assert (envelope["type"], envelope["data"]["id"]) == ("image.completed", gen["id"])
        assert envelope["data"]["output_urls"][0].startswith(srv.base_url)  # served address
        (attempt,) = emu.deliveries
        assert (attempt.sent, attempt.status, attempt.ok, attempt.url) == (True, 200, True, hook)
        assert attempt.body == body
    finally:
        emu.close()


def test_in_process_emulator_can_post_for_real(
    receiver: tuple[http.server.ThreadingHTTPServer, type[_Receiver]],
) -> None:
    server, handler = receiver
    emu = Emulator(clock="manual", deliver_webhooks=True, allow_http_webhooks=True)
    try:
        with httpx.Client(
            transport=emu.transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
        ) as client:
            row = endpoint(client, url=f"http://localhost:{server.server_address[1]}/in-process")
            fired = client.post(
                f"/v1/webhook_endpoints/{row['id']}/test", json={"event_type": "image.completed"}
            ).json()
            assert emu.webhooks.flush()
        ((headers, body, _),) = handler.received
        assert json.loads(body)["id"] == fired["event_id"]
        match = HEADER.match(headers[SIGNATURE_HEADER])
        assert match is not None
        assert compute_signature(row["secret"], int(match.group(1)), body) == match.group(2)
        (attempt,) = emu.deliveries
        assert (attempt.sent, attempt.status, attempt.synthetic) == (True, 200, True)
    finally:
        emu.close()
