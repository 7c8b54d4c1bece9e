"""Per-team idempotency store: a key is in flight until its request ends, only 2xx results are
stored, and a replay must match the original method, path and body."""

from __future__ import annotations

import dataclasses
import enum

__all__ = ["IdempotencyStore", "Outcome", "StoredResult"]


class Outcome(enum.Enum):
    """What a lookup decided."""

    NEW = "new"
    REPLAY = "replay"
    CONFLICT = "conflict"


@dataclasses.dataclass
class StoredResult:
    """A key's record: in flight until its response exists, then the stored 2xx response."""

    route: str
    fingerprint: str
    in_flight: bool = True
    status: int = 0
    body: bytes = b""
    content_type: str = "application/json"
    stored_at: float = 0.0


class IdempotencyStore:
    """Keys of one team. Only 2xx outcomes are kept, for ``window`` seconds after storing."""

    def __init__(self) -> None:
        self._records: dict[str, StoredResult] = {}

    def lookup(
        self, key: str, route: str, fingerprint: str, now: float, window: float
    ) -> tuple[Outcome, StoredResult | None]:
        """Decide replay / conflict / new. ``NEW`` reserves the key as in flight."""
        record = self._records.get(key)
        if record is not None and not record.in_flight and now >= record.stored_at + window:
            del self._records[key]
            record = None
        if record is None:
            self._records[key] = StoredResult(route=route, fingerprint=fingerprint)
            return Outcome.NEW, None
        if record.in_flight or record.route != route or record.fingerprint != fingerprint:
            return Outcome.CONFLICT, record
        return Outcome.REPLAY, record

    def complete(self, key: str, status: int, body: bytes, content_type: str, now: float) -> None:
        """Store a 2xx result; forget the key for anything else (it is re-evaluated next time)."""
        record = self._records.get(key)
        if record is None or not record.in_flight:
            return
        if 200 <= status < 300:
            record.in_flight = False
            record.status, record.body, record.content_type = status, body, content_type
            record.stored_at = now
        else:
            del self._records[key]

    def abandon(self, key: str) -> None:
        """Forget an in-flight reservation (the request never produced a response)."""
        record = self._records.get(key)
        if record is not None and record.in_flight:
            del self._records[key]

    def __len__(self) -> int:
        return len(self._records)
