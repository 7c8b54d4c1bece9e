"""`Call`: one API request described without doing any I/O, and how its 2xx answer is read."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Generator, Mapping
from typing import Any, Generic, TypeVar

import httpx
import pydantic

from ._errors import APIResponseValidationError, redact_secrets
from ._response import ResponseInfo
from ._types import RequestOptions
from ._validation import (
    check_header_value,
    check_idempotency_key,
    check_json_value,
    resolve_timeout,
)

__all__ = ["MAX_QUERY_LENGTH", "Call", "FilePart"]

T = TypeVar("T")

FilePart = tuple[str, bytes, str]
"""(filename, content, content type)"""

MAX_QUERY_LENGTH = 8192
"""Longest query string sent; servers and proxies commonly refuse longer request lines."""
_EXCERPT = 300
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
"""Methods HTTP defines as idempotent (RFC 9110 §9.2.2): safe to send again."""


def _identity(value: Any) -> Any:
    return value


@dataclasses.dataclass
class Call(Generic[T]):
    """One API request, described without doing any I/O.

    ``yield from call`` inside a method sends it and evaluates to the parsed result. ``route`` is
    the request's method and path template (``"GET /v1/images/{generation_id}"``): the client
    paces requests per route. ``idempotent`` asks for an ``Idempotency-Key`` (generated once per
    call, reused on every retry). Whether the request may be repeated after it possibly reached
    the server is derived (`is_retry_safe`): GET, HEAD, PUT and DELETE are, and so is any request
    that carries an idempotency key; every other POST is not, unless its builder declares
    ``retry_safe=True`` (estimates, cancels: requests without side effects).
    """

    method: str
    path: str
    parse: Callable[[Any], T] = _identity
    query: Mapping[str, Any] | None = None
    json: Any = None
    data: Mapping[str, str] | None = None
    files: Mapping[str, FilePart] | None = None
    idempotent: bool = False
    retry_safe: bool | None = None
    """``True``/``False`` as declared by the endpoint; ``None``: derived (`is_retry_safe`)."""
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
    route: str = ""
    """``"METHOD /path/{template}"``; defaults to the method and the literal path."""
    deadline: float | None = None
    """A reading of the client's monotonic clock past which no attempt or wait may run."""
    creates_generation: bool = False
    """A billable image or video create: it counts toward the team's concurrency limit."""
    max_rate_limit_wait: float | None = None
    """How long this call may wait for rate limits; ``None``: the client's setting."""
    timeout: httpx.Timeout | None = dataclasses.field(default=None, repr=False)
    """The per-call ``timeout`` option, resolved by `prepare`; ``None``: the client's."""
    total_timeout: float | None = None
    """Seconds the whole call may take (a per-call ``timeout`` given as a number), set by
    `prepare`: the flow turns it into a ``deadline``."""
    parse_json: Callable[[bytes], T] | None = None
    """``parse`` straight from the body's bytes (a model's ``model_validate_json``): one pass
    instead of ``json.loads`` then validating the dicts it built."""

    sent: int = dataclasses.field(default=0, init=False, repr=False, compare=False)
    """Requests sent for this call so far (attempts and redirects); a copy starts at 0."""

    def __post_init__(self) -> None:
        if not self.route:
            self.route = f"{self.method} {self.path}"

    @property
    def is_retry_safe(self) -> bool:
        """Whether the request may be sent again after it possibly reached the server."""
        if self.retry_safe is not None:
            return self.retry_safe
        return self.method in _IDEMPOTENT_METHODS or self.idempotency_key is not None

    def __iter__(self) -> Generator[Call[T], Any, T]:
        # ``yield from call``: the one way a method sends a request and gets its result.
        result: T = yield self
        return result

    # ---- before the first attempt ------------------------------------------------------------
    def prepare(self, new_key: Callable[[], str]) -> None:
        """Fix the idempotency key and refuse anything that cannot be sent, naming it.

        Runs once per call, before any attempt: a value that cannot be encoded is the caller's
        mistake (``ValueError``/``TypeError``), not a network failure to retry.
        """
        self._fix_key(new_key)
        options = self.options
        if "max_retries" in options:
            retries = options["max_retries"]
            if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
                raise ValueError(f"max_retries must be an int >= 0, got {retries!r:.60}")
        if "timeout" in options:
            timeout = options["timeout"]
            self.timeout = resolve_timeout(timeout, "timeout")
            if not isinstance(timeout, httpx.Timeout) and timeout is not None:
                self.total_timeout = float(timeout)
        if self.json is not None:
            for name, value in self.json.items() if isinstance(self.json, dict) else ():
                check_json_value(value, name)
        for option in ("extra_body", "extra_query"):
            for name, value in (options.get(option) or {}).items():  # type: ignore[attr-defined]
                if not isinstance(name, str):
                    raise TypeError(f"{option} keys must be str, not {type(name).__name__}")
                check_json_value(name, f"{option} key {name!r}")
                check_json_value(value, f"{option}[{name!r}]")
        if self.query or options.get("extra_query"):
            self._check_query()

    def _fix_key(self, new_key: Callable[[], str]) -> None:
        for name, value in (self.options.get("extra_headers") or {}).items():
            check_header_value(f"extra_headers[{name!r}]", value, header=name)
            if name.lower() == "idempotency-key":
                # The caller's own key is the one sent (once) and the one errors report.
                check_idempotency_key(f"extra_headers[{name!r}]", value)
                self.idempotency_key = value
        if self.idempotency_key is not None:
            check_idempotency_key("idempotency_key", self.idempotency_key)
        elif self.idempotent:
            self.idempotency_key = new_key()

    def _check_query(self) -> None:
        params: list[tuple[str, Any]] = list(self.query_params())
        for name, value in params:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError(
                    f"query parameter {name!r} contains a lone surrogate ({value[exc.start]!r} at "
                    f"position {exc.start}), which is not valid UTF-8"
                ) from None
        length = len(str(httpx.QueryParams(params)))
        if length > MAX_QUERY_LENGTH:
            raise ValueError(
                f"the query string would be {length:,} characters long; the limit is "
                f"{MAX_QUERY_LENGTH:,} (check extra_query and list arguments)"
            )

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
        return _encode_query(merged)

    # ---- after a 2xx -------------------------------------------------------------------------
    def read(self, response: httpx.Response) -> T:
        """Decode ``response`` (2xx) into the result, remembering the response on it.

        Whatever the body holds, the caller gets the result or an `APIResponseValidationError`
        that carries the idempotency key: a raw decoding exception would lose the one thing that
        recovers a create the server has committed.
        """
        info = ResponseInfo.from_httpx(response, self.idempotency_key)
        content = response.content
        # Deferred (down the layers): the models' base class loads with the first answer read,
        # not with the client.
        from ._models import attach_response

        if self.parse_json is not None and content:
            try:
                result = self.parse_json(content)
            except (TypeError, ValueError, KeyError, RecursionError):
                pass  # read again below, which names what is wrong exactly as it always has
            else:
                if not _may_carry_error_envelope(result):
                    return attach_response(result, info)
        failure: Exception | None = None
        try:
            body = json.loads(content) if content else None
        except (ValueError, RecursionError) as exc:
            # ValueError covers bad JSON and bytes that are not UTF-8 (UnicodeDecodeError).
            failure, why = exc, f"the body is not JSON ({_reason(exc)})"
        else:
            if isinstance(body, dict) and isinstance(body.get("error"), dict):
                code = body["error"].get("code")
                raise self._unreadable(
                    response,
                    f"a {response.status_code} answer carries an error envelope ({code!r})",
                )
            try:
                result = self.parse(body)
            except (
                pydantic.ValidationError,
                TypeError,
                ValueError,
                KeyError,
                RecursionError,
            ) as exc:
                failure, why = exc, f"the body does not have the expected shape ({_reason(exc)})"
            else:
                return attach_response(result, info)
        # Raised out here, not in the ``except``: a body holding a secret must not stay
        # reachable through the error's ``__context__`` (a validation error quotes the input).
        raise self._unreadable(response, why, failure)

    def _unreadable(
        self, response: httpx.Response, why: str, cause: Exception | None = None
    ) -> APIResponseValidationError:
        request = response.request
        message = f"{request.method} {request.url.path} answered {response.status_code} but {why}"
        excerpt = _excerpt(response.content)
        error = APIResponseValidationError(
            redact_secrets(message),
            response=response,
            body=excerpt,
            idempotency_key=self.idempotency_key,
        )
        if cause is not None and not _holds_secret(response.content):
            error.__cause__ = cause
        return error


def _may_carry_error_envelope(model: Any) -> bool:
    """Whether a model parsed from a 2xx body has an ``error`` member: the body is then read
    again the slow way, which decides whether it is an error envelope."""
    extra = getattr(model, "__pydantic_extra__", None)
    if extra and extra.get("error") is not None:
        return True
    return getattr(model, "__dict__", {}).get("error") is not None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, pydantic.ValidationError):
        first = exc.errors()[0] if exc.error_count() else None
        if first is not None:
            where = ".".join(str(part) for part in first["loc"]) or "body"
            return f"{exc.error_count()} error(s); first at {where}: {first['msg']}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return f"{type(exc).__name__}: {exc}"[:200]


def _excerpt(content: bytes) -> str | None:
    if not content:
        return None
    text = content[: _EXCERPT * 4].decode("utf-8", "replace")
    # Redacted before it is cut: a secret cut in half would no longer match.
    text = redact_secrets(text)
    return text[:_EXCERPT] + ("…" if len(text) > _EXCERPT else "")


def _holds_secret(content: bytes) -> bool:
    return b"whsec_" in content or b"al_live_" in content or b"al_test_" in content


def _encode_query(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out.append((key, "true" if value else "false"))
        elif isinstance(value, (list, tuple)):
            # The API takes lists comma-separated (spec/openapi.yaml, e.g. usage_list group_by).
            out.append((key, ",".join(str(v) for v in value)))
        elif hasattr(value, "isoformat"):
            out.append((key, _rfc3339(value)))
        else:
            out.append((key, str(value)))
    return out


def _rfc3339(value: Any) -> str:
    # Naive datetimes are taken as UTC: the API speaks UTC only.
    if getattr(value, "tzinfo", False) is None and hasattr(value, "hour"):
        return f"{value.isoformat()}Z"
    text: str = value.isoformat()
    return text.replace("+00:00", "Z")
