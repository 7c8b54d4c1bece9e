"""Verify, unwrap and sign webhook deliveries; parse per-request callbacks.

Registered webhook endpoints receive signed event envelopes; verify them with the raw request body::

    import aurous

    event = aurous.webhooks.verify(raw_body, request.headers["Aurous-Webhook-Signature"], secret)
    if event.type == "image.completed":
        print(event.data.output_urls)

or let :func:`unwrap` find the header and read ``AUROUS_WEBHOOK_SECRET``::

    event = aurous.webhooks.unwrap(raw_body, request.headers)

Per-request ``webhook_url`` callbacks are not signed; :func:`parse_callback` turns them into the
same typed events. Every function here is pure: no client, no network.
"""

from __future__ import annotations

import hmac
import json
import math
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pydantic

from ._errors import WebhookVerificationError
from ._receiver import Handler, Receiver, RejectionHandler
from ._signature import DEFAULT_TOLERANCE as _DEFAULT_TOLERANCE
from ._signature import SIGNATURE_HEADER, compute_signature
from ._signature import signature_header as _signature_header
from .types.events import BaseEvent, Event, GenerationEvent, parse_callback_payload, parse_event

__all__ = [
    "DEFAULT_TOLERANCE",
    "SECRET_ENV_VAR",
    "SIGNATURE_HEADER",
    "ClientWebhooks",
    "Event",
    "Handler",
    "Receiver",
    "RejectionHandler",
    "WebhookVerificationError",
    "Webhooks",
    "parse_callback",
    "sign",
    "unwrap",
    "verify",
]

DEFAULT_TOLERANCE = _DEFAULT_TOLERANCE
"""Seconds a signature stays valid on either side of its timestamp."""

SECRET_ENV_VAR = "AUROUS_WEBHOOK_SECRET"
"""Where :func:`unwrap` finds the secret when none is passed (a comma-separated list is allowed)."""

Secret = str | Sequence[str]
Payload = bytes | str

# A genuine header is ~80 bytes per signature; these bounds leave room for rotation and future
# schemes while making absurd input (megabyte headers, thousands of items) fail before any work.
_MAX_HEADER_LENGTH = 4096
_MAX_HEADER_ITEMS = 64
# Unix seconds fit in 11 digits until the year 5138; a longer value is not a timestamp.
_MAX_TIMESTAMP_DIGITS = 15
_TIMESTAMP = re.compile(rf"[0-9]{{1,{_MAX_TIMESTAMP_DIGITS}}}")
_V1_SIGNATURE = re.compile(r"[0-9a-f]{64}")
# Header names as frameworks spell them: HTTP (any case) and WSGI / Django ``META`` keys.
_HEADER_KEYS = frozenset(
    {SIGNATURE_HEADER.lower(), "http_" + SIGNATURE_HEADER.lower().replace("-", "_")}
)


def verify(
    payload: Payload,
    signature_header: str,
    secret: Secret,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Event:
    """Verify a signed webhook delivery and return its typed event.

    ``payload`` must be the **raw** request body, exactly as received (a ``str`` is encoded as
    UTF-8); never re-serialise parsed JSON. ``signature_header`` is the value of the
    ``Aurous-Webhook-Signature`` header. ``secret`` is the endpoint's secret (``whsec_…``) or a
    list of secrets, any of which may match (secret rotation). The timestamp must be within
    ``tolerance`` seconds of ``now`` (default: the current time) in either direction.

    The signature is checked before the body is parsed as JSON.

    Example::

        try:
            event = aurous.webhooks.verify(body, header, ["whsec_new…", "whsec_old…"])
        except aurous.WebhookVerificationError as exc:
            return Response(str(exc), status_code=400)

    Raises:
        WebhookVerificationError: the header is missing or malformed, the timestamp is outside
            the tolerance, no signature matches, no secret was given, or the verified body is
            not a JSON object with the structure its event type documents (the pydantic error
            is then ``__cause__``). The message never contains the secret.
        TypeError: ``payload`` is not ``bytes``/``str`` (for example, already-parsed JSON), or a
            secret is not a ``str``.
        ValueError: ``tolerance`` is negative or ``now`` is not a finite number.
    """
    body = _payload_bytes(payload)
    _verify_signature(body, signature_header, secret, tolerance=tolerance, now=now)
    return _parse_verified(body)


def sign(payload: Payload, secret: str, *, timestamp: int | None = None) -> str:
    """Return an ``Aurous-Webhook-Signature`` header value for ``payload``.

    Meant for tests and local tools that must produce deliveries a receiver accepts.
    ``timestamp`` defaults to the current Unix time. Raises ``ValueError`` for an empty secret
    or a negative timestamp.

    Example::

        body = json.dumps(event_dict, separators=(",", ":")).encode()
        header = aurous.webhooks.sign(body, "whsec_test…")
        client.post("/webhooks", content=body, headers={"Aurous-Webhook-Signature": header})
    """
    body = _payload_bytes(payload)
    if not isinstance(secret, str):
        raise TypeError(f"secret must be a str, not {type(secret).__name__}")
    if not secret:
        raise ValueError("cannot sign with an empty secret")
    if timestamp is not None and (isinstance(timestamp, bool) or int(timestamp) < 0):
        raise ValueError("timestamp must be a non-negative number of Unix seconds")
    try:
        return _signature_header(body, secret, timestamp)
    except UnicodeEncodeError:
        raise ValueError("the webhook secret is not encodable as UTF-8") from None


def unwrap(
    payload: Payload,
    headers: object,
    *,
    secret: Secret | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Event:
    """Find the signature in ``headers``, verify ``payload`` and return its typed event.

    ``headers`` is any headers collection: a ``dict``, Starlette/FastAPI ``request.headers``,
    Flask/werkzeug ``request.headers`` (or a WSGI ``environ``), ``httpx.Headers``, Django's
    ``request.headers``/``request.META``, or a list of ``(name, value)`` pairs; names match in
    any case. ``secret`` defaults to the ``AUROUS_WEBHOOK_SECRET`` environment variable, which may
    hold several comma-separated secrets during a rotation.

    Example::

        @app.post("/webhooks")
        async def webhooks(request: Request) -> Response:
            try:
                event = aurous.webhooks.unwrap(await request.body(), request.headers)
            except aurous.WebhookVerificationError:
                return Response(status_code=400)
            ...

    Raises:
        WebhookVerificationError: the header or the secret is missing, or :func:`verify` fails.
        TypeError: ``headers`` is not a headers collection, or as :func:`verify`.
    """
    body = _payload_bytes(payload)
    header = _find_signature_header(headers)
    if header is None:
        raise WebhookVerificationError(f"missing {SIGNATURE_HEADER} header")
    secrets = secret if secret is not None else _secrets_from_env()
    _verify_signature(body, header, secrets, tolerance=tolerance, now=now)
    return _parse_verified(body)


def parse_callback(payload: Payload | Mapping[str, Any]) -> Event:
    """Parse an **unsigned** webhook body into a typed event, without verifying anything.

    Accepts both shapes: the per-request ``webhook_url`` callback ``{"event", "data"}`` (its
    ``id``, ``created_at`` and ``api_version`` are ``None`` and ``synthetic`` is ``False``) and
    the registered-endpoint envelope. Treat a callback as a hint: re-fetch the generation with
    your API key before acting on it.

    Example::

        event = aurous.webhooks.parse_callback(await request.body())
        generation = client.images.retrieve(event.data.id)

    Raises:
        ValueError: the body is not valid JSON, not a JSON object, or its ``data`` does not fit
            its event type (``pydantic.ValidationError``, a ``ValueError``). Nothing is verified
            here, so this is never a :class:`WebhookVerificationError`.
    """
    if isinstance(payload, Mapping):
        return parse_callback_payload(payload)
    body = _payload_bytes(payload)
    try:
        obj = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"webhook callback body is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"webhook callback body must be a JSON object, not {_json_type_name(obj)}")
    return parse_callback_payload(obj)


class Webhooks:
    """Webhook helpers bound to an optional default secret (exposed as ``client.webhooks``).

    The secret is resolved at each call: the ``secret`` argument, else the one given here, else
    ``AUROUS_WEBHOOK_SECRET``. All methods are pure CPU work, so they serve async code as well.

    Example::

        webhooks = aurous.webhooks.Webhooks()          # secret from AUROUS_WEBHOOK_SECRET
        event = webhooks.unwrap(raw_body, request.headers)
    """

    __slots__ = ("_secret",)

    def __init__(self, secret: Secret | None = None) -> None:
        self._secret = secret

    def __repr__(self) -> str:
        configured = "set" if self._secret is not None else "from environment"
        return f"{type(self).__name__}(secret=<{configured}>)"

    def unwrap(
        self,
        payload: Payload,
        headers: object,
        *,
        secret: Secret | None = None,
        tolerance: int = DEFAULT_TOLERANCE,
        now: float | None = None,
    ) -> Event:
        """Find the signature in ``headers``, verify ``payload`` and return the event.

        See :func:`aurous.webhooks.unwrap`.

        Args:
            payload: The raw request body, exactly as received (a ``str`` is encoded as UTF-8).
            headers: The request's headers (any mapping; the signature header is found
                case-insensitively).
            secret: The endpoint's secret (``whsec_…``), or several during a rotation; default: the
                client's, else ``AUROUS_WEBHOOK_SECRET``.
            tolerance: Accepted age of the signature's timestamp, in seconds, either way.
            now: The Unix time to check the timestamp against (default: the current time).
        """
        return unwrap(
            payload,
            headers,
            secret=secret if secret is not None else self._secret,
            tolerance=tolerance,
            now=now,
        )

    def verify(
        self,
        payload: Payload,
        signature_header: str,
        secret: Secret | None = None,
        *,
        tolerance: int = DEFAULT_TOLERANCE,
        now: float | None = None,
    ) -> Event:
        """Verify a signature header and return the event. See :func:`aurous.webhooks.verify`.

        ``secret`` defaults to this object's secret, then to ``AUROUS_WEBHOOK_SECRET``.

        Args:
            payload: The raw request body, exactly as received (a ``str`` is encoded as UTF-8).
            signature_header: The value of the ``Aurous-Webhook-Signature`` header.
            secret: The endpoint's secret (``whsec_…``), or several during a rotation; default: the
                client's, else ``AUROUS_WEBHOOK_SECRET``.
            tolerance: Accepted age of the signature's timestamp, in seconds, either way.
            now: The Unix time to check the timestamp against (default: the current time).
        """
        if secret is None:
            secret = self._secret if self._secret is not None else _secrets_from_env()
        return verify(payload, signature_header, secret, tolerance=tolerance, now=now)

    def sign(self, payload: Payload, secret: str, *, timestamp: int | None = None) -> str:
        """Return a signature header value. See :func:`aurous.webhooks.sign`.

        Args:
            payload: The body to sign.
            secret: The secret to sign with (``whsec_…``).
            timestamp: The Unix time to sign at (default: now).
        """
        return sign(payload, secret, timestamp=timestamp)

    def parse_callback(self, payload: Payload | Mapping[str, Any]) -> Event:
        """Parse an unsigned callback body. See :func:`aurous.webhooks.parse_callback`.

        Args:
            payload: The callback's body (raw bytes or text) or its parsed JSON.
        """
        return parse_callback(payload)


def _verify_signature(
    body: bytes,
    header: object,
    secret: object,
    *,
    tolerance: float,
    now: float | None,
) -> None:
    """Check the header, the timestamp and the signatures over ``body``; raise
    WebhookVerificationError on failure."""
    if not tolerance >= 0:  # also rejects NaN, which would make every timestamp pass
        raise ValueError("tolerance must be a non-negative number of seconds")
    if now is not None and not math.isfinite(now):
        raise ValueError("now must be a finite Unix time")
    secrets = _secret_list(secret)
    timestamp, signatures = _parse_header(header)
    current = time.time() if now is None else now
    skew = current - timestamp
    if abs(skew) > tolerance:
        when = f"{int(skew)} s ago" if skew > 0 else f"{int(-skew)} s in the future"
        raise WebhookVerificationError(
            f"timestamp outside tolerance: signed {when} (tolerance {tolerance} s)"
        )
    candidates = [sig for sig in signatures if _V1_SIGNATURE.fullmatch(sig)]
    for key in secrets:
        try:
            expected = compute_signature(key, timestamp, body)
        except UnicodeEncodeError:
            raise WebhookVerificationError("a webhook secret is not valid text") from None
        # compare_digest keeps each comparison constant-time; no early exit between candidates.
        matched = False
        for candidate in candidates:
            matched |= hmac.compare_digest(expected, candidate)
        if matched:
            return
    raise WebhookVerificationError("no matching signature")


def _parse_header(header: object) -> tuple[int, list[str]]:
    """Parse ``t=<digits>,v1=<hex>[,…]`` strictly into the timestamp and the lowercased ``v1``s."""
    text = _header_text(header)
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            signatures.append(value.lower())
    if len(timestamps) > 1:
        raise WebhookVerificationError("malformed signature header: more than one timestamp")
    if not timestamps or not _TIMESTAMP.fullmatch(timestamps[0]):
        raise WebhookVerificationError("no valid timestamp in signature header")
    if not signatures:
        raise WebhookVerificationError("no signatures in signature header")
    return int(timestamps[0]), signatures


def _header_text(header: object) -> str:
    """The header as ASCII text, refusing what no genuine header looks like before any work."""
    if not isinstance(header, (str, bytes, bytearray)):
        raise WebhookVerificationError(f"missing or empty {SIGNATURE_HEADER} header")
    if len(header) > _MAX_HEADER_LENGTH:
        raise WebhookVerificationError(
            f"malformed signature header: longer than {_MAX_HEADER_LENGTH} characters"
        )
    if isinstance(header, (bytes, bytearray)):
        # Raw ASGI headers arrive as bytes; a genuine signature header is plain ASCII.
        try:
            header = bytes(header).decode("ascii")
        except UnicodeDecodeError:
            raise WebhookVerificationError("malformed signature header: not ASCII") from None
    if not header.strip():
        raise WebhookVerificationError(f"missing or empty {SIGNATURE_HEADER} header")
    if not header.isascii():
        raise WebhookVerificationError("malformed signature header: not ASCII")
    if header.count(",") >= _MAX_HEADER_ITEMS:
        raise WebhookVerificationError(
            f"malformed signature header: more than {_MAX_HEADER_ITEMS} items"
        )
    return header


def _payload_bytes(payload: object) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        try:
            return payload.encode("utf-8")
        except UnicodeEncodeError:
            raise WebhookVerificationError("payload is not valid Unicode text") from None
    if isinstance(payload, (bytearray, memoryview)):
        return bytes(payload)
    raise TypeError(
        "payload must be the raw request body (bytes or str), not "
        f"{type(payload).__name__}; pass the body exactly as received, before any JSON parsing"
    )


def _secret_list(secret: object) -> list[str]:
    if isinstance(secret, str):
        secrets = [secret]
    elif secret is None:
        raise WebhookVerificationError(f"no webhook secret: pass secret=… or set {SECRET_ENV_VAR}")
    elif isinstance(secret, (bytes, bytearray)) or not isinstance(secret, Iterable):
        raise TypeError(f"secret must be a str or a sequence of str, not {type(secret).__name__}")
    else:
        secrets = list(secret)
    if not secrets:
        raise WebhookVerificationError("no webhook secret: the list of secrets is empty")
    for item in secrets:
        _check_secret(item)
    return secrets


def _check_secret(secret: object) -> None:
    if not isinstance(secret, str):
        raise TypeError(f"a webhook secret must be a str, not {type(secret).__name__}")
    if not secret:
        # An empty HMAC key is public knowledge: accepting it would accept forged deliveries.
        raise WebhookVerificationError("empty webhook secret")


def _secrets_from_env() -> list[str]:
    raw = os.environ.get(SECRET_ENV_VAR, "")
    secrets = [part.strip() for part in raw.split(",") if part.strip()]
    if not secrets:
        raise WebhookVerificationError(f"no webhook secret: pass secret=… or set {SECRET_ENV_VAR}")
    return secrets


def _find_signature_header(headers: object) -> str | bytes | None:
    """Return the signature header's value from any headers collection (joined if repeated)."""
    not_headers = TypeError(
        "headers must be a mapping or an iterable of (name, value) pairs, not "
        f"{type(headers).__name__}"
    )
    pairs: Any
    items = getattr(headers, "items", None)
    if callable(items):
        pairs = items()
    elif isinstance(headers, Iterable) and not isinstance(headers, (str, bytes, bytearray)):
        pairs = headers
    else:
        raise not_headers
    values: list[str | bytes] = []
    for pair in pairs:
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise not_headers from None
        if isinstance(name, (bytes, bytearray)):
            name = bytes(name).decode("latin-1")
        if isinstance(name, str) and name.lower() in _HEADER_KEYS:
            if isinstance(value, (str, bytes)):
                values.append(value)
            elif isinstance(value, bytearray):
                values.append(bytes(value))
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    # Repeated header lines mean the same as one comma-joined line (RFC 9110 §5.3).
    return ",".join(v.decode("latin-1") if isinstance(v, bytes) else v for v in values)


def _parse_verified(body: bytes) -> Event:
    """Turn a verified body into its typed event; anything but a well-formed event is rejected."""
    try:
        obj = json.loads(body)
    except (ValueError, RecursionError):
        raise WebhookVerificationError("verified payload is not valid JSON") from None
    if not isinstance(obj, dict):
        raise WebhookVerificationError(
            f"verified payload is not a JSON object but {_json_type_name(obj)}"
        )
    try:
        return parse_event(obj)
    except pydantic.ValidationError as exc:
        # Authentic but not an event this SDK can read; the details stay on __cause__.
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise WebhookVerificationError(
            f"verified payload is not a valid event ({where}: {first['msg']})"
        ) from exc


def _json_type_name(obj: object) -> str:
    if isinstance(obj, list):
        return "an array"
    if isinstance(obj, str):
        return "a string"
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "a boolean"
    return "a number"


class ClientWebhooks(Webhooks):
    """``client.webhooks``: the verifier, plus what a client does with a verified delivery.

    `receive` verifies a delivery exactly as `unwrap` does, drops a duplicate (by event id) and
    hands the generation it carries to every ``wait``, ``watch``, ``create_and_wait`` and batch
    item of the client waiting on it — at once, without another request. `feed` does the same
    for an event the caller verified or parsed itself (a per-request ``webhook_url`` callback).
    A finished generation also frees its concurrency slot and settles its budget hold. With a
    shared pacing store (``pacing="redis://…"``), the waiters of every process sharing it wake,
    and duplicates are recognised fleet-wide.

    These are blocking calls when the client's pacing store is shared (one store operation);
    the receiver apps (`aurous.webhooks.Receiver`) run them off the event loop.
    """

    __slots__ = ("_client",)

    def __init__(self, client: Any, secret: Secret | None = None) -> None:
        super().__init__(secret)
        self._client = client

    def receive(
        self,
        payload: Payload,
        headers: object,
        *,
        secret: Secret | None = None,
        tolerance: int = DEFAULT_TOLERANCE,
        now: float | None = None,
    ) -> Event:
        """Verify a delivery, drop it if it is a duplicate, and wake the waits it completes.

        Raises `aurous.WebhookVerificationError` (nothing is done) when the signature does not
        verify. The returned event's ``duplicate`` is True when it had been received before,
        and ``stale`` when it carries an older state than one already known; either way nothing
        was done with it.

        Args:
            payload: The raw request body, exactly as received.
            headers: The request's headers (the signature header is found case-insensitively).
            secret: The endpoint's secret (``whsec_…``), or several during a rotation; default: the
                client's, else ``AUROUS_WEBHOOK_SECRET``.
            tolerance: Accepted age of the signature's timestamp, in seconds, either way.
            now: The Unix time to check the timestamp against (default: the current time).
        """
        event = self.unwrap(payload, headers, secret=secret, tolerance=tolerance, now=now)
        return self.feed(event)

    def feed(self, event: Event) -> Event:
        """Do with ``event`` what `receive` does with a verified delivery (no verification: for
        an event verified or parsed elsewhere, such as a per-request callback).

        Args:
            event: The event (`aurous.webhooks.parse_callback` turns a callback body into one).
        """
        if not isinstance(event, BaseEvent):
            raise TypeError(f"feed() takes an aurous webhook event, not {type(event).__name__}")
        client = self._client
        completions = client._completions
        if event.id is not None and not completions.first_delivery(event.id):
            event._duplicate = True
            return event
        if isinstance(event, GenerationEvent):
            generation = event.data
            completions.expect(type(generation))
            if not completions.advance(generation):
                event._stale = True
                return event
            if generation.is_terminal:
                client._finished(generation)
        return event
