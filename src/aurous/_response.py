"""What a result remembers about the HTTP response that produced it."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from typing import Generic, TypeVar

import httpx

__all__ = ["APIResponse", "RateLimit", "ResponseInfo"]

T = TypeVar("T")


# Where each header lands in `header_values`: both spellings of the rate-limit figures (the
# ``X-`` one wins) and the server's ``Date``, which pacing reads beside them.
_WANTED = {
    b"x-ratelimit-limit": 0,
    b"x-ratelimit-remaining": 1,
    b"x-ratelimit-reset": 2,
    b"ratelimit-limit": 3,
    b"ratelimit-remaining": 4,
    b"ratelimit-reset": 5,
    b"date": 6,
}
_NAMES = [name.decode() for name in _WANTED]


def header_values(headers: Mapping[str, str]) -> list[str | None]:
    """The headers of `_WANTED`, in its order (``None`` where absent), as ``headers.get``
    would give each (repeats joined by ", ").

    Read in one pass over an ``httpx.Headers``: every response is read for pacing, and each
    ``get`` scans and decodes every header again.
    """
    if not isinstance(headers, httpx.Headers):
        return [headers.get(name) for name in _NAMES]
    found: list[bytes | None] = [None] * len(_NAMES)
    for key, value in headers.raw:
        slot = _WANTED.get(key.lower())
        if slot is not None:
            seen = found[slot]
            found[slot] = value if seen is None else seen + b", " + value
    encoding = headers.encoding
    return [None if value is None else value.decode(encoding) for value in found]


_ABSURD = 1e300
"""Figures beyond it (``inf``, ``1e999``, 400 digits) are no figures: pacing cannot plan with
them."""


def _number(raw: str | None, fallback: str | None) -> int | None:
    """``raw`` if it is a finite number, else ``fallback`` if it is one, as an int."""
    if raw is not None:
        number = _parse(raw)
        if number is not None:
            return number
    return None if fallback is None else _parse(fallback)


def _parse(raw: str) -> int | None:
    try:
        whole = int(raw)  # what servers send: whole seconds and counts
    except ValueError:
        try:
            value = float(raw)
        except ValueError:
            return None
        return int(value) if abs(value) < _ABSURD else None  # also false for NaN
    return whole if -_ABSURD < whole < _ABSURD else None


@dataclasses.dataclass(frozen=True)
class RateLimit:
    """The rate-limit figures of one response (``X-RateLimit-*``, falling back to ``RateLimit-*``)."""

    limit: int | None
    remaining: int | None
    reset: int | None
    """Unix seconds at which the bucket is full again."""

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimit:
        return cls.from_values(header_values(headers))

    @classmethod
    def from_values(cls, values: list[str | None]) -> RateLimit:
        """From what `header_values` read."""
        return cls(*figures(values))

    def seconds_until_reset(self, now: float | None = None) -> float | None:
        """Seconds from ``now`` until ``reset`` (never negative), or ``None`` when unknown."""
        return until_reset(self.reset, time.time() if now is None else now)


Figures = tuple[int | None, int | None, int | None]
"""(limit, remaining, reset): `RateLimit`'s fields, as pacing reads them on every response."""


def figures(values: list[str | None]) -> Figures:
    """The rate-limit figures in what `header_values` read."""
    return (
        _number(values[0], values[3]),
        _number(values[1], values[4]),
        _number(values[2], values[5]),
    )


YEAR = 365 * 24 * 3600
"""A ``Reset`` below this is a number of seconds; above, a Unix time."""


def until_reset(reset: int | None, now: float) -> float | None:
    """Seconds from ``now`` until a ``Reset`` figure (never negative), or ``None``."""
    if reset is None:
        return None
    # Some servers send a delta instead of a timestamp; anything below a year is a delta.
    if reset < YEAR:
        return float(reset)
    return max(0.0, math.ceil(reset - now))


@dataclasses.dataclass(frozen=True)
class ResponseInfo:
    """Status, headers and identifiers of the HTTP response behind a result.

    Available on every result as ``result._response``.
    """

    status_code: int
    headers: httpx.Headers
    method: str
    url: str
    idempotency_key: str | None = None

    @property
    def request_id(self) -> str | None:
        """The ``Aurous-Request-Id`` of the response; quote it when contacting support."""
        value: str | None = self.headers.get("aurous-request-id")
        return value

    @property
    def rate_limit(self) -> RateLimit:
        """Rate-limit figures reported with this response."""
        return RateLimit.from_headers(self.headers)

    @property
    def replayed(self) -> bool:
        """True when the server replayed a stored idempotent response."""
        value: str = self.headers.get("aurous-idempotent-replayed", "")
        return value.lower() == "true"

    @property
    def api_version(self) -> str | None:
        """The ``Aurous-Version`` the server applied."""
        value: str | None = self.headers.get("aurous-version")
        return value

    @classmethod
    def from_httpx(
        cls, response: httpx.Response, idempotency_key: str | None = None
    ) -> ResponseInfo:
        return cls(
            status_code=response.status_code,
            headers=response.headers,
            method=response.request.method,
            url=str(response.request.url),
            idempotency_key=idempotency_key,
        )


class APIResponse(Generic[T]):
    """What a call made through ``client.with_raw_response`` returns: the HTTP response behind
    the result, and the result itself (`parse`).

    >>> raw = client.with_raw_response.images.create(prompt="a lighthouse at dusk")
    >>> raw.status_code, raw.request_id, raw.rate_limit.remaining
    >>> generation = raw.parse()

    For methods that send several requests (``create_and_wait``, ``download``), the response is
    the last one the call received; ``http_response`` is ``None`` when it sent none (``wait`` on a
    generation that had already finished).
    """

    __slots__ = ("_result", "http_response", "idempotency_key")

    def __init__(
        self, http_response: httpx.Response | None, result: T, idempotency_key: str | None
    ) -> None:
        self.http_response = http_response
        """The ``httpx.Response`` itself (its body already read, unless it was streamed)."""
        self.idempotency_key = idempotency_key
        """The ``Idempotency-Key`` sent with the request, if any."""
        self._result = result

    def parse(self) -> T:
        """The call's result: what the method returns without ``with_raw_response``."""
        return self._result

    @property
    def status_code(self) -> int | None:
        """The HTTP status (``None`` when no request was sent)."""
        return self.http_response.status_code if self.http_response is not None else None

    @property
    def headers(self) -> httpx.Headers:
        """The response headers (empty when no request was sent)."""
        return self.http_response.headers if self.http_response is not None else httpx.Headers()

    @property
    def info(self) -> ResponseInfo | None:
        """The same readings as a result's ``._response`` (None when no request was sent)."""
        response = self.http_response
        return None if response is None else ResponseInfo.from_httpx(response, self.idempotency_key)

    @property
    def request_id(self) -> str | None:
        """The ``Aurous-Request-Id``; quote it when contacting support."""
        info = self.info
        return None if info is None else info.request_id

    @property
    def rate_limit(self) -> RateLimit:
        """The rate-limit figures reported with the response."""
        return RateLimit.from_headers(self.headers)

    @property
    def replayed(self) -> bool:
        """True when the server replayed a stored idempotent response."""
        info = self.info
        return info is not None and info.replayed

    def __repr__(self) -> str:
        request = self.http_response.request if self.http_response is not None else None
        what = f"{request.method} {request.url.path}" if request is not None else "no request"
        return f"<APIResponse [{self.status_code}] {what}>"
