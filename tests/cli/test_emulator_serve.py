"""``aurous emulator serve`` hands its options to the emulator's own command line."""

from __future__ import annotations

import signal
import subprocess

import httpx

from .conftest import Runner, cli_command, cli_env


def test_serve_prints_the_address_and_key_and_answers_requests() -> None:
    args = ["emulator", "serve", "--port", "0", "--instant", "--credits", "42"]
    proc = subprocess.Popen(
        cli_command(args), env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline().decode()
        key_line = proc.stdout.readline().decode()
        base_url = banner.split()[-1]
        key = key_line.split()[-1]
        balance = httpx.get(f"{base_url}/v1/balance", headers={"X-Api-Key": key})
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
    finally:
        proc.kill()

    assert banner.startswith("Aurous emulator listening on http://127.0.0.1:")
    assert balance.json()["credits"] == 42
    assert proc.returncode == 0


def test_serve_help_and_bad_options_come_from_the_emulator(inproc: Runner) -> None:
    help_ = inproc("emulator", "serve", "--help")
    bad = inproc("emulator", "serve", "--speed", "2", "--instant")

    assert help_.returncode == 0
    assert "usage: aurous emulator serve" in help_.stdout
    assert "--fault SPEC" in help_.stdout
    assert bad.returncode == 2
    assert "not allowed with argument" in bad.stderr
