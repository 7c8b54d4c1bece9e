"""End to end over real sockets: the served emulator delivers a signed ``image.completed`` to the
example receiver (examples/webhook_receiver.py), which verifies it with the SDK."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

import aurous
from aurous.emulator import Emulator
from aurous.types import Generation, GenerationEvent

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "webhook_receiver.py"


def _load_receiver() -> ModuleType:
    spec = importlib.util.spec_from_file_location("webhook_receiver_e2e", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_served_emulator_delivers_a_verified_image_completed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    receiver = _load_receiver()
    lines: list[str] = []
    app = receiver.create_app(echo=lines.append)  # secret read from the env at each delivery
    emu = Emulator(instant=True, allow_http_webhooks=True)  # the receiver is on 127.0.0.1
    with (
        receiver.serve_in_thread(app) as receiver_url,
        emu.serve(host="127.0.0.1", port=0) as server,
        aurous.Client(api_key=emu.api_key, base_url=server.base_url) as client,
    ):
        endpoint = client.webhook_endpoints.create(
            url=f"{receiver_url}/webhooks", events=["image.completed", "image.failed"]
        )
        assert endpoint.secret is not None
        monkeypatch.setenv("AUROUS_WEBHOOK_SECRET", endpoint.secret)

        created = client.images.create(prompt="a lighthouse at dusk")
        done = client.images.wait(created, timeout=30, poll_interval=0.05)
        assert done.status == "succeeded"

        [event] = app.state.event_log.wait_for(1, timeout=15)
        assert isinstance(event, GenerationEvent)
        assert event.type == "image.completed"
        assert isinstance(event.data, Generation)
        assert event.data.id == created.id
        assert event.data.status == "succeeded"
        assert event.synthetic is False
        assert any(created.id in line for line in lines)

        emu.webhooks.flush(10)  # the emulator records the outcome after the receiver answered
        after = client.webhook_endpoints.retrieve(endpoint.id)
        assert after.consecutive_failures == 0
        assert after.last_success_at is not None

        # A rotated secret: the receiver, still configured with the old one, must refuse.
        rotated = client.webhook_endpoints.rotate_secret(endpoint.id)
        assert rotated.secret is not None
        assert rotated.secret != endpoint.secret
        client.webhook_endpoints.test(endpoint.id, event_type="image.completed")
        emu.webhooks.flush(10)
        refused = client.webhook_endpoints.retrieve(endpoint.id)
        assert refused.consecutive_failures >= 1
        assert len(app.state.events) == 1
    emu.close()
