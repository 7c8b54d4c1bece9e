"""Relative times on the command line: ``30m``, ``12h``, ``7d`` (``--since``)."""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["parse_duration", "since"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)


def parse_duration(text: str) -> dt.timedelta:
    """``"90s"``, ``"30m"``, ``"12h"``, ``"7d"`` or ``"2w"`` as a ``timedelta``.

    Raises ``ValueError`` with a message fit for the user on anything else (argparse shows it).
    """
    match = _PATTERN.match(text)
    if match is None:
        raise ValueError(f"invalid duration {text!r}: use a number and a unit, e.g. 30m, 12h or 7d")
    amount = float(match.group(1))
    if amount <= 0:
        raise ValueError(f"invalid duration {text!r}: it must be longer than zero")
    return dt.timedelta(seconds=amount * _UNITS[match.group(2).lower()])


def since(text: str, *, now: dt.datetime | None = None) -> dt.datetime:
    """The UTC instant ``text`` (a duration) before ``now`` (default: the current time)."""
    current = now if now is not None else dt.datetime.now(dt.timezone.utc)
    return (current - parse_duration(text)).replace(microsecond=0)
