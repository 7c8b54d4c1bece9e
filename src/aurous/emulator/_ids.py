"""Identifiers: prefixed ULIDs whose time part is the creation time, and opaque tokens."""

from __future__ import annotations

import random
import secrets
import threading
import uuid

__all__ = ["CROCKFORD", "IdMint", "decode_ulid_time"]

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_RANDOM_BITS = 80


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def decode_ulid_time(ulid: str) -> int:
    """Milliseconds encoded in the first 10 characters of a ULID."""
    value = 0
    for char in ulid[:10].upper():
        value = value * 32 + CROCKFORD.index(char)
    return value


class IdMint:
    """Mints ULIDs, tokens, seeds and keys from one random source.

    With a ``seed`` every value is reproducible; without one the system CSPRNG is used. ULIDs are
    monotonic: two ids minted in the same millisecond sort in minting order, which is what list
    ordering ("ties broken by id, i.e. creation order") relies on.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._rng: random.Random = (
            random.Random(seed) if seed is not None else secrets.SystemRandom()
        )
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_random = 0

    def ulid(self, at: float) -> str:
        """A 26-character ULID whose time part is ``at`` (Unix seconds) in milliseconds."""
        ms = max(0, int(at * 1000))
        with self._lock:
            if ms <= self._last_ms:
                # Same (or earlier) millisecond: stay monotonic by bumping the random part.
                ms = self._last_ms
                rand = (self._last_random + 1) & ((1 << _RANDOM_BITS) - 1)
            else:
                rand = self._rng.getrandbits(_RANDOM_BITS)
            self._last_ms, self._last_random = ms, rand
        return _encode(ms, 10) + _encode(rand, 16)

    def prefixed(self, prefix: str, at: float) -> str:
        """``prefix`` + ULID, e.g. ``img_01KS2D7VBRX1NC1J4R82RJEXE5``."""
        return prefix + self.ulid(at)

    def token(self, length: int = 43) -> str:
        """An opaque URL-safe token (43 characters carry 256 bits)."""
        return "".join(self._rng.choice(_TOKEN_ALPHABET) for _ in range(length))

    def hex(self, length: int) -> str:
        """``length`` lowercase hex characters."""
        return f"{self._rng.getrandbits(length * 4):0{length}x}"

    def uuid4(self) -> str:
        """A random (version 4) UUID string."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def api_key(self) -> str:
        """``al_live_`` + 64 lowercase hex characters."""
        return "al_live_" + self.hex(64)

    def randbelow(self, bound: int) -> int:
        """A random integer in ``[0, bound)``."""
        return self._rng.randrange(bound)
