"""``aurous emulator serve``: run the local emulator as an HTTP server.

The options are the emulator's own (``--port``, ``--speed``, ``--instant``, ``--fault`` …); they
are handed unchanged to ``python -m aurous.emulator``'s ``main`` so both stay identical.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._context import Context
from .._parser import ArgumentParser

__all__ = ["register"]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``emulator serve``."""
    group = sub.add_parser(
        "emulator",
        help="run the local API emulator",
        description="The built-in emulator of the Aurous API. 'aurous emulator serve --help' "
        "lists its options.",
        epilog="example: aurous emulator serve --port 8080 --speed 10",
    )
    actions = group.add_subparsers(
        title="emulator commands", metavar="ACTION", parser_class=ArgumentParser
    )
    group.set_defaults(handler=lambda ctx, args: _missing_action(group))
    serve = actions.add_parser(
        "serve",
        help="serve the emulator over HTTP (prints its base URL and API key)",
        add_help=False,
        prefix_chars="\0",  # every argument, --help included, belongs to the emulator
    )
    serve.add_argument("emulator_args", nargs=argparse.REMAINDER)
    serve.set_defaults(handler=run_serve)


def _missing_action(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_serve(ctx: Context, args: argparse.Namespace) -> int:
    """Delegate to the emulator's own command line."""
    from ...emulator._cli import main as emulator_main

    try:
        return emulator_main(args.emulator_args, prog="aurous emulator serve")
    except SystemExit as exc:  # argparse inside the emulator: --help or a usage error
        return exc.code if isinstance(exc.code, int) else 2
