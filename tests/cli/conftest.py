"""Run the ``aurous`` command against the in-process or the served emulator.

The end-to-end tests run it as a subprocess (``python -m aurous.cli``), exactly as users do. Cheap
checks of single commands call ``aurous.cli.main`` in-process (the `inproc` fixture) to keep the
suite fast: each subprocess pays for a fresh interpreter and the SDK's imports.

Tests that talk to a running subprocess use `Child`: it waits for the lines the process prints
(never for a fixed time), fails with everything seen so far instead of hanging, and gives the
process the Ctrl-C an interactive shell would, however the test suite itself was started.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

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


def default_sigint() -> None:
    """``preexec_fn`` of children the tests interrupt: SIGINT back to its default before exec.

    A shell starts a background job (``pytest … &``, as CI runners often do) with SIGINT
    ignored, children inherit that, and Python then installs no KeyboardInterrupt handler: the
    test's Ctrl-C would be lost. With the default disposition the child's interpreter installs
    its handler at start-up, exactly as when a user runs the command in a terminal.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def spawn(command: Sequence[str], *, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start ``command`` with piped streams and the SIGINT disposition of an interactive shell."""
    return subprocess.Popen(
        list(command),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(env),
        # Safe although the tests run threads (served emulators): the function only makes one
        # sigaction call between fork and exec, and takes no lock another thread could hold.
        preexec_fn=default_sigint if os.name == "posix" else None,
    )


Stream = Literal["stdout", "stderr"]
WAIT = 30.0
"""How long to wait for a line or an exit: far longer than any step takes on a loaded machine;
only reached when something is wrong."""


class Child:
    """A running ``aurous`` subprocess whose output the test reads line by line as it comes.

    Threads drain both pipes, so the child never blocks on a full pipe, and every wait has a
    deadline: a test fails with the transcript rather than hang.
    """

    def __init__(
        self,
        args: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        program: Sequence[str] | None = None,
    ) -> None:
        # ``program`` runs instead of ``python -m aurous.cli`` (an example script, say).
        self.proc = spawn([*program, *args] if program else cli_command(args), env=env)
        self._lines: dict[Stream, queue.Queue[str | None]] = {
            "stdout": queue.Queue(),
            "stderr": queue.Queue(),
        }
        self._seen: list[str] = []
        self._readers = [
            threading.Thread(target=self._drain, args=(pipe, lines), daemon=True)
            for pipe, lines in (
                (self.proc.stdout, self._lines["stdout"]),
                (self.proc.stderr, self._lines["stderr"]),
            )
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _drain(pipe: IO[bytes] | None, lines: queue.Queue[str | None]) -> None:
        assert pipe is not None
        for raw in iter(pipe.readline, b""):
            lines.put(raw.decode("utf-8", "replace"))
        lines.put(None)

    def line(self, stream: Stream = "stderr", *, timeout: float = WAIT) -> str:
        """The next line on ``stream``; fails if the child ends or stays silent instead."""
        try:
            line = self._lines[stream].get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(self._report(f"no line on {stream} within {timeout}s")) from None
        if line is None:
            self._lines[stream].put(None)  # later reads see the end too
            raise AssertionError(self._report(f"{stream} ended"))
        self._seen.append(f"{stream}: {line}")
        return line

    def expect(self, text: str, stream: Stream = "stderr", *, timeout: float = WAIT) -> str:
        """Skip lines on ``stream`` up to the first one containing ``text``, and return it."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.line(stream, timeout=max(deadline - time.monotonic(), 0.0))
            if text in line:
                return line

    def interrupt(self, *, timeout: float = WAIT) -> Result:
        """Ctrl-C, then wait for the exit: the code, and the output not read yet."""
        self.proc.send_signal(signal.SIGINT)
        return self.wait(timeout=timeout)

    def wait(self, *, timeout: float = WAIT) -> Result:
        """Wait for the exit: the code, and the output not read yet."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(self._report(f"still running after {timeout}s")) from None
        for reader in self._readers:
            reader.join(timeout)
        return Result(code, self._rest("stdout"), self._rest("stderr"))

    def _rest(self, stream: Stream) -> str:
        lines = []
        while True:
            try:
                line = self._lines[stream].get_nowait()
            except queue.Empty:  # a reader still blocked: whatever holds the pipe is not ours
                break
            if line is None:
                self._lines[stream].put(None)
                break
            lines.append(line)
        return "".join(lines)

    def _report(self, problem: str) -> str:
        return f"{problem}; read so far:\n" + "".join(self._seen)

    def close(self) -> None:
        """Kill the child if it still runs (a failed test) and close its pipes."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for reader in self._readers:
            reader.join(WAIT)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> Child:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def wait_until(condition: Callable[[], bool], what: str, *, timeout: float = WAIT) -> None:
    """Poll ``condition`` (state of the emulator the test owns) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


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


@contextlib.contextmanager
def serving(emu: Emulator) -> Iterator[Served]:
    """Serve ``emu`` over real HTTP on a free port; stop and close it afterwards."""
    server = emu.serve(host="127.0.0.1", port=0)
    try:
        yield Served(emu, server)
    finally:
        server.stop()
        emu.close()


@pytest.fixture
def served() -> Iterator[Served]:
    """A fresh emulator over real HTTP whose generations finish on the next read."""
    with serving(Emulator(instant=True, seed=7)) as served:
        yield served


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
