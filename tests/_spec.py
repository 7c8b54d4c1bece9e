"""The endpoint table: one row per operation of ``spec/openapi.yaml``, read once.

The document is the single list of routes. Its ``x-aurous-*`` operation extensions (described in
the document's ``info.description``) name the SDK method, the rate-limit buckets and whether the
operation honours ``Idempotency-Key``. Every other route list in the tests is derived from
:data:`ENDPOINTS`; the reader refuses an operation whose extensions are missing or malformed, so a
route added without them fails every test that uses the table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml  # type: ignore[import-untyped]

__all__ = [
    "ENDPOINTS",
    "HTTP_METHODS",
    "SPEC_PATH",
    "Endpoint",
    "SpecError",
    "by_operation_id",
    "endpoints_of",
    "host_of",
    "load_document",
    "sdk_method_of",
]

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT / "spec" / "openapi.yaml"

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

SDK_METHOD = "x-aurous-sdk-method"
SDK_ALIASES = "x-aurous-sdk-aliases"
BUCKET = "x-aurous-bucket"
IDEMPOTENT = "x-aurous-idempotent"
RETRY_SAFE = "x-aurous-retry-safe"
EXTENSIONS = frozenset({SDK_METHOD, SDK_ALIASES, BUCKET, IDEMPOTENT, RETRY_SAFE})
SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
"""Methods HTTP defines as idempotent: safe to repeat unless the table says otherwise."""

_DOTTED = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+")
_BUCKET_NAME = re.compile(r"[a-z][a-z0-9_]*")
_PARAM = re.compile(r"\{[^/{}]+\}")


class SpecError(ValueError):
    """An operation of the document does not carry valid ``x-aurous-*`` extensions."""


@dataclass(frozen=True)
class Endpoint:
    """One operation of the document: a row of the endpoint table."""

    method: str
    """Upper case, as sent on the wire (``"POST"``)."""
    path: str
    """The path template of the document (``"/v1/images/{id}"``)."""
    operation_id: str
    sdk_method: str | None
    """Dotted path from the client (``"characters.uploads.init"``); None for legacy redirects."""
    sdk_aliases: tuple[str, ...]
    """Further SDK methods calling the same route (``videos.retrieve``)."""
    buckets: tuple[str, ...]
    """Rate-limit buckets the request is counted in; empty when it is not counted."""
    idempotent: bool
    """The operation honours ``Idempotency-Key``."""
    retry_safe: bool
    """May be sent again after it may have reached the server: an idempotent HTTP method, an
    idempotent operation, or ``x-aurous-retry-safe``."""
    success: tuple[str, ...]
    """The documented 2xx/3xx statuses, ascending."""
    server: str | None
    """The path item's own server (an origin other than the API host), if any."""
    auth_schemes: frozenset[str]
    """Security schemes that authenticate the operation (``ApiKeyAuth``, ``OutputToken`` …);
    empty when it takes no credential."""
    scope: str | None
    """The key scope the operation needs (``read`` or ``write``); None without an API key."""

    @property
    def sdk_methods(self) -> tuple[str, ...]:
        """The SDK method and its aliases; empty when the SDK has no method for the route."""
        return () if self.sdk_method is None else (self.sdk_method, *self.sdk_aliases)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def matches(self, path: str) -> bool:
        """Whether a concrete request path fits this endpoint's template."""
        pattern = "".join(
            "[^/]+" if _PARAM.fullmatch(part) else re.escape(part)
            for part in re.split(r"(\{[^/{}]+\})", self.path)
        )
        return re.fullmatch(pattern, path) is not None


def load_document(path: Path = SPEC_PATH) -> dict[str, Any]:
    """The parsed document."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise SpecError(f"{path} is not a mapping")
    return document


def _operations(document: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any], Any]]:
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield method, path, item[method], item


def endpoints_of(document: Mapping[str, Any]) -> tuple[Endpoint, ...]:
    """The endpoint table of ``document``, in document order; raises :class:`SpecError`."""
    rows = [_endpoint(document, *found) for found in _operations(document)]
    ids = [row.operation_id for row in rows]
    if len(ids) != len(set(ids)):
        raise SpecError(f"operation ids repeat: {sorted(i for i in ids if ids.count(i) > 1)}")
    named = [name for row in rows for name in row.sdk_methods]
    if len(named) != len(set(named)):
        raise SpecError(
            f"SDK methods named twice: {sorted(n for n in named if named.count(n) > 1)}"
        )
    return tuple(rows)


def _endpoint(
    document: Mapping[str, Any], method: str, path: str, op: Mapping[str, Any], item: Any
) -> Endpoint:
    where = f"{method.upper()} {path}"
    unknown = {key for key in op if key.startswith("x-aurous-")} - EXTENSIONS
    if unknown:
        raise SpecError(f"{where}: unknown extensions {sorted(unknown)}")
    for required in (SDK_METHOD, BUCKET):
        if required not in op:
            raise SpecError(f"{where}: {required} is missing")

    sdk_method = op[SDK_METHOD]
    if sdk_method is not None and not (
        isinstance(sdk_method, str) and _DOTTED.fullmatch(sdk_method)
    ):
        raise SpecError(f"{where}: {SDK_METHOD} must be a dotted method path or null")
    aliases = op.get(SDK_ALIASES, [])
    if not (isinstance(aliases, list) and all(isinstance(a, str) for a in aliases)):
        raise SpecError(f"{where}: {SDK_ALIASES} must be a list of method paths")
    if aliases and sdk_method is None:
        raise SpecError(f"{where}: {SDK_ALIASES} without {SDK_METHOD}")
    if not all(_DOTTED.fullmatch(alias) for alias in aliases):
        raise SpecError(f"{where}: {SDK_ALIASES} must be dotted method paths")

    buckets = op[BUCKET]
    if not (
        isinstance(buckets, list)
        and all(isinstance(b, str) and _BUCKET_NAME.fullmatch(b) for b in buckets)
        and len(buckets) == len(set(buckets))
    ):
        raise SpecError(f"{where}: {BUCKET} must be a list of distinct bucket names")
    idempotent = op.get(IDEMPOTENT, False)
    if not isinstance(idempotent, bool):
        raise SpecError(f"{where}: {IDEMPOTENT} must be a boolean")
    declared_safe = op.get(RETRY_SAFE, False)
    if declared_safe is not True and RETRY_SAFE in op:
        raise SpecError(f"{where}: {RETRY_SAFE} must be true when present")

    servers = item.get("servers") or []
    success = sorted(str(code) for code in op["responses"] if str(code)[0] in "23")
    security = op.get("security", document.get("security", []))
    scopes = {scope for requirement in security for scope in requirement.get("ApiKeyAuth", [])}
    if len(scopes) > 1:
        raise SpecError(f"{where}: more than one API key scope {sorted(scopes)}")
    return Endpoint(
        method=method.upper(),
        path=path,
        operation_id=op["operationId"],
        sdk_method=sdk_method,
        sdk_aliases=tuple(aliases),
        buckets=tuple(buckets),
        idempotent=idempotent,
        retry_safe=declared_safe or idempotent or method.upper() in SAFE_METHODS,
        success=tuple(success),
        server=servers[0]["url"] if servers else None,
        auth_schemes=frozenset(name for requirement in security for name in requirement),
        scope=scopes.pop() if scopes else None,
    )


def sdk_method_of(client: object, dotted: str) -> Any:
    """``client.images.create`` for ``"images.create"``: ``getattr`` down the dotted path."""
    target: Any = client
    for name in dotted.split("."):
        target = getattr(target, name)
    return target


def host_of(endpoint: Endpoint) -> str | None:
    """The host name of the endpoint's own server, if it has one."""
    return None if endpoint.server is None else urlsplit(endpoint.server).hostname


ENDPOINTS: tuple[Endpoint, ...] = endpoints_of(load_document())
"""The endpoint table of ``spec/openapi.yaml``."""


def by_operation_id() -> dict[str, Endpoint]:
    return {endpoint.operation_id: endpoint for endpoint in ENDPOINTS}
