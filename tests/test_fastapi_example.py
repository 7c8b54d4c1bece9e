"""examples/fastapi_app.py served by uvicorn on 127.0.0.1, against the served emulator.

Concurrent users share the app's one `aurous.AsyncClient`: every request gets its image, the
team's limits are respected, nothing is billed twice; the receiver mounted under ``/webhooks``
verifies deliveries and ends the requests' waits as soon as their generation's delivery arrives.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import json
import logging
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import uvicorn

import aurous
from aurous.emulator import Emulator

from .conftest import fixture

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SECRET_ENV = "AUROUS_WEBHOOK_SECRET"
SIGNATURE = aurous.webhooks.SIGNATURE_HEADER


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "fastapi_app_example", EXAMPLES / "fastapi_app.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class _Server:
    """uvicorn in a thread, with the lifespan on (the app creates its client at startup)."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        host, port = self.sock.getsockname()[:2]
        self.url = f"http://{host}:{port}"

    def __enter__(self) -> _Server:
        self.thread.start()
        started = threading.Event()
        for _ in range(500):  # the lifespan (client creation) has run once `started` is set
            if self.server.started:
                started.set()
                break
            threading.Event().wait(0.01)
        assert started.is_set(), "uvicorn did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture
def emulator() -> Iterator[tuple[Emulator, str]]:
    # Default limits (10 in flight, images_post 120 + 60/min), generations 20x faster.
    # The app's webhook receiver listens on 127.0.0.1: plain http, allowed for local testing.
    emu = Emulator(speed=20, seed=3, allow_http_webhooks=True)
    with emu.serve() as server:
        yield emu, server.base_url
    emu.close()


@pytest.mark.slow
def test_concurrent_requests_share_one_client(
    emulator: tuple[Emulator, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    emu, base_url = emulator
    monkeypatch.setenv("AUROUS_API_KEY", emu.api_key)
    monkeypatch.setenv("AUROUS_BASE_URL", base_url)
    module = _load()
    with _Server(module.create_app()) as app:

        async def fire() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=app.url, timeout=60) as http:
                return await asyncio.gather(
                    *(http.post("/images", json={"prompt": f"user {n}"}) for n in range(30))
                )

        responses = asyncio.run(fire())
    assert [r.status_code for r in responses] == [200] * 30
    bodies = [r.json() for r in responses]
    assert all(b["status"] == "succeeded" and b["outputs"] for b in bodies)
    assert len({b["id"] for b in bodies}) == 30
    assert len(emu.team.generations) == 30
    assert emu.team.balance()["credits"] == Decimal(970)


@pytest.mark.slow
def test_bad_input_and_failed_generations_get_http_errors(
    emulator: tuple[Emulator, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    emu, base_url = emulator
    module = _load()
    client = aurous.AsyncClient(api_key=emu.api_key, base_url=base_url)
    with (
        _Server(module.create_app(client)) as app,
        httpx.Client(base_url=app.url, timeout=30) as http,
    ):
        assert http.post("/images", json={"prompt": ""}).status_code == 422  # FastAPI validation
        failed = http.post("/images", json={"prompt": "a cat [fail]"})
        assert failed.status_code == 422
        assert "ended with status 'failed'" in failed.json()["detail"]
        blocked = http.post("/images", json={"prompt": "something forbidden"})
        assert blocked.status_code == 400


def test_a_delivery_ends_the_request_s_wait_long_before_its_first_poll(
    emulator: tuple[Emulator, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The served emulator delivers over HTTP (allow_http_webhooks, as `aurous emulator serve
    # --allow-http-webhooks`) to the receiver the app mounts under /webhooks.
    emu, base_url = emulator
    app = _load().create_app(aurous.AsyncClient(api_key=emu.api_key, base_url=base_url))
    with (
        aurous.Client(api_key=emu.api_key, base_url=base_url) as admin,
        _Server(app) as served,
        httpx.Client(base_url=served.url, timeout=30) as http,
        caplog.at_level(logging.INFO, logger="aurous"),  # every request the clients send
    ):
        endpoint = admin.webhook_endpoints.create(
            url=f"{served.url}/webhooks/", events=["image.completed", "image.failed"]
        )
        assert endpoint.secret is not None
        monkeypatch.setenv(SECRET_ENV, endpoint.secret)  # read by the receiver at each delivery
        took = []
        for n in range(2):
            started = time.monotonic()
            response = http.post("/images", json={"prompt": f"a lighthouse, take {n}"})
            took.append(time.monotonic() - started)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "succeeded"
    # The structured fields of the clients' request records: (http_method, url_path).
    sent = [
        (r.__dict__["http_method"], r.__dict__["url_path"])
        for r in caplog.records
        if hasattr(r, "http_method")
    ]
    polls = [path for method, path in sent if method == "GET" and path.startswith("/v1/images/")]
    # create_and_wait polls first after poll_interval (2 s; more once deliveries arrive): each
    # wait ended at its generation's delivery, a tenth of a second in, without a single poll.
    assert max(took) < 1.0, took
    assert [method for method, path in sent if path == "/v1/images"] == ["POST", "POST"]
    assert polls == []
    assert (app.state.webhooks.received, app.state.webhooks.rejected) == (2, 0)


def test_the_mounted_receiver_refuses_a_bad_signature_and_drops_a_duplicate(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from fastapi.testclient import TestClient

    emu = Emulator(instant=True)
    secret = "whsec_" + "s" * 32
    try:
        app = _load().create_app(emu.async_client(), webhook_secret=secret)
        body = json.dumps(fixture("event.image.completed")).encode()
        with TestClient(app) as http, caplog.at_level(logging.WARNING, logger="aurous"):
            forged = http.post(
                "/webhooks/",
                content=body,
                headers={SIGNATURE: aurous.webhooks.sign(body, "whsec_" + "x" * 32)},
            )
            first = http.post(
                "/webhooks/", content=body, headers={SIGNATURE: aurous.webhooks.sign(body, secret)}
            )
            again = http.post(
                "/webhooks/", content=body, headers={SIGNATURE: aurous.webhooks.sign(body, secret)}
            )
            bare = http.post("/webhooks", content=body, follow_redirects=False)
        assert forged.status_code == 400
        assert forged.json() == {"error": "invalid signature", "reason": "no matching signature"}
        assert "webhook delivery rejected: no matching signature" in caplog.text
        assert first.status_code == again.status_code == 200
        assert first.json() == {"received": True}
        assert again.json() == {"received": True, "ignored": "duplicate"}
        assert (app.state.webhooks.received, app.state.webhooks.rejected) == (1, 1)
        # Starlette redirects the bare mount path, and a webhook sender does not follow it:
        # hence the trailing slash in the URL to register.
        assert bare.status_code == 307
    finally:
        emu.close()


def test_the_app_passes_typed_arguments_and_a_missing_size_is_not_sent() -> None:
    # No dict built and splatted into the SDK call: the arguments stay checked by mypy (the
    # example is type-checked with `mypy --strict`), and `size=None` already means "not sent".
    tree = ast.parse((EXAMPLES / "fastapi_app.py").read_text(encoding="utf-8"))
    splats = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and any(k.arg is None for k in node.keywords)
    ]
    assert splats == []

    from fastapi.testclient import TestClient

    emu = Emulator(instant=True)
    try:
        app = _load().create_app(emu.async_client())
        with TestClient(app) as http:
            sized = http.post("/images", json={"prompt": "a", "size": "2k_16_9"})
            plain = http.post("/images", json={"prompt": "b"})
        assert (sized.status_code, plain.status_code) == (200, 200), (sized.text, plain.text)
        assert emu.generation(sized.json()["id"]).size_preset == "2k_16_9"
        assert emu.generation(plain.json()["id"]).size_preset == "2k_1_1"  # the API's default
    finally:
        emu.close()


def test_each_user_has_a_daily_budget() -> None:
    from fastapi.testclient import TestClient

    emu = Emulator(instant=True)
    user, other = f"user-{uuid.uuid4().hex[:8]}", f"user-{uuid.uuid4().hex[:8]}"
    try:
        app = _load().create_app(emu.async_client(), daily_credits=3)
        with TestClient(app) as http:
            spent = [
                http.post("/images", json={"prompt": f"take {n}"}, headers={"x-user-id": user})
                for n in range(3)
            ]
            refused = http.post("/images", json={"prompt": "one more"}, headers={"x-user-id": user})
            theirs = http.post("/images", json={"prompt": "mine"}, headers={"x-user-id": other})
        assert [r.status_code for r in spent] == [200, 200, 200], [r.text for r in spent]
        assert [r.json()["credits_left_today"] for r in spent] == [2, 1, 0]
        assert refused.status_code == 402
        assert f"budget 'user:{user}:" in refused.json()["detail"]
        assert theirs.status_code == 200
        assert theirs.json()["credits_left_today"] == 2
        # The refused create never reached the API.
        assert len(emu.team.generations) == 4
        today = aurous.Budget(3, name=f"user:{user}:{date.today()}")
        assert today.spent == 3
        assert {e.tags["user"] for e in today.entries} == {user}
    finally:
        emu.close()
