"""The commands the README and the documentation show exist, with the options they show.

* Every command line of a ``bash``/``console`` block (``aurous …``, ``python -m aurous.emulator
  …``) is accepted by that program's own argument parser; ``python examples/x.py`` names a file
  of the repository; ``pip install "aurous[x]"`` names extras ``pyproject.toml`` declares.
* Every inline ``aurous …`` synopsis (the command table, the prose) names existing commands, and
  each ``--option`` it shows is an option of that command.
* ``aurous COMMAND --help`` works for every command the pages name.
* The README's first command, run as printed, makes a PNG (slow: it runs the emulator).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aurous.cli import main as cli_main
from aurous.cli._parser import build_parser
from aurous.cli.commands import COMMANDS
from aurous.emulator._cli import build_parser as emulator_parser

from ._blocks import ROOT, all_blocks, page_id, pages

_OPTION = re.compile(r"(?<![\w-])(--?[a-zA-Z][\w-]*)")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {flag for action in parser._actions for flag in action.option_strings}


SERVE = ("emulator", "serve")
"""Passes every argument on to the emulator's own parser (that of ``python -m aurous.emulator``)."""


ROOT_PARSER = build_parser(COMMANDS)


# -------------------------------------------------------------------------------------------------
# Command lines of shell blocks
# -------------------------------------------------------------------------------------------------


def command_lines() -> Iterator[tuple[str, list[str]]]:
    """(where, argv) for each command of each shell block; prompts, output and comments dropped."""
    for block in all_blocks():
        if not block.is_shell:
            continue
        for n, line in enumerate(block.code.splitlines()):
            text = line.strip()
            if block.lang == "console":
                if not text.startswith("$ "):
                    continue  # output
                text = text[2:]
            if not text or text.startswith("#"):
                continue
            text = text.split(" #", 1)[0]
            for part in re.split(r"&&|;|\|(?!\|)", text):
                argv = shlex.split(part)
                while argv and re.fullmatch(r"[A-Z_]+=\S*", argv[0]):
                    argv = argv[1:]  # VAR=value before a command
                if "<" in argv:
                    argv = argv[: argv.index("<")]
                if argv:
                    yield f"{block.where}+{n}", argv


COMMANDS_SHOWN = list(command_lines())


def test_the_pages_show_commands() -> None:
    programs = {argv[0] for _, argv in COMMANDS_SHOWN}
    assert {"aurous", "pip", "python"} <= programs


def _parses(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """None if ``parser`` accepts ``argv``, else what it printed."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):
            return err.getvalue() or f"exit {exc.code}"
    return None


def _extras() -> set[str]:
    """The extras of ``pyproject.toml`` (read without tomllib, which Python 3.10 lacks)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    return set(re.findall(r"^([\w-]+) = \[", section, flags=re.MULTILINE))


@pytest.mark.parametrize(("where", "argv"), COMMANDS_SHOWN, ids=[w for w, _ in COMMANDS_SHOWN])
def test_shown_command_is_accepted(where: str, argv: list[str]) -> None:
    program, args = argv[0], argv[1:]
    if program == "aurous":
        problem = _parses(ROOT_PARSER, args)
        assert problem is None, f"{where}: `{shlex.join(argv)}` is refused:\n{problem}"
        if tuple(args[:2]) == SERVE:
            problem = _parses(emulator_parser(), args[2:])
            assert problem is None, f"{where}: `{shlex.join(argv)}` is refused:\n{problem}"
    elif program == "python" and args[:2] == ["-m", "aurous.emulator"]:
        problem = _parses(emulator_parser(), args[2:])
        assert problem is None, f"{where}: `{shlex.join(argv)}` is refused:\n{problem}"
    elif program == "python" and args[:2] == ["-m", "aurous.cli"]:
        assert _parses(ROOT_PARSER, args[2:]) is None, where
    elif program == "python" and args[:1] == ["-m"]:
        assert args[1:2] == ["build"], f"{where}: `python -m {args[1]}` is not a known module"
    elif program == "python":
        script = ROOT / args[0]
        assert script.is_file(), f"{where}: {args[0]} is not a file of the repository"
    elif program == "pip":
        assert args[0] == "install", where
        for spec in args[1:]:
            extras = re.fullmatch(r"(?:aurous|\.)\[([\w,]+)\]", spec)
            if extras is not None:
                missing = set(extras[1].split(",")) - _extras()
                assert not missing, f"{where}: pyproject.toml has no extra {missing}"
    else:
        # What a deployment runs the SDK under, and the test runner of every Python.
        known = {"export", "pytest", "bash", "mkdocs", "nox", "gunicorn", "uvicorn", "celery"}
        assert program in known, f"{where}: `{program}` is not a command these tests know"


def test_a_wrong_command_is_refused() -> None:
    assert _parses(ROOT_PARSER, ["generate", "x", "--no-such-option"]) is not None
    assert _parses(emulator_parser(), ["--no-such-option"]) is not None


# -------------------------------------------------------------------------------------------------
# Inline synopses: `aurous generate PROMPT [--size 2k_16_9] …`
# -------------------------------------------------------------------------------------------------


def synopses() -> Iterator[tuple[str, tuple[str, ...], str]]:
    """(where, command path, synopsis text) for every inline ``aurous …`` code span.

    In a table cell, later spans without the ``aurous`` prefix are sibling commands
    (``aurous wait ID` / `download ID``) and spans starting with ``--`` add options to the
    previous command (``aurous estimate PROMPT` / `--video-lora ID``).
    """
    for path in pages():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{page_id(path)}:{n}"
            cells = line.split(" | ") if line.startswith("|") else [line]
            for cell in cells:
                parent: tuple[str, ...] = ()
                previous: tuple[str, ...] | None = None
                spans = re.findall(r"`([^`]+)`", cell)
                for span in spans:
                    span = span.replace("\\|", "|")
                    if span.startswith("aurous "):
                        path_ = _command_path(span.split()[1:], ())
                        parent, previous = path_[:-1], path_
                        yield where, path_, span
                    elif previous is not None and span.startswith("-"):
                        yield where, previous, span
                    elif previous is not None and re.match(r"[a-z]+( |$)", span):
                        words = span.split()
                        if words[0] in _subcommands(_parser_for(parent)):
                            previous = _command_path(words, parent)
                            yield where, previous, span


def _command_path(words: list[str], parent: tuple[str, ...]) -> tuple[str, ...]:
    path = parent
    for word in words:
        if word.startswith("-"):
            continue
        children = _subcommands(_parser_for(path))
        if word not in children:
            break
        path = (*path, word)
    return path


def _parser_for(path: tuple[str, ...]) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = ROOT_PARSER
    for word in path:
        parser = _subcommands(parser)[word]
    return parser


SYNOPSES = list(synopses())


def test_the_pages_show_synopses() -> None:
    shown = {path for _, path, _ in SYNOPSES}
    assert {("generate",), ("webhooks", "listen"), ("emulator", "serve"), ("download",)} <= shown


@pytest.mark.parametrize(
    ("where", "path", "synopsis"), SYNOPSES, ids=[f"{w} {s}" for w, _, s in SYNOPSES]
)
def test_synopsis_names_a_command_and_its_options(
    where: str, path: tuple[str, ...], synopsis: str
) -> None:
    parser = emulator_parser() if path == SERVE else _parser_for(path)
    first = synopsis.split()[1] if synopsis.startswith("aurous ") else ""
    if first and not (first.startswith("-") or first.isupper() or first == "…"):
        assert path, f"{where}: `{synopsis}` names no command"
    unknown = set(_OPTION.findall(synopsis)) - _options(parser)
    assert not unknown, f"{where}: `aurous {' '.join(path)}` has no option {sorted(unknown)}"


COMMAND_PATHS = sorted({path for _, path, _ in SYNOPSES if path})


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_help_of_each_command_shown(path: tuple[str, ...]) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli_main([*path, "--help"])
    assert code == 0
    assert out.getvalue().startswith(f"usage: aurous {' '.join(path)}")


def test_every_command_is_documented() -> None:
    def leaves(path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        children = _subcommands(_parser_for(path))
        if not children:
            yield path
        for name in children:
            yield from leaves((*path, name))

    documented = set(COMMAND_PATHS)
    missing = [" ".join(p) for p in leaves(()) if p not in documented]
    assert missing == [], "commands no page shows (add them to docs/guides/cli.md)"


# -------------------------------------------------------------------------------------------------
# The README's first screen
# -------------------------------------------------------------------------------------------------


def _readme_command(comment: str) -> list[str]:
    """The command after ``&&`` on the README's first-screen line under ``# comment``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    lines = block.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("#") and comment in line:
            install, command = lines[i + 1].split(" && ")
            assert install.startswith("pip install -e ")
            return shlex.split(command)
    raise AssertionError(f"no '{comment}' command on the README's first screen")


def test_readme_first_screen_runs_the_test_suite_as_ci_does() -> None:
    assert _readme_command("Run the test suite") == ["pytest"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -e ".[dev]" && pytest\n' in ci


@pytest.mark.slow
def test_readme_first_command_makes_a_png(tmp_path: Path) -> None:
    argv = _readme_command("See it work")
    assert argv[:3] == ["aurous", "--emulator", "generate"]
    executable = shutil.which("aurous", path=str(Path(sys.executable).parent))
    assert executable is not None, "the aurous command is not installed next to this Python"
    done = subprocess.run(
        [executable, *argv[1:]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    [png] = list((tmp_path / "out").glob("img_*-0.png"))
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
