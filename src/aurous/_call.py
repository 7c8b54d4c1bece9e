"""IO-free descriptions of API requests: what one call sends and how its answer is read."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import httpx

from ._models import attach_response
from ._response import ResponseInfo
from ._types import RequestOptions

__all__ = ["Call", "FilePart"]

T = TypeVar("T")

# (filename, content, content type)
FilePart = tuple[str, bytes, str]


def _identity(value: Any) -> Any:
    return value


@dataclasses.dataclass
class Call(Generic[T]):
    """One API request, described without doing any I/O.

    ``parse`` turns the decoded JSON body into the result; ``idempotent`` asks the transport to send an
    ``Idempotency-Key`` (generated once per call, reused on every retry); ``retry_safe`` says whether the
    request may be repeated after it possibly reached the server.
    """

    method: str
    path: str
    parse: Callable[[Any], T] = _identity
    query: Mapping[str, Any] | None = None
    json: Any = None
    data: Mapping[str, str] | None = None
    files: Mapping[str, FilePart] | None = None
    idempotent: bool = False
    retry_safe: bool = True
    options: RequestOptions = dataclasses.field(default_factory=lambda: RequestOptions())
    idempotency_key: str | None = None
    raw: bool = False
    """Return the ``httpx.Response`` itself (body unread when streamed) instead of parsing JSON."""
    stream: bool = False
    absolute_url: str | None = None
    """Send to this URL (e.g. an output URL) instead of ``base_url + path``."""
    authenticate: bool = True
    """False for requests that must never carry the API key (signed upload URLs)."""
    content: bytes | None = None
    headers: Mapping[str, str] | None = None

    def body_json(self) -> Any:
        body = self.json
        extra = self.options.get("extra_body")
        if extra:
            body = {**(body or {}), **extra}
        return body

    def query_params(self) -> list[tuple[str, str]]:
        merged: dict[str, Any] = {}
        if self.query:
            merged.update(self.query)
        extra = self.options.get("extra_query")
        if extra:
            merged.update(extra)
        return list(_encode_query(merged))

    def read(self, response: httpx.Response) -> T:
        """Decode ``response`` (2xx) into the result, remembering the response on it."""
        info = ResponseInfo.from_httpx(response, self.idempotency_key)
        body = json.loads(response.content) if response.content else None
        return attach_response(self.parse(body), info)


def _encode_query(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out.append((key, "true" if value else "false"))
        elif isinstance(value, (list, tuple)):
            # The API takes lists comma-separated (endpoints.md §6.1).
            out.append((key, ",".join(str(v) for v in value)))
        elif hasattr(value, "isoformat"):
            out.append((key, _rfc3339(value)))
        else:
            out.append((key, str(value)))
    return out


def _rfc3339(value: Any) -> str:
    # Naive datetimes are taken as UTC: the API speaks UTC only (conventions.md §9).
    if getattr(value, "tzinfo", False) is None and hasattr(value, "hour"):
        return f"{value.isoformat()}Z"
    text: str = value.isoformat()
    return text.replace("+00:00", "Z")


def compact(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Drop ``None`` values: the SDK sends only the fields the caller set (conventions.md §7.2)."""
    return {k: v for k, v in mapping.items() if v is not None}


def sequence_or_none(value: Sequence[Any] | None) -> list[Any] | None:
    return list(value) if value is not None else None
