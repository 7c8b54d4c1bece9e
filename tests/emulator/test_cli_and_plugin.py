"""The command line (``python -m aurous.emulator``) and the pytest plugin fixtures."""

from __future__ import annotations

import os
import re
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
    "argv",
    [
        ["--fault", "explode"],
        ["--credits", "lots"],
        ["--speed", "2", "--instant"],
        ["--rate-limit", "reads=many,2"],
        ["--rate-limit", "reads=5"],
        ["--rate-limit", "reads=5,2,1"],
        ["--rate-limit", "reads"],
        ["--rate-limit", "reads=0,2"],
        ["--rate-limit", "reads=5,0"],
        ["--rate-limit", "reads=5,2", "--no-rate-limits"],
    ],
)
def test_bad_arguments_exit_with_usage(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


def test_rate_limit_overrides_named_buckets_only() -> None:
    args = build_parser().parse_args(
        ["--rate-limit", "images_post=5,2", "--rate-limit", "reads=3,1"]
    )
    emu = build_emulator(args)
    assert emu.config.rate_limits_enabled
    assert emu.config.buckets["images_post"] == (5, 2)
    assert emu.config.buckets["reads"] == (3, 1)
    assert emu.config.buckets["files_post"] == (60, 30)  # untouched


def test_unknown_rate_limit_bucket_lists_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--rate-limit", "image_post=5,2"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown bucket 'image_post'" in err
    assert "images_post, estimate_post, reads," in err


def test_served_rate_limits_apply_and_are_announced() -> None:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    process = subprocess.Popen(
        [sys.executable, "-m", "aurous.emulator", "--port", "0", "--rate-limit", "reads=2,1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        # Lines are printed once the socket listens: reading them is the readiness wait.
        banner = [process.stdout.readline() for _ in range(5)]
        base_url = banner[0].rsplit(" ", 1)[-1].strip()
        key = banner[1].split(": ", 1)[1].strip()
        assert banner[4].strip() == "Rate limits (capacity,per_minute): reads=2,1"
        with httpx.Client(base_url=base_url, headers={"X-Api-Key": key}, timeout=10) as http:
            first, second, third = (http.get("/v1/balance") for _ in range(3))
        assert (first.status_code, second.status_code) == (200, 200)
        assert first.headers["x-ratelimit-limit"] == "2"
        # One token per minute comes back: the third read within the minute is refused.
        assert third.status_code == 429
        assert third.json()["error"]["code"] == "too_many_requests"
    finally:
        process.terminate()
        process.wait(10)


INSTALL_HINT = 'pip install "aurous[emulator]"'


def test_serving_without_uvicorn_prints_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # what `import uvicorn` sees uninstalled
    assert main(["--port", "0"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert INSTALL_HINT in err


def test_emulator_serve_without_uvicorn_raises_the_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    emu = Emulator(clock="manual")
    with pytest.raises(ModuleNotFoundError, match=re.escape(INSTALL_HINT)) as info:
        emu.serve()
    assert info.value.name == "uvicorn"


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
