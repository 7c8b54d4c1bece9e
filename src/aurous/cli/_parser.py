"""The ``aurous`` argument parser: global options, then one sub-command per task.

Global options are accepted before the sub-command (``aurous --json balance``) and, for
convenience, after it too (``aurous balance --json``): sub-parsers carry the same options with
``SUPPRESS`` defaults, so a value given before the sub-command is never reset by it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .._version import __version__

__all__ = [
    "ArgumentParser",
    "Handler",
    "Registrar",
    "bounded_int",
    "build_parser",
    "positive_float",
]

Handler = Callable[..., int]

Registrar = Callable[[Any, argparse.ArgumentParser], None]
"""``register(sub, common)`` of a command module: adds its sub-parsers to ``sub`` (the result of
``add_subparsers``), with ``common`` (the global options) as a parent, and sets their handler."""

_DESCRIPTION = """\
Generate images and videos with the Aurous API from the command line.

The API key is read from --api-key or AUROUS_API_KEY, the base URL from --base-url or
AUROUS_BASE_URL. Add --emulator to try every command against the built-in local emulator
(no key, no network, nothing billed)."""

_EPILOG = """\
examples:
  aurous --emulator generate "a lighthouse at dusk" --out out/
  aurous generate "a fox in the snow" --size 2k_16_9 --count 2
  aurous batch prompts.txt --concurrency 8 --manifest run.jsonl --out images/
  aurous --json balance

exit codes: 0 success, 1 API or generation failure, 2 usage error, 130 interrupted"""


_GLOBAL_HINT = (
    "Global options (--emulator, --json, --quiet, --api-key, …; see 'aurous --help') "
    "may be given before or after the command."
)


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors also point at ``--help``."""

    def error(self, message: str) -> Any:  # argparse declares NoReturn
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n(see '{self.prog} --help')\n")


def bounded_int(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer in ``[low, high]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def positive_float(text: str) -> float:
    """An argparse type: a number greater than zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than zero, got {text}")
    return value


def _add_global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    def add(*flags: str, help: str, **kwargs: Any) -> None:
        # After a sub-command the options still work but stay out of its help and usage line.
        group.add_argument(*flags, help=argparse.SUPPRESS if suppress else help, **kwargs)

    group = parser.add_argument_group("global options")
    add(
        "--api-key", metavar="KEY", default=default(None), help="API key (default: $AUROUS_API_KEY)"
    )
    add(
        "--base-url",
        metavar="URL",
        default=default(None),
        help="API base URL (default: $AUROUS_BASE_URL or the production API)",
    )
    add(
        "--api-version",
        metavar="VERSION",
        default=default(None),
        help="Aurous-Version to send (default: the SDK's pinned version)",
    )
    add(
        "--emulator",
        action="store_true",
        default=default(False),
        help="run against the in-process emulator instead of the real API",
    )
    add(
        "--emulator-speed",
        metavar="FACTOR",
        type=positive_float,
        default=default(None),
        help="with --emulator: divide generation durations by FACTOR",
    )
    add(
        "--json",
        action="store_true",
        default=default(False),
        help="print machine-readable JSON on stdout (messages go to stderr)",
    )
    add(
        "-q",
        "--quiet",
        action="store_true",
        default=default(False),
        help="print results only: no progress and no status messages",
    )
    add(
        "-v",
        "--verbose",
        action="store_true",
        default=default(False),
        help="debug logging of every request, and tracebacks on errors",
    )


def build_parser(commands: Sequence[Registrar]) -> ArgumentParser:
    """The complete parser; each parsed namespace has ``handler(ctx, args) -> int``.

    The command modules are passed in rather than imported here because they import this module
    (for `ArgumentParser` and the argument types).
    """
    parser = ArgumentParser(
        prog="aurous",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"aurous {__version__}")
    _add_global_options(parser, suppress=False)
    parser.set_defaults(handler=None)

    common = argparse.ArgumentParser(add_help=False)
    _add_global_options(common, suppress=True)

    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=ArgumentParser)
    for register in commands:
        register(sub, common)
    for command in sub.choices.values():
        command.epilog = command.epilog or _GLOBAL_HINT
    return parser
