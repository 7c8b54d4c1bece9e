"""Without the optional packages (rich: the ``cli`` extra, uvicorn: ``emulator``) every command
still works or says which extra to install: never a traceback or an "Internal error"."""

from __future__ import annotations

import importlib.metadata
import io
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from aurous.cli import main
from aurous.cli._errors import EXIT_USAGE, report_error

from .conftest import FAST, Result, Runner, Served

LIVE_HINT = 'pip install "aurous[cli]" for live progress'


class _Terminal(io.StringIO):
    """A captured stream that claims to be a terminal, as stdout and stderr are for a user."""

    def isatty(self) -> bool:
        return True


TerminalRunner = Callable[..., Result]


@pytest.fixture
def on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> TerminalRunner:
    """``aurous.cli.main`` in this process with stdout and stderr on a (pretend) terminal."""
    for name in [name for name in os.environ if name.startswith("AUROUS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TERM", "xterm-256color")

    def run(*args: str) -> Result:
        stdout, stderr = _Terminal(), _Terminal()
        with monkeypatch.context() as streams:
            streams.setattr(sys, "stdout", stdout)
            streams.setattr(sys, "stderr", stderr)
            code = main(list(args))
        return Result(code, stdout.getvalue(), stderr.getvalue())

    return run


@pytest.fixture
def without_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import rich`` (and every ``rich.*``) fail, as when the ``cli`` extra is missing."""
    for name in [name for name in sys.modules if name == "rich" or name.startswith("rich.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "rich", None)


def _no_crash(result: Result) -> None:
    assert "Traceback" not in result.output
    assert "Internal error" not in result.output
    assert "\x1b" not in result.output  # plain text: rich is not there to draw


def _prompts(tmp_path: Path) -> str:
    file = tmp_path / "prompts.txt"
    file.write_text("one\ntwo\n")
    return str(file)


@pytest.mark.usefixtures("without_rich")
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["generate", *FAST, "a fox", "--out", "{tmp}"], id="generate"),
        pytest.param(["batch", *FAST, "{prompts}", "--out", "{tmp}"], id="batch"),
    ],
)
def test_progress_without_rich_is_plain_with_a_one_time_install_hint(
    served: Served, on_a_terminal: TerminalRunner, tmp_path: Path, command: list[str]
) -> None:
    args = [arg.format(tmp=tmp_path, prompts=_prompts(tmp_path)) for arg in command]

    result = on_a_terminal(*served.args, *args)

    assert result.returncode == 0, result.output
    _no_crash(result)
    assert result.stderr.count(LIVE_HINT) == 1  # once, although a run has several displays
    assert LIVE_HINT not in result.stdout


@pytest.mark.usefixtures("without_rich")
@pytest.mark.parametrize("mode", ["--json", "-q"])
def test_no_install_hint_clutters_json_or_quiet_output(
    served: Served, on_a_terminal: TerminalRunner, tmp_path: Path, mode: str
) -> None:
    result = on_a_terminal(*served.args, mode, "generate", *FAST, "a fox", "--out", str(tmp_path))

    assert result.returncode == 0, result.output
    assert "aurous[cli]" not in result.output


def test_no_install_hint_off_a_terminal(served: Served, inproc: Runner, tmp_path: Path) -> None:
    # Piped or logged output gains nothing from rich, so there is nothing to suggest.
    result = inproc(*served.args, "generate", *FAST, "a fox", "--out", str(tmp_path))

    assert result.returncode == 0, result.output
    assert "aurous[cli]" not in result.output


@pytest.mark.usefixtures("without_rich")
def test_every_other_command_works_on_a_terminal_without_rich(
    served: Served, on_a_terminal: TerminalRunner, tmp_path: Path
) -> None:
    gid = on_a_terminal(*served.args, "-q", "generate", *FAST, "a fox", "--no-wait").stdout.strip()
    commands = [
        ["wait", *FAST, gid],
        ["download", gid, "--out", str(tmp_path)],
        ["get", gid],
        ["list"],
        ["estimate", "a fox", "--count", "2"],
        ["balance"],
        ["pricing"],
        ["team"],
        ["loras", "--video"],
        ["usage", "--since", "1h"],
        ["webhooks", "list"],
    ]
    for command in commands:
        result = on_a_terminal(*served.args, *command)

        assert result.returncode == 0, (command, result.output)
        _no_crash(result)
    # Tables and one-shot commands lose nothing without rich: only progress displays hint.
    assert LIVE_HINT not in on_a_terminal(*served.args, "balance").output


def test_serve_without_uvicorn_says_which_extra_to_install(
    inproc: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)

    result = inproc("emulator", "serve", "--port", "0")

    assert result.returncode == EXIT_USAGE
    assert 'pip install "aurous[emulator]"' in result.stderr
    assert "Internal error" not in result.output
    assert "Traceback" not in result.output


def test_a_broken_rich_install_says_which_extra_to_install(
    served: Served, on_a_terminal: TerminalRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # rich is found but one of its modules cannot be imported (a partial or too old install).
    monkeypatch.setitem(sys.modules, "rich.live", None)

    result = on_a_terminal(*served.args, "generate", *FAST, "a fox", "--no-wait")
    waited = on_a_terminal(*served.args, "wait", *FAST, result.stdout.strip())

    assert waited.returncode == EXIT_USAGE
    assert 'pip install "aurous[cli]"' in waited.stderr
    assert "Internal error" not in waited.output


@pytest.mark.parametrize(
    ("module", "extra"), [("rich", "cli"), ("rich.progress", "cli"), ("uvicorn", "emulator")]
)
def test_import_errors_of_optional_packages_become_install_hints(module: str, extra: str) -> None:
    report = report_error(ModuleNotFoundError(f"No module named {module!r}", name=module))

    assert report.exit_code == EXIT_USAGE
    assert [f'pip install "aurous[{extra}]"' in line for line in report.lines] == [True]
    assert report.data["type"] == "missing_dependency"
    assert report.data["extra"] == extra


def test_other_import_errors_stay_internal_errors() -> None:
    report = report_error(ModuleNotFoundError("No module named 'httpx'", name="httpx"))

    assert report.exit_code == 1
    assert report.lines[0].startswith("Internal error: ModuleNotFoundError")


def test_the_hinted_extras_are_the_ones_that_install_each_package() -> None:
    from aurous.cli._errors import OPTIONAL_PACKAGES

    requirements = importlib.metadata.requires("aurous") or []
    for package, extra in OPTIONAL_PACKAGES.items():
        assert any(
            req.startswith(package) and f"extra == '{extra}'" in req.replace('"', "'")
            for req in requirements
        ), (package, extra, requirements)
