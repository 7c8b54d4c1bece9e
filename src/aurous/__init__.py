"""aurous: the typed Python SDK for the Aurous image and video generation API."""

from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    AurousError,
    GenerationFailedError,
    IdempotencyKeyInUseError,
    InsufficientBalanceError,
    InvalidRequestError,
    NotFoundError,
    OutputExpiredError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    WaitTimeoutError,
    WebhookVerificationError,
)
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "AurousError",
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
    "__version__",
]
