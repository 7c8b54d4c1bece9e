"""The client's namespaces, one module each; every method is written once for sync and async."""

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
