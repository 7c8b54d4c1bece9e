"""`Client` and `AsyncClient`: configuration, connection ownership and the resource namespaces."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx
from typing_extensions import Self

from ._clock import SYSTEM_CLOCK, Clock
from ._constants import (
    DEFAULT_API_VERSION,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ENV_API_KEY,
    ENV_BASE_URL,
    ENV_LOG,
)
from ._errors import AurousError
from ._operations import Async, Mode, Sync, run_async, run_sync
from ._transport import AsyncTransport, SyncTransport, check_header_value

if TYPE_CHECKING:
    from .resources import (
        BalanceNamespace,
        Characters,
        Files,
        Images,
        Loras,
        PricingNamespace,
        TeamNamespace,
        Usage,
        VideoLoras,
        Videos,
        WebhookEndpoints,
    )
    from .webhooks import Webhooks

__all__ = ["AsyncClient", "Client"]

M = TypeVar("M", bound=Mode)
H = TypeVar("H", httpx.Client, httpx.AsyncClient)

logger = logging.getLogger("aurous")

_UNSET: Any = object()


def _setup_logging() -> None:
    level = os.environ.get(ENV_LOG, "").strip().lower()
    if level not in ("debug", "info"):
        return
    if not any(getattr(h, "_aurous", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
        handler._aurous = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if level == "debug" else logging.INFO)


def _resolve_timeout(timeout: Any) -> httpx.Timeout:
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if timeout is None:
        return httpx.Timeout(None)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or httpx.Timeout, not {timeout!r}")
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    return httpx.Timeout(float(timeout), connect=min(5.0, float(timeout)))


class _BaseClient(Generic[M, H]):
    """Configuration, connection ownership and namespaces of `Client` and `AsyncClient`."""

    _is_async = False
    _runner: Callable[..., Any]
    _transport: Any
    _http_class: type[H]
    _transport_class: type[SyncTransport] | type[AsyncTransport]

    images: Images[M]
    """Image generations: create, estimate, retrieve, cancel, list, wait, download, batch."""
    videos: Videos[M]
    """Video generations: create, estimate, retrieve, cancel, wait, download."""
    balance: BalanceNamespace[M]
    """The team's credit balance."""
    pricing: PricingNamespace[M]
    """The rate card of the pinned API version."""
    team: TeamNamespace[M]
    """The team the API key belongs to."""
    loras: Loras[M]
    """Image LoRAs (styles)."""
    video_loras: VideoLoras[M]
    """Video LoRAs (models)."""
    files: Files[M]
    """Uploaded reference and frame images."""
    webhook_endpoints: WebhookEndpoints[M]
    """Registered webhook endpoints."""
    characters: Characters[M]
    """Reusable characters and their reference images."""
    usage: Usage[M]
    """Usage buckets and per-request usage events."""
    webhooks: Webhooks
    """Verify and parse incoming webhook deliveries (no I/O)."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        api_version: str | None = DEFAULT_API_VERSION,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: H | None = None,
    ) -> None:
        _setup_logging()
        if api_key is None:
            api_key = os.environ.get(ENV_API_KEY) or None
        if api_key is None:
            raise AurousError(
                f"No API key given. Pass api_key=... or set the {ENV_API_KEY} environment variable."
            )
        if not isinstance(api_key, str):
            raise TypeError(f"api_key must be a str, not {type(api_key).__name__}")
        check_header_value("X-Api-Key", api_key)
        base_url = base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if api_version is not None and not isinstance(api_version, str):
            raise TypeError(f"api_version must be a str or None, not {type(api_version).__name__}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be a non-negative int, got {max_retries!r}")
        headers = dict(default_headers or {})
        for name, value in headers.items():
            check_header_value(name, value)
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.timeout = _resolve_timeout(timeout)
        self.max_retries = max_retries
        self.default_headers = headers
        self._clock: Clock = SYSTEM_CLOCK
        if http_client is not None and not isinstance(http_client, self._http_class):
            raise TypeError(
                f"http_client must be an {self._http_class.__module__}.{self._http_class.__name__}"
            )
        self._owns_http = http_client is None
        self._http: H = http_client or self._http_class(
            timeout=self.timeout, follow_redirects=False
        )
        self._transport = self._transport_class(self._http, **self._transport_options())  # type: ignore[arg-type]
        self._init_namespaces()

    def with_options(self, **changes: Any) -> Self:
        """A copy with some options changed (``timeout``, ``max_retries`` …) sharing the connections."""
        clone = type(self)(http_client=self._http, **self._options_for_copy(changes))
        clone._owns_http = False
        clone._set_clock(self._clock)
        return clone

    def _transport_options(self) -> dict[str, Any]:
        return {
            "api_key": self._api_key,
            "base_url": self.base_url,
            "api_version": self.api_version,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "default_headers": self.default_headers,
            "clock": self._clock,
        }

    def _init_namespaces(self) -> None:
        from . import resources
        from .webhooks import Webhooks

        self.images = resources.Images(self)
        self.videos = resources.Videos(self)
        self.balance = resources.BalanceNamespace(self)
        self.pricing = resources.PricingNamespace(self)
        self.team = resources.TeamNamespace(self)
        self.loras = resources.Loras(self)
        self.video_loras = resources.VideoLoras(self)
        self.files = resources.Files(self)
        self.webhook_endpoints = resources.WebhookEndpoints(self)
        self.characters = resources.Characters(self)
        self.usage = resources.Usage(self)
        self.webhooks = Webhooks()

    def _set_clock(self, clock: Clock) -> None:
        """Use ``clock`` for sleeping and timing (the emulator's manual clock, in tests)."""
        self._clock = clock
        self._transport.clock = clock

    def _options_for_copy(self, changes: dict[str, Any]) -> dict[str, Any]:
        current = {
            "api_key": self._api_key,
            "base_url": self.base_url,
            "api_version": self.api_version,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "default_headers": self.default_headers,
        }
        unknown = set(changes) - set(current)
        if unknown:
            raise TypeError(
                f"with_options() got unexpected option(s): {', '.join(sorted(unknown))}"
            )
        return {**current, **changes}

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} base_url={self.base_url!r} api_version={self.api_version!r}"
            f" max_retries={self.max_retries}>"
        )


class Client(_BaseClient[Sync, httpx.Client]):
    """Synchronous client of the Aurous API.

    >>> client = aurous.Client()  # key from AUROUS_API_KEY
    >>> g = client.images.create_and_wait(prompt="a lighthouse at dusk")

    Args:
        api_key: Your API key; defaults to the ``AUROUS_API_KEY`` environment variable.
        base_url: API origin; defaults to ``AUROUS_BASE_URL``, else ``https://api.aurous-labs.com``.
        api_version: Sent as ``Aurous-Version`` (default ``"2026-05-15"``); ``None`` sends none.
        timeout: Per-request timeout in seconds or an ``httpx.Timeout`` (default 60 s, 5 s connect).
        max_retries: Automatic retries of failures that are safe to retry (default 3).
        default_headers: Extra headers sent on every request.
        http_client: Your own ``httpx.Client`` (proxies, limits, transports). The SDK never closes
            a client it did not create.
    """

    _runner = staticmethod(run_sync)
    _http_class = httpx.Client
    _transport_class = SyncTransport

    def close(self) -> None:
        """Close the connection pool (only if this client created it)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(_BaseClient[Async, httpx.AsyncClient]):
    """Asynchronous client of the Aurous API; every method is awaitable.

    >>> async with aurous.AsyncClient() as client:
    ...     g = await client.images.create_and_wait(prompt="a lighthouse at dusk")

    Takes the same options as `Client`; ``http_client`` is an ``httpx.AsyncClient``.
    """

    _is_async = True
    _runner = staticmethod(run_async)
    _http_class = httpx.AsyncClient
    _transport_class = AsyncTransport

    async def aclose(self) -> None:
        """Close the connection pool (only if this client created it)."""
        if self._owns_http:
            await self._http.aclose()

    async def close(self) -> None:
        """Alias of `aclose`."""
        await self.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
