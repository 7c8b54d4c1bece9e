"""The exception tree (see docs/guides/errors.md) and the mapping from HTTP responses to it."""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any

import httpx

from ._response import RateLimit

if TYPE_CHECKING:
    from .types.generation import Generation

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AurousError",
    "AuthenticationError",
    "BudgetExceededError",
    "GenerationFailedError",
    "IdempotencyKeyInUseError",
    "InsufficientBalanceError",
    "InvalidRequestError",
    "NotFoundError",
    "OutputExpiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "error_from_response",
    "redact",
    "redact_secrets",
]

_SECRET = re.compile(r"\b(whsec|al_live|al_test)_[A-Za-z0-9_\-+/=]+")
"""A webhook signing secret or an API key, as the API writes them."""


def redact_secrets(text: str) -> str:
    """``text`` with webhook signing secrets and API keys replaced by ``[redacted]``.

    For excerpts of bodies that errors carry: an error travels into logs and bug reports, and
    the answer to a webhook endpoint's create holds its signing secret.
    """
    return _SECRET.sub(r"\1_[redacted]", text) if "_" in text else text


class AurousError(Exception):
    """Base class of every error this SDK raises.

    Every error raised after a billable create was sent carries that create's
    ``idempotency_key``, and an error of ``create_and_wait`` also the last ``generation`` read:
    send the create again with the key to get the same generation back, never a second one.
    """

    idempotency_key: str | None = None
    """The ``Idempotency-Key`` of the create this error followed (``None`` when there was none):
    sending the create again with it returns the generation the server holds, billed once."""
    generation: Generation | None = None
    """The last state of the generation read before the error (``create_and_wait``, ``wait``),
    or ``None`` when none was read."""

    def __str__(self) -> str:
        text = super().__str__()
        key = self.idempotency_key
        if key and key not in text:
            return f"{text} [idempotency_key: {key}]"
        return text


def redact(request: httpx.Request | None) -> None:
    # An error travels into logs and bug reports: the request it carries (``exc.request``,
    # ``exc.response.request``, the chained httpx error's) must not hold the API key.
    if request is not None:
        for name in ("x-api-key", "authorization"):
            if name in request.headers:
                request.headers[name] = "[redacted]"


def _request_of(response: httpx.Response | None) -> httpx.Request | None:
    try:
        return response.request if response is not None else None
    except RuntimeError:  # a response built by hand, without a request
        return None


class APIConnectionError(AurousError):
    """The request could not be completed: nothing (or nothing whole) came back from the server."""

    def __init__(
        self,
        message: str = "Connection error.",
        *,
        request: httpx.Request | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        super().__init__(message)
        redact(request)
        self.message = message
        self.request = request
        self.idempotency_key = idempotency_key
        """The ``Idempotency-Key`` sent; retry with it to resume without a duplicate."""

    def __str__(self) -> str:
        if self.idempotency_key and self.idempotency_key not in self.message:
            return f"{self.message} [idempotency_key: {self.idempotency_key}]"
        return self.message


class APITimeoutError(APIConnectionError):
    """The request timed out."""

    def __init__(
        self,
        message: str = "Request timed out.",
        *,
        request: httpx.Request | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        super().__init__(message, request=request, idempotency_key=idempotency_key)


class APIStatusError(AurousError):
    """The API answered with a non-2xx status.

    Attributes mirror the error envelope: ``type``, ``code``, ``message``, ``param``, ``doc_url``,
    ``request_id``; plus ``status_code``, the ``response`` and the ``idempotency_key`` that was sent.
    """

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        doc_url: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        idempotency_key: str | None = None,
    ) -> None:
        super().__init__(message)
        redact(_request_of(response))
        self.message = message
        self.response = response
        self.status_code = response.status_code
        self.type = type
        self.code = code
        self.param = param
        self.doc_url = doc_url
        self.request_id = request_id
        self.body = body
        self.idempotency_key = idempotency_key

    @property
    def rate_limit(self) -> RateLimit:
        """Rate-limit figures reported with the error response."""
        return RateLimit.from_headers(self.response.headers)

    def __str__(self) -> str:
        parts = [f"{self.status_code}"]
        if self.code:
            parts.append(self.code)
        text = f"[{' '.join(parts)}] {self.message}"
        if self.param:
            text += f" (param: {self.param})"
        if self.request_id:
            text += f" [request_id: {self.request_id}]"
        if self.idempotency_key:
            # What recovers a create: sending it again with this key replays, never re-bills.
            text += f" [idempotency_key: {self.idempotency_key}]"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, code={self.code!r}, "
            f"message={self.message!r}, param={self.param!r}, request_id={self.request_id!r})"
        )


class InvalidRequestError(APIStatusError):
    """The request was rejected as invalid (type ``invalid_request``: 400, 402, 409, 416, 422)."""


class InsufficientBalanceError(InvalidRequestError):
    """402 ``balance_too_low``: the team's available credits do not cover the cost."""


class IdempotencyKeyInUseError(InvalidRequestError):
    """409 ``idempotency_key_in_use``: the key is in flight, or was used with another body/route."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, unknown or revoked."""


class PermissionDeniedError(AuthenticationError):
    """403 ``missing_scope``: the key's scope does not allow this request."""


class NotFoundError(APIStatusError):
    """404 (and 410): the resource does not exist or is not visible to this team."""


class OutputExpiredError(NotFoundError):
    """410 ``output_expired``: the generation's output is past its retention."""


class RateLimitError(APIStatusError):
    """429: a rate-limit bucket is empty or too many generations are in flight."""

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked to wait (``Retry-After``), if it said."""
        raw = self.response.headers.get("retry-after")
        if raw is None:
            return None
        try:
            value = float(raw)
        except ValueError:
            return None
        # NaN or infinity is no instruction (the API sends whole seconds, at least 1).
        return max(0.0, value) if math.isfinite(value) else None


class ServerError(APIStatusError):
    """5xx: the server failed. Retried automatically when the request is safe to repeat."""


class APIResponseValidationError(AurousError):
    """An answer the SDK cannot use: a 2xx it cannot read (not JSON, not UTF-8, the wrong shape,
    an error envelope, larger than ``max_response_size``), a list whose cursors cannot be
    followed, or a redirect to a location no client can follow.

    The server may have done the work (a create is committed once it answers 2xx), so this
    carries what is needed to recover it: ``idempotency_key`` (send the create again with it to
    get the generation back), ``request_id`` (for support), ``response`` and a ``body`` excerpt.
    """

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response | None,
        body: str | None = None,
        idempotency_key: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        redact(_request_of(response))
        self.message = message
        self.response = response
        """The ``httpx.Response`` (``None`` when the problem spans several responses)."""
        self.status_code = response.status_code if response is not None else None
        self.body = body
        """The start of the body as text (at most 300 characters), or ``None`` when unreadable."""
        self.request_id: str | None = request_id or (
            response.headers.get("aurous-request-id") if response is not None else None
        )
        self.idempotency_key = idempotency_key

    def __str__(self) -> str:
        text = self.message
        if self.request_id:
            text += f" [request_id: {self.request_id}]"
        if self.idempotency_key:
            text += f" [idempotency_key: {self.idempotency_key}]"
        return text


class BudgetExceededError(AurousError):
    """A create was not sent: its estimated price would take a budget past its cap.

    Raised by a create made through a client copy with an `aurous.Budget`
    (``with_options(budget=…)``), and reported for batch items not started because of the
    batch's ``max_credits`` or of such a budget. ``spent`` is what was committed or held when
    the create was refused, ``cost`` its estimated price, ``max_credits`` the cap, ``name`` the
    budget's name (``None`` for an unnamed budget or a batch's ``max_credits``). Nothing was
    sent; a resumed batch with a larger cap starts the items left out. A shared budget whose
    store is unreachable refuses too, with ``spent`` NaN (unknown).
    """

    def __init__(
        self,
        message: str,
        *,
        max_credits: float,
        spent: float,
        cost: float | None,
        name: str | None = None,
    ) -> None:
        super().__init__(message)
        self.max_credits = max_credits
        self.spent = spent
        self.cost = cost
        self.name = name


class WaitTimeoutError(AurousError):
    """``wait()`` reached its deadline before the generation finished.

    ``generation`` is the last state seen (``None`` if none was fetched).
    """

    def __init__(self, message: str, *, generation: Generation | None) -> None:
        super().__init__(message)
        self.generation = generation


class GenerationFailedError(AurousError):
    """A generation ended without output (failed, cancelled, expired, moderation_rejected, …).

    The message names the generation, its status, the API's error message and what happened to
    the credits; ``generation`` is the terminal row.
    """

    def __init__(self, message: str | None = None, *, generation: Generation) -> None:
        super().__init__(message or _failure_message(generation))
        self.generation: Generation = generation
        self.error_message: str | None = generation.error_message


def _failure_message(generation: Generation) -> str:
    text = f"generation {generation.id} ended with status {generation.status!r}"
    if generation.error_message:
        text += f": {generation.error_message}"
    cost = generation.cost
    if cost is None:
        return text
    # A terminal row without output holds no charge: the hold was released (cost 0 in every part).
    if cost.amount == 0:
        return text + " (no credits were charged; the hold was released)"
    return text + f" ({cost.amount:g} credits were charged)"


class WebhookVerificationError(AurousError):
    """A webhook payload could not be verified: bad signature, stale timestamp or malformed header."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Older spellings found on some documentation pages map like their modern names.
_CODE_ALIASES = {
    "invalid_request_error": "invalid_request",
    "insufficient_credits": "balance_too_low",
}
_TEXT_EXCERPT = 300


def _envelope(response: httpx.Response) -> tuple[dict[str, Any] | None, Any]:
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:
        return None, None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"], body
    return None, body


def _error_class(status: int, type_: str | None, code: str | None) -> type[APIStatusError]:
    if status == 402 and code == "balance_too_low":
        return InsufficientBalanceError
    if status == 409 and code == "idempotency_key_in_use":
        return IdempotencyKeyInUseError
    if status == 410 and code == "output_expired":
        return OutputExpiredError
    if status == 401:
        return AuthenticationError
    if status == 403:
        return PermissionDeniedError
    if status in (404, 410):
        return NotFoundError
    if status == 429:
        return RateLimitError
    if status >= 500:
        return ServerError
    if type_ == "invalid_request" or status in (400, 402, 409, 416, 422):
        if code == "balance_too_low":
            return InsufficientBalanceError
        return InvalidRequestError
    return APIStatusError


def error_from_response(
    response: httpx.Response, *, idempotency_key: str | None = None
) -> APIStatusError:
    """Build the typed exception for a non-2xx ``response`` (its body must already be read)."""
    error, body = _envelope(response)
    request_id = response.headers.get("aurous-request-id")
    if error is None:
        text = redact_secrets(response.text.strip()) if response.content else ""
        excerpt = text[:_TEXT_EXCERPT] + ("…" if len(text) > _TEXT_EXCERPT else "")
        reason = response.reason_phrase or "error"
        message = f"HTTP {response.status_code} {reason}" + (f": {excerpt}" if excerpt else "")
        cls = _error_class(response.status_code, None, None)
        return cls(
            message,
            response=response,
            request_id=request_id,
            body=body if body is not None else text or None,
            idempotency_key=idempotency_key,
        )

    def _str(key: str) -> str | None:
        value = error.get(key)
        return value if isinstance(value, str) else None

    type_ = _str("type")
    code = _str("code")
    type_ = _CODE_ALIASES.get(type_, type_) if type_ else None
    code = _CODE_ALIASES.get(code, code) if code else None
    cls = _error_class(response.status_code, type_, code)
    return cls(
        _str("message") or f"HTTP {response.status_code}",
        response=response,
        type=type_,
        code=code,
        param=_str("param"),
        doc_url=_str("doc_url"),
        request_id=_str("request_id") or request_id,
        body=body,
        idempotency_key=idempotency_key,
    )


# Tracebacks and reprs name the classes where users import them (``aurous.NotFoundError``, as
# openai-python's read ``openai.NotFoundError``), not this private module.
for _name in __all__:
    _cls = globals()[_name]
    if isinstance(_cls, type):
        _cls.__module__ = "aurous"
del _name, _cls
