"""The client's namespaces, one module each; every method is written once for sync and async."""

# Nothing is imported here: a client imports a namespace's module when the namespace is first
# used (``aurous._client``), so ``client.images`` does not load characters, files or usage.

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from .account import BalanceNamespace, PricingNamespace, TeamNamespace
    from .characters import Characters, CharacterUploads
    from .files import Files
    from .images import Images
    from .loras import Loras, VideoLoras
    from .usage import Usage
    from .videos import Videos
    from .webhook_endpoints import WebhookEndpoints

__all__ = [
    "BalanceNamespace",
    "CharacterUploads",
    "Characters",
    "Files",
    "Images",
    "Loras",
    "PricingNamespace",
    "TeamNamespace",
    "Usage",
    "VideoLoras",
    "Videos",
    "WebhookEndpoints",
]

_SOURCES = {
    "BalanceNamespace": ".account",
    "PricingNamespace": ".account",
    "TeamNamespace": ".account",
    "Characters": ".characters",
    "CharacterUploads": ".characters",
    "Files": ".files",
    "Images": ".images",
    "Loras": ".loras",
    "VideoLoras": ".loras",
    "Usage": ".usage",
    "Videos": ".videos",
    "WebhookEndpoints": ".webhook_endpoints",
}
"""Each namespace class and the module (under ``aurous.resources``) that defines it: how a
client finds the class a line of its namespace block names, without importing it."""
RESOURCE_MODULES = _SOURCES

if not TYPE_CHECKING:  # hidden from type checkers: see aurous._lazy
    __getattr__, __dir__ = lazy_attributes(__name__, _SOURCES, __all__)
