"""Route families. ``ROUTERS`` is the list the core serves, first match wins."""

from __future__ import annotations

from .._router import Router
from . import (
    account,
    characters,
    files,
    generations,
    legacy,
    loras,
    outputs,
    usage,
    webhook_endpoints,
)

__all__ = ["ROUTERS", "default_routers"]

ROUTERS: list[Router] = [
    legacy.router,
    generations.router,
    outputs.router,
    loras.router,
    account.router,
    usage.router,
    files.router,
    characters.router,
    webhook_endpoints.router,
]


def default_routers() -> list[Router]:
    """A copy of :data:`ROUTERS` for a new core."""
    return list(ROUTERS)
