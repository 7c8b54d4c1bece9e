"""``aurous emulator serve`` hands its options to the emulator's own command line."""

from __future__ import annotations

import httpx

from .conftest import WAIT, Child, Runner


def test_serve_prints_the_address_and_key_and_answers_requests() -> None:
    args = ["emulator", "serve", "--port", "0", "--instant", "--credits", "42"]
    with Child(args) as child:
        # Printed once the socket listens: requests from then on are queued, not refused.
        banner = child.line("stdout")
        key = child.line("stdout").split()[-1]
        base_url = banner.split()[-1]
        balance = httpx.get(f"{base_url}/v1/balance", headers={"X-Api-Key": key}, timeout=WAIT)
        result = child.interrupt()

    assert banner.startswith("Aurous emulator listening on http://127.0.0.1:")
    assert balance.json()["credits"] == 42
    assert result.returncode == 0, result.stderr


def test_serve_help_and_bad_options_come_from_the_emulator(inproc: Runner) -> None:
    help_ = inproc("emulator", "serve", "--help")
    bad = inproc("emulator", "serve", "--speed", "2", "--instant")

    assert help_.returncode == 0
    assert "usage: aurous emulator serve" in help_.stdout
    assert "--fault SPEC" in help_.stdout
    assert "--allow-http-webhooks" in help_.stdout
    assert bad.returncode == 2
    assert "not allowed with argument" in bad.stderr
