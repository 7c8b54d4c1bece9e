"""The webhook endpoint resource (``object: "webhook_endpoint"``) and the test-fire result."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._models import AurousModel
from ._common import Timestamp
from .literals import WebhookEventType

__all__ = ["WebhookEndpoint", "WebhookTestFire"]


class _Hidden:
    """Stands for the signing secret in a repr: reprs end up in logs, tracebacks and notebooks."""

    def __repr__(self) -> str:
        return "'whsec_…' (hidden; read .secret)"


_HIDDEN = _Hidden()


class WebhookEndpoint(AurousModel):
    """A registered URL that receives signed event deliveries."""

    id: str
    """``we_…``."""
    object: str = "webhook_endpoint"
    """Always ``"webhook_endpoint"``."""
    url: str
    """The HTTPS URL deliveries are posted to."""
    events: list[WebhookEventType]
    """The event types the endpoint receives (``"*"`` is expanded when written)."""
    secret_preview: str
    """A shortened view of the active secret, e.g. ``"whsec_vEs...AFs6"``."""
    secret: str | None = None
    """The full ``whsec_…`` signing secret. Only in the responses to create and rotate_secret;
    ``None`` everywhere else, so store it when you get it."""
    is_active: bool
    """``False`` after an auto-disable or an update with ``is_active=False``: no deliveries."""
    consecutive_failures: int
    """Failed delivery attempts since the last success."""
    last_success_at: Timestamp | None = None
    """The most recent successful delivery."""
    last_failure_at: Timestamp | None = None
    """The most recent failed delivery attempt."""
    metadata: dict[str, Any]
    """Your metadata, ``{}`` by default."""
    description: str | None = None
    """Your label for the endpoint."""
    created_at: Timestamp
    """When the endpoint was registered."""
    updated_at: Timestamp
    """When the endpoint last changed (update, secret rotation, auto-disable)."""

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # repr() and str() show that a secret is present, never the secret itself.
        for name, value in super().__repr_args__():
            yield name, (_HIDDEN if name == "secret" and value is not None else value)


class WebhookTestFire(AurousModel):
    """The result of firing a test delivery: a synthetic event was queued for the endpoint."""

    object: str = "webhook_test_fire"
    """Always ``"webhook_test_fire"``."""
    endpoint_id: str
    """``we_…``: the endpoint the event goes to."""
    event_id: str
    """``evt_…``: the id the synthetic event will carry."""
    enqueued: bool
    """``True``: the delivery was queued."""
