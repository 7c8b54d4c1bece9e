"""aurous: the typed Python SDK for the Aurous image and video generation API."""

from . import types, webhooks
from ._batch import BatchProgress, BatchResult
from ._client import AsyncClient, Client
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AurousError,
    AuthenticationError,
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
from ._response import RateLimit, ResponseInfo
from ._types import NOT_GIVEN, NotGiven, RequestOptions
from ._version import __version__
from .types import Estimate, Generation

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AurousError",
    "AuthenticationError",
    "BatchProgress",
    "BatchResult",
    "Client",
    "Estimate",
    "Generation",
    "GenerationFailedError",
    "IdempotencyKeyInUseError",
    "InsufficientBalanceError",
    "InvalidRequestError",
    "NotFoundError",
    "NotGiven",
    "OutputExpiredError",
    "PermissionDeniedError",
    "RateLimit",
    "RateLimitError",
    "RequestOptions",
    "ResponseInfo",
    "ServerError",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "__version__",
    "types",
    "webhooks",
]
