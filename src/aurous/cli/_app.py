"""Running one command: parse, dispatch, and turn every outcome into an exit code."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from .._constants import ENV_LOG
from ._context import Context
from ._errors import EXIT_INTERRUPTED, EXIT_USAGE, report_error
from ._output import Output
from ._parser import build_parser
from .commands import COMMANDS

__all__ = ["run"]


def _parse(argv: Sequence[str] | None) -> argparse.Namespace | int:
    parser = build_parser(COMMANDS)
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return args


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``) and return its exit code."""
    parsed = _parse(argv)
    if isinstance(parsed, int):
        return parsed
    args = parsed
    if args.verbose:
        # The SDK's own logging switch: every request and retry is logged on stderr.
        os.environ.setdefault(ENV_LOG, "debug")
    out = Output(json_mode=args.json, quiet=args.quiet)
    ctx: Context | None = None
    try:
        ctx = Context(args, out)
        return int(args.handler(ctx, args))
    except KeyboardInterrupt as exc:
        out.error(str(exc) or "Interrupted.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``aurous list | head``): stop quietly, as Unix tools do.
        _silence_stdout()
        return 1
    except Exception as exc:
        if args.verbose:
            traceback.print_exc()
        report = report_error(exc)
        for line in report.lines:
            out.error(line)
        if not out.json_written:
            out.json({"error": report.data})
        return report.exit_code
    finally:
        if ctx is not None:
            ctx.close()


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
