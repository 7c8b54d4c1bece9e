"""The command line (``python -m aurous.emulator``) and the pytest plugin fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from aurous.emulator import Emulator, EmulatorServer
from aurous.emulator._cli import build_emulator, build_parser, main

SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_parser_builds_a_configured_emulator() -> None:
    args = build_parser().parse_args(
        [
            "--instant",
            "--seed",
            "4",
            "--credits",
            "7.5",
            "--exempt",
            "--concurrency-limit",
            "2",
            "--no-rate-limits",
            "--blocked-term",
            "nope",
            "--fault",
            "status=503,route=GET /v1/team",
        ]
    )
    emu = build_emulator(args)
    assert emu.config.instant
    assert emu.config.seed == 4
    assert str(emu.team.credits) == "7.5"
    assert emu.team.billing_mode == "exempt"
    assert emu.config.concurrency_limit == 2
    assert not emu.config.rate_limits_enabled
    assert emu.config.blocked_terms == ("nope",)
    with httpx.Client(
        transport=emu.transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
    ) as http:
        assert http.get("/v1/team").status_code == 503
        assert http.get("/v1/team").status_code == 200


@pytest.mark.parametrize(
    "argv", [["--fault", "explode"], ["--credits", "lots"], ["--speed", "2", "--instant"]]
)
def test_bad_arguments_exit_with_usage(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


def test_python_dash_m_serves_and_prints_url_and_key() -> None:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aurous.emulator",
            "--port",
            "0",
            "--seed",
            "9",
            "--instant",
            "--fault",
            "drop,route=GET /v1/pricing",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        key_line = process.stdout.readline()
        base_url = first.rsplit(" ", 1)[-1].strip()
        key = key_line.split(": ", 1)[1].strip()
        assert base_url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=base_url, headers={"X-Api-Key": key}, timeout=10) as http:
            row = http.post("/v1/images", json={"prompt": "cli"}).json()
            assert http.get(f"/v1/images/{row['id']}").json()["status"] == "succeeded"
            with pytest.raises(httpx.RemoteProtocolError):
                http.get("/v1/pricing")
    finally:
        process.terminate()
        process.wait(10)


def test_plugin_fixture(aurous_emulator: Emulator) -> None:
    client = aurous_emulator.client()
    created = client.images.create(prompt="from the plugin")
    aurous_emulator.advance(5)
    assert client.images.retrieve(created.id).status == "succeeded"


def test_plugin_server_fixture(aurous_emulator_server: EmulatorServer) -> None:
    emu = aurous_emulator_server.emulator
    assert emu is not None
    response = httpx.get(
        aurous_emulator_server.base_url + "/v1/balance",
        headers={"X-Api-Key": emu.api_key},
        timeout=10,
    )
    assert response.json()["credits"] == 1000
