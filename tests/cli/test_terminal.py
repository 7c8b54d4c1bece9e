"""Progress on a terminal: rich live displays when rich is installed, plain lines without it;
and Ctrl-C while waiting."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aurous.emulator import Emulator

from .conftest import PNG_SIGNATURE, WAIT, Child, cli_command, cli_env, serving, spawn

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
    chunks: list[bytes] = []
    deadline = time.monotonic() + WAIT
    try:
        while True:
            ready, _, _ = select.select([primary], [], [], max(deadline - time.monotonic(), 0))
            if not ready:
                raise AssertionError(f"still writing after {WAIT}s: {b''.join(chunks)!r}")
            try:
                data = os.read(primary, 65536)
            except OSError:  # the terminal closes when the process exits
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(primary)
        if proc.poll() is None:
            proc.kill()
    return proc.wait(timeout=WAIT), b"".join(chunks).decode("utf-8", "replace")


REPORT_SIGINT = (
    "import signal; "
    "print('KeyboardInterrupt' if signal.getsignal(signal.SIGINT) is signal.default_int_handler "
    "else signal.getsignal(signal.SIGINT))"
)
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
    # Said once, on the terminal where rich would have drawn live progress.
    assert output.count('pip install "aurous[cli]" for live progress') == 1
    [png] = (tmp_path / "out").iterdir()
    assert png.read_bytes().startswith(PNG_SIGNATURE)


def test_children_get_ctrl_c_even_when_the_suite_ignores_it() -> None:
    # As in a background job: the tests' own SIGINT is ignored, which children would inherit.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        proc = spawn([sys.executable, "-c", REPORT_SIGINT])
    finally:
        signal.signal(signal.SIGINT, previous)
    stdout, stderr = proc.communicate(timeout=WAIT)

    assert stdout.decode().strip() == "KeyboardInterrupt", stderr.decode()


def test_ctrl_c_while_waiting_exits_130_with_a_resume_hint() -> None:
    # On a manual clock that nobody advances, the generation stays pending for as long as the
    # test needs: Ctrl-C always lands while the command waits.
    with serving(Emulator(clock="manual")) as held:
        with Child([*held.args, "generate", "a slow lighthouse"]) as child:
            created = child.line()
            gid = created.split()[1]
            waiting = child.line()
            result = child.interrupt()

    assert created.startswith("Created img_"), created
    assert waiting.startswith(f"{gid} pending")
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip() == (
        f"Interrupted while waiting for {gid}; it keeps running: resume with 'aurous wait {gid}'"
    )
    assert result.stdout == ""
