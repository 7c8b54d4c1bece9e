"""The ``aurous`` command line (install the ``cli`` extra for progress bars and tables).

Run ``aurous --help`` for the commands; ``python -m aurous.cli`` is equivalent.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``aurous`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    Exit codes: 0 success, 1 API or generation failure, 2 usage error, 130 interrupted.
    """
    from ._app import run

    return run(argv)
