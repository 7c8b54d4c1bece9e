"""Webhook helpers shared by ``webhooks verify`` and ``webhooks listen``."""

from __future__ import annotations

import os
from typing import Any

from ..._constants import ENV_WEBHOOK_SECRET
from .. import _format
from .._errors import UsageError

__all__ = ["SIGNATURE_ENV", "describe_event", "secrets_from"]

SIGNATURE_ENV = "AUROUS_WEBHOOK_SIGNATURE"
"""Where ``webhooks verify`` finds the signature header when ``--header`` is not given."""


def secrets_from(values: list[str] | None, *, required: bool) -> list[str] | None:
    """The secrets from ``--secret``, else ``$AUROUS_WEBHOOK_SECRET`` (comma-separated)."""
    if values:
        return values
    env = os.environ.get(ENV_WEBHOOK_SECRET, "")
    secrets = [part.strip() for part in env.split(",") if part.strip()]
    if secrets:
        return secrets
    if required:
        raise UsageError(f"give the endpoint secret with --secret or ${ENV_WEBHOOK_SECRET}")
    return None


def describe_event(event: Any) -> str:
    """One readable line for a webhook event (any type)."""
    parts = [str(event.type)]
    if event.id:
        parts.append(event.id)
    data = event.data
    if event.type.startswith(("image.", "video.")) and hasattr(data, "status"):
        detail = f"{data.id} {data.status}"
        if getattr(data, "error_message", None):
            detail += f" ({data.error_message})"
        parts.append(detail)
        if data.outputs:
            parts.append(f"{len(data.outputs)} output(s)")
    elif event.type.startswith("character.") and hasattr(data, "status"):
        parts.append(f"{data.id} {data.status}")
    elif event.type == "usage.balance_low" and hasattr(data, "available_credits"):
        parts.append(f"available {_format.amount(data.available_credits)}")
    elif event.type == "webhook.endpoint_disabled" and hasattr(data, "url"):
        parts.append(f"{data.id} {data.url}")
    if event.synthetic:
        parts.append("(test)")
    return " · ".join(parts)
