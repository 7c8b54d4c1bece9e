"""aurous: the typed Python SDK for the Aurous image and video generation API."""

import importlib
from typing import TYPE_CHECKING, Any

from . import types
from ._client import AsyncClient, Client
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AurousError,
    AuthenticationError,
    BudgetExceededError,
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
from .types import BatchProgress, BatchResult, Estimate, Generation

if TYPE_CHECKING:
    from . import webhooks

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AurousError",
    "AuthenticationError",
    "BatchProgress",
    "BatchResult",
    "BudgetExceededError",
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


def __getattr__(name: str) -> Any:
    # ``aurous.webhooks`` loads on first use: a program that never receives webhooks skips it.
    if name == "webhooks":
        # import_module, not ``from . import``: that would ask this very __getattr__ again.
        return importlib.import_module(f"{__name__}.webhooks")
    raise AttributeError(f"module 'aurous' has no attribute {name!r}")
