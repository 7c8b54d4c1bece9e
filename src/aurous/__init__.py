"""aurous: the typed Python SDK for the Aurous image and video generation API."""

# ``import aurous`` loads this file only: every public name is imported from its module on
# first use (PEP 562). The pytest plugin (a pytest11 entry point, imported in every pytest run
# wherever aurous is installed) and programs that touch a few names pay for those alone; a first
# call loads its client, its namespace and its model, not the batch engine, webhooks, downloads
# or every model. A new public name goes in both the TYPE_CHECKING block and ``_SOURCES``.

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_attributes
from ._version import __version__

if TYPE_CHECKING:
    from . import types, webhooks
    from ._aiohttp import DefaultAioHttpClient
    from ._batch._files import RequestFileError, read_requests, read_results, write_results
    from ._budget import Budget, BudgetEntry
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
    from ._response import APIResponse, RateLimit, ResponseInfo
    from .types import BatchEstimate, BatchProgress, BatchResult, Estimate, Generation
    from .types.options import NOT_GIVEN, NotGiven, RequestOptions

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIResponse",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AurousError",
    "AuthenticationError",
    "BatchEstimate",
    "BatchProgress",
    "BatchResult",
    "Budget",
    "BudgetEntry",
    "BudgetExceededError",
    "Client",
    "DefaultAioHttpClient",
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
    "RequestFileError",
    "RequestOptions",
    "ResponseInfo",
    "ServerError",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "__version__",
    "read_requests",
    "read_results",
    "types",
    "webhooks",
    "write_results",
]


_ERRORS = (
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AurousError",
    "AuthenticationError",
    "BudgetExceededError",
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
)

_SOURCES: dict[str, str] = {
    **dict.fromkeys(_ERRORS, "._errors"),
    "AsyncClient": "._client",
    "Budget": "._budget",
    "BudgetEntry": "._budget",
    "Client": "._client",
    "DefaultAioHttpClient": "._aiohttp",
    "RequestFileError": "._batch._files",
    "read_requests": "._batch._files",
    "read_results": "._batch._files",
    "write_results": "._batch._files",
    "APIResponse": "._response",
    "RateLimit": "._response",
    "ResponseInfo": "._response",
    "NOT_GIVEN": ".types.options",
    "NotGiven": ".types.options",
    "RequestOptions": ".types.options",
    "BatchEstimate": ".types",
    "BatchProgress": ".types",
    "BatchResult": ".types",
    "Estimate": ".types",
    "Generation": ".types",
}
# ``pagination`` is not in ``__all__`` but was reachable as ``aurous.pagination`` once loaded.
_SUBMODULES = frozenset({"pagination", "streams", "types", "webhooks"})

if not TYPE_CHECKING:  # hidden from type checkers: see aurous._lazy
    __getattr__, __dir__ = lazy_attributes(__name__, _SOURCES, __all__, _SUBMODULES)
