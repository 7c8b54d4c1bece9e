"""Run the ``aurous`` command against the in-process or the served emulator.

The end-to-end tests run it as a subprocess (``python -m aurous.cli``), exactly as users do. Cheap
checks of single commands call ``aurous.cli.main`` in-process (the `inproc` fixture) to keep the
suite fast: each subprocess pays for a fresh interpreter and the SDK's imports.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from aurous.cli import main
from aurous.emulator import Emulator, EmulatorServer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FAST = ["--poll-interval", "0.05"]
"""Poll the (instant) emulator quickly instead of the CLI's default first interval of 1 s."""
SRC = Path(__file__).resolve().parents[2] / "src"


@dataclasses.dataclass
class Result:
    """A finished CLI run."""

    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a CLI subprocess: no AUROUS_* settings leak in from the host."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUROUS_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("FORCE_COLOR", None)
    env.update(extra or {})
    return env


def cli_command(args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "aurous.cli", *args]


def run_cli(
    *args: str,
    stdin: bytes | str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
) -> Result:
    """Run ``aurous ARGS`` with pipes (so stdout and stderr are not terminals)."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run(
        cli_command(args),
        input=data if data is not None else b"",
        capture_output=True,
        env=cli_env(env),
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    return Result(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


@dataclasses.dataclass
class Served:
    """A served emulator and the global options that point the CLI at it."""

    emulator: Emulator
    server: EmulatorServer

    @property
    def args(self) -> list[str]:
        return ["--base-url", self.server.base_url, "--api-key", self.emulator.api_key]

    def run(self, *args: str, **kwargs: Any) -> Result:
        return run_cli(*self.args, *args, **kwargs)


@pytest.fixture
def served() -> Iterator[Served]:
    """A fresh emulator over real HTTP whose generations finish on the next read."""
    emu = Emulator(instant=True, seed=7)
    server = emu.serve(host="127.0.0.1", port=0)
    try:
        yield Served(emu, server)
    finally:
        server.stop()
        emu.close()


Runner = Callable[..., Result]


@pytest.fixture
def inproc(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Runner:
    """``aurous.cli.main`` called in this process, with captured streams and a clean env."""
    for name in list(os.environ):
        if name.startswith("AUROUS_"):
            monkeypatch.delenv(name)

    def run(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Result:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
