"""Plain request/response values the core works on, and the emulator's JSON encoding."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["API_VERSION", "EmuRequest", "EmuResponse", "canonical_json", "dumps", "to_wire"]

API_VERSION = "2026-05-15"
"""The API version the emulator implements (its ``Aurous-Version`` header and event envelopes)."""


@dataclasses.dataclass(frozen=True)
class EmuRequest:
    """One HTTP request, independent of how it arrived.

    ``headers`` keys are lowercase. ``base_url`` is the scheme and authority the request was sent
    to (``http://127.0.0.1:8080``); URLs the emulator returns are built on it.
    """

    method: str
    path: str
    query_string: str = ""
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    body: bytes = b""
    base_url: str = "http://aurous.emulator.local"

    @classmethod
    def build(
        cls,
        method: str,
        path: str,
        *,
        query_string: str = "",
        headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        base_url: str = "http://aurous.emulator.local",
    ) -> EmuRequest:
        """Normalise header names to lowercase; when a header repeats, the first value wins."""
        items = headers.items() if isinstance(headers, Mapping) else headers
        folded: dict[str, str] = {}
        for name, value in items:
            folded.setdefault(name.lower(), value)
        return cls(method.upper(), path, query_string, folded, body, base_url.rstrip("/"))

    @property
    def query(self) -> list[tuple[str, str]]:
        """Decoded query pairs in order, blank values kept."""
        return parse_qsl(self.query_string, keep_blank_values=True)


@dataclasses.dataclass
class EmuResponse:
    """One HTTP response. ``drop_connection`` tells adapters to fail the connection instead."""

    status: int
    headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    body: bytes = b""
    drop_connection: bool = False

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive)."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def set_header(self, name: str, value: str) -> None:
        """Replace (or add) header ``name``."""
        lowered = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != lowered]
        self.headers.append((name, value))


def to_wire(value: Any) -> Any:
    """Turn ``Decimal`` credits into JSON numbers: whole values without a fraction."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        # A finite decimal with few digits round-trips exactly through float's shortest repr.
        return float(value)
    if isinstance(value, dict):
        return {key: to_wire(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_wire(item) for item in value]
    return value


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return to_wire(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON; ``Decimal`` credits as exact numbers (via :func:`to_wire`)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_default).encode(
        "utf-8"
    )


def _canonical(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        # Numbers compare by value: 1, 1.0 and 1e0 are the same number.
        return ["#", str(Decimal(str(value)).normalize())]
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return repr(value)


def canonical_json(value: Any) -> str:
    """A string equal for structurally equal JSON values (how an idempotent replay's body is
    compared with the original's)."""
    return json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"))
