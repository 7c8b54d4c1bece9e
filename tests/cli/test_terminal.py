"""Progress on a terminal: rich live displays when rich is installed, plain lines without it;
and Ctrl-C while waiting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aurous.emulator import Emulator

from .conftest import PNG_SIGNATURE, cli_command, cli_env

pty = pytest.importorskip("pty")

WITHOUT_RICH = (
    "import sys; sys.modules['rich'] = None; from aurous.cli import main; sys.exit(main())"
)


def _run_in_terminal(command: list[str], cwd: Path) -> tuple[int, str]:
    """Run ``command`` with stdout and stderr on a pseudo-terminal; return (code, output)."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary, cwd=cwd,
        env=cli_env({"TERM": "xterm-256color", "COLUMNS": "120"}),
    )  # fmt: skip
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:  # the terminal closes when the process exits
            break
        if not data:
            break
        chunks.append(data)
    os.close(primary)
    return proc.wait(timeout=30), b"".join(chunks).decode("utf-8", "replace")


GENERATE = ["--emulator", "--emulator-speed", "20", "generate", "a lighthouse", "--out", "out"]


def test_terminal_progress_is_a_live_display(tmp_path: Path) -> None:
    code, output = _run_in_terminal(cli_command(GENERATE), tmp_path)

    assert code == 0, output
    assert "\x1b[" in output  # rich redraws the status line in place
    assert "[?25l" in output  # and hides the cursor while it does
    [png] = (tmp_path / "out").iterdir()
    assert png.read_bytes().startswith(PNG_SIGNATURE)


def test_without_rich_a_terminal_gets_plain_lines(tmp_path: Path) -> None:
    code, output = _run_in_terminal([sys.executable, "-c", WITHOUT_RICH, *GENERATE], tmp_path)

    assert code == 0, output
    assert "\x1b" not in output
    assert " succeeded (" in output
    [png] = (tmp_path / "out").iterdir()
    assert png.read_bytes().startswith(PNG_SIGNATURE)


@pytest.fixture
def slow_server() -> Iterator[tuple[Emulator, str]]:
    emu = Emulator(image_phases=(60, 60))
    server = emu.serve(host="127.0.0.1", port=0)
    try:
        yield emu, server.base_url
    finally:
        server.stop()
        emu.close()


def test_ctrl_c_while_waiting_exits_130_with_a_resume_hint(
    slow_server: tuple[Emulator, str],
) -> None:
    emu, base_url = slow_server
    args = ["--base-url", base_url, "--api-key", emu.api_key, "generate", "a slow lighthouse"]
    proc = subprocess.Popen(
        cli_command(args), env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert proc.stderr is not None
        created = proc.stderr.readline().decode()
        waiting = proc.stderr.readline().decode()
        proc.send_signal(signal.SIGINT)
        stdout, rest = proc.communicate(timeout=10)
    finally:
        proc.kill()

    gid = created.split()[1]
    assert gid.startswith("img_")
    assert waiting.startswith(f"{gid} pending")
    assert proc.returncode == 130
    assert rest.decode().strip() == (
        f"Interrupted while waiting for {gid}; it keeps running: resume with 'aurous wait {gid}'"
    )
    assert "Traceback" not in rest.decode()
    assert stdout == b""
