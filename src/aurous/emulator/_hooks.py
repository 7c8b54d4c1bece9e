"""Extension point for event delivery (registered webhooks and per-request callbacks)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._state import Team

__all__ = ["EventHooks"]


class EventHooks:
    """Receives every event the core emits. The base class does nothing.

    The core has already appended the event to ``team.events`` / ``team.callbacks`` when these
    run, and holds its lock. Delivery machinery subclasses this and sets ``core.hooks``.
    """

    def emit_event(self, team: Team, type: str, data: dict[str, Any], at: float) -> None:
        """A registered-endpoint event (``image.completed``, ``usage.balance_low``, …)."""

    def emit_callback(
        self, team: Team, url: str, event: str, data: dict[str, Any], at: float
    ) -> None:
        """A per-request ``webhook_url`` callback (completed / failed only)."""
