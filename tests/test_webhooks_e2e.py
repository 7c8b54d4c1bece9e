"""End to end over real sockets: the served emulator (``--allow-http-webhooks``) delivers signed
events to the example receiver (examples/webhook_receiver.py), built on the SDK's receiver kit."""

from __future__ import annotations

import importlib.util
import socket
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

import aurous
from aurous.emulator import Emulator
from aurous.types import Generation, GenerationEvent

from .cli.conftest import Child, cli_env

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
    emu = Emulator(instant=True, allow_http_webhooks=True)  # the receiver is on 127.0.0.1
    with (
        emu.serve(host="127.0.0.1", port=0) as server,
        aurous.Client(api_key=emu.api_key, base_url=server.base_url) as client,
    ):
        app = receiver.create_app(client, echo=lines.append)  # secret: the env, at each delivery
        with receiver.serve_in_thread(app) as receiver_url:
            endpoint = client.webhook_endpoints.create(
                url=f"{receiver_url}/webhooks", events=["image.completed", "image.failed"]
            )
            assert endpoint.secret is not None
            monkeypatch.setenv("AUROUS_WEBHOOK_SECRET", endpoint.secret)

            created = client.images.create(prompt="a lighthouse at dusk")
            done = client.images.wait(created, timeout=30, poll_interval=0.05)
            assert done.status == "succeeded"

            [event] = app.state.events.wait_for(1, timeout=15)
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
            assert app.state.receiver.rejected >= 1
            assert any(line.startswith("[rejected] webhook verification failed") for line in lines)
    emu.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@pytest.mark.slow
def test_the_example_run_as_a_script_receives_from_aurous_emulator_serve() -> None:
    # As the docstrings say to run them: `aurous emulator serve --allow-http-webhooks`, and the
    # receiver on its own port with the endpoint's secret and a key for its client.
    with Child(["emulator", "serve", "--port", "0", "--allow-http-webhooks"]) as emulator:
        base_url = emulator.line("stdout").split()[-1]
        api_key = emulator.line("stdout").split()[-1]
        with aurous.Client(api_key=api_key, base_url=base_url) as client:
            port = _free_port()
            endpoint = client.webhook_endpoints.create(
                url=f"http://127.0.0.1:{port}/webhooks", events=["image.completed"]
            )
            assert endpoint.secret is not None
            env = cli_env(
                {
                    "AUROUS_API_KEY": api_key,
                    "AUROUS_BASE_URL": base_url,
                    "AUROUS_WEBHOOK_SECRET": endpoint.secret,
                }
            )
            args = ["--port", str(port)]
            with Child(args, env=env, program=[sys.executable, str(EXAMPLE)]) as receiver:
                receiver.expect(f"Listening on http://127.0.0.1:{port}/webhooks", "stdout")
                _wait_for_port(port)  # printed just before uvicorn binds it
                generation = client.images.create_and_wait(prompt="a lighthouse", timeout=60)
                line = receiver.expect("[image.completed] evt_", "stdout", timeout=30)
                assert f" {generation.id} succeeded" in line
                result = receiver.interrupt()
        emulator.interrupt()
    assert result.returncode == 0, result.stderr
