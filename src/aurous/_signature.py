"""The webhook signature primitive: HMAC-SHA256 of ``"<timestamp>.<raw body>"`` keyed by the secret."""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Aurous-Webhook-Signature"
DEFAULT_TOLERANCE = 300
"""Seconds a signature stays valid on either side of its timestamp."""


def compute_signature(secret: str, timestamp: int, payload: bytes) -> str:
    """Return the lowercase hex HMAC-SHA256 of ``"<timestamp>.<payload>"`` keyed by the full secret."""
    signed = str(timestamp).encode("ascii") + b"." + payload
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def signature_header(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """Return an ``Aurous-Webhook-Signature`` header value: ``t=<unix seconds>,v1=<hex>``."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},v1={compute_signature(secret, t, payload)}"
