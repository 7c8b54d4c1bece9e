"""The client's namespaces, one module each; every method is written once for sync and async."""

# Nothing is imported here: a client imports a namespace's module when the namespace is first
# used (``aurous._client``), so ``client.images`` does not load characters, files or usage.

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(source, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
