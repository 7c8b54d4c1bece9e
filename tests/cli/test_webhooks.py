"""``aurous webhooks``: endpoint management, ``verify`` from stdin, and the local receiver."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

import aurous.webhooks

from .conftest import WAIT, Child, Result, Runner, Served, run_cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECRET = "whsec_cliTestSecret0123456789abcdef"


def _body() -> bytes:
    event = json.loads((FIXTURES / "event.image.completed.json").read_text())
    return json.dumps(event, separators=(",", ":")).encode()


def test_verify_accepts_a_valid_signature() -> None:
    body = _body()
    header = aurous.webhooks.sign(body, SECRET)

    result = run_cli("webhooks", "verify", "--secret", SECRET, "--header", header, stdin=body)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Valid: image.completed")


def test_verify_rejects_a_tampered_body_with_the_reason(inproc: Runner) -> None:
    body = _body()
    header = aurous.webhooks.sign(body, SECRET)

    result = inproc(
        "webhooks",
        "verify",
        "--header",
        header,
        stdin=body.replace(b"1", b"2"),
        env={"AUROUS_WEBHOOK_SECRET": f"whsec_old,{SECRET}"},
    )

    assert result.returncode == 1
    assert "Invalid: no matching signature" in result.stderr


def test_verify_accepts_an_old_secret_during_rotation(inproc: Runner) -> None:
    body = _body()
    header = aurous.webhooks.sign(body, SECRET)

    result = inproc(
        "webhooks", "verify", "-s", "whsec_new", "-s", SECRET, "--header", header, stdin=body
    )

    assert result.returncode == 0, result.stderr


def test_verify_without_a_secret_is_a_usage_error(inproc: Runner) -> None:
    result = inproc("webhooks", "verify", "--header", "t=1,v1=00", stdin=_body())

    assert result.returncode == 2
    assert "--secret" in result.stderr


def test_verify_rejects_a_stale_signature_as_json(inproc: Runner) -> None:
    body = _body()
    header = aurous.webhooks.sign(body, SECRET, timestamp=1_000_000)

    result = inproc("--json", "webhooks", "verify", "-s", SECRET, "--header", header, stdin=body)

    assert result.returncode == 1
    data = result.json()
    assert data["valid"] is False
    assert "timestamp" in data["reason"]


def test_endpoint_create_list_rotate_test_delete(served: Served, inproc: Runner) -> None:
    def run(*args: str) -> Result:
        return inproc(*served.args, *args)

    created = run(
        "--json", "webhooks", "create", "https://example.com/hook", "-e", "image.completed"
    )
    endpoint = created.json()
    listed = run("webhooks", "list")
    rotated = run("webhooks", "rotate", endpoint["id"])
    fired = run("webhooks", "test", endpoint["id"])
    deleted = run("webhooks", "delete", endpoint["id"])
    again = run("webhooks", "delete", endpoint["id"])

    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["events"] == ["image.completed"]
    assert endpoint["id"] in listed.stdout
    assert rotated.stdout.strip().startswith("whsec_")
    assert rotated.stdout.strip() != endpoint["secret"]
    assert fired.returncode == 0
    assert "Queued test event evt_" in fired.stdout
    assert deleted.returncode == 0
    assert again.returncode == 1


class _Sink(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str | None, bytes]]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.headers.get("Aurous-Webhook-Signature"), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def sink() -> Iterator[tuple[str, list[tuple[str | None, bytes]]]]:
    received: list[tuple[str | None, bytes]] = []
    handler = type("Sink", (_Sink,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", received
    finally:
        server.shutdown()
        server.server_close()


def test_listen_verifies_prints_and_forwards_the_raw_body(
    sink: tuple[str, list[tuple[str | None, bytes]]],
) -> None:
    url, received = sink
    args = ["webhooks", "listen", "--port", "0", "--secret", SECRET, "--forward-to", url]
    body = _body()
    header = aurous.webhooks.sign(body, SECRET)
    with Child(args) as child:
        # The banner comes once the socket is bound: connections from then on are accepted.
        banner = child.line()
        assert banner.startswith("Listening on http://127.0.0.1:"), banner
        address = banner.split()[2]

        good = httpx.post(
            address, content=body, headers={"Aurous-Webhook-Signature": header}, timeout=WAIT
        )
        good_line = child.line()
        bad = httpx.post(
            address,
            content=body,
            headers={"Aurous-Webhook-Signature": "t=1,v1=00"},
            timeout=WAIT,
        )
        bad_line = child.line()
        result = child.interrupt()

    assert good.status_code == 204  # the forward target's answer is relayed
    assert bad.status_code == 400
    assert received == [(header, body)]
    assert "verified image.completed" in good_line
    assert "-> forwarded: 204" in good_line
    assert "rejected: timestamp outside tolerance" in bad_line
    assert result.returncode == 130, result.stderr
    assert "Stopped listening." in result.stderr
