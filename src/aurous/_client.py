"""`Client` and `AsyncClient`: configuration, connection ownership and the resource namespaces."""

from __future__ import annotations

import functools
import logging
import math
import os
import ssl
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx
from typing_extensions import Self, TypedDict, Unpack

from ._budget import Budget, Spending, check_tags
from ._clock import SYSTEM_CLOCK, Clock
from ._completion import Completions
from ._constants import (
    DEFAULT_API_VERSION,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RATE_LIMIT_WAIT,
    DEFAULT_MAX_RESPONSE_SIZE,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ENV_API_KEY,
    ENV_BASE_URL,
    ENV_LOG,
    ENV_PACING_URL,
)
from ._drivers import AsyncDriver, SyncDriver
from ._errors import AurousError
from ._flow import Flow
from ._observe import Observer, telemetry
from ._operations import Async, Mode, Namespace, RawAsync, RawSync, Sync, namespace
from ._pacing import LocalPacer, Pacer
from ._store import LocalStore, open_store
from ._transport import Transport
from ._validation import (
    check_base_url,
    check_environment,
    check_header_value,
    resolve_timeout,
    tls_environment_error,
)
from .resources import RESOURCE_MODULES

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

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
    from .webhooks import ClientWebhooks

__all__ = ["DEFAULT_CONNECTION_LIMITS", "AsyncClient", "Client", "ClientOptions"]

M = TypeVar("M", bound=Mode)
H = TypeVar("H", httpx.Client, httpx.AsyncClient)

logger = logging.getLogger("aurous")


class ClientOptions(TypedDict, total=False):
    """The options `Client.with_options` can change (the constructor's keyword arguments)."""

    api_key: str
    base_url: str
    api_version: str | None
    timeout: float | httpx.Timeout | None
    max_retries: int
    max_rate_limit_wait: float
    max_response_size: int
    default_headers: Mapping[str, str]
    budget: Budget | None
    """``with_options`` only: count the copy's creates against an `aurous.Budget`."""
    tags: Mapping[str, str]
    """``with_options`` only: tags of the copy's calls (budget entries, spans, log records)."""


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


DEFAULT_CONNECTION_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)
"""The pool of the HTTP clients the SDK creates: httpx's 100 connections, all of them kept alive.

httpx's default keeps 20: once a pool holds more than 20 connections, httpcore closes each one
as soon as its request finishes. 64 tasks sharing one `AsyncClient` against a server answering
in 20 ms then opened a new connection for 1,980 of 2,000 requests (a TCP and TLS handshake
each, on a real network); with this pool, 30. Idle connections still close after httpx's
keep-alive expiry (5 s), and 100 bounds the sockets one client opens."""


class _LeanCookies(httpx.Cookies):
    """A cookie store that skips httpx's extraction when a response sets no cookie.

    httpx hands every response to ``http.cookiejar``, building a urllib request and an email
    message for it: about a third of its client-side work per request, for answers that, like
    every API answer, set no cookie. Responses that do set one are stored as before.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


def _lean_cookies(http: httpx.Client | httpx.AsyncClient) -> None:
    """Give an HTTP client the SDK created (never a user's) a `_LeanCookies` over its own jar."""
    # httpx keeps the store in ``_cookies`` (0.27, 0.28); should that change, nothing is done.
    current = getattr(http, "_cookies", None)
    if type(current) is httpx.Cookies:
        http._cookies = _LeanCookies(current.jar)


_ssl_lock = threading.Lock()
_ssl_contexts: dict[tuple[str | None, str | None], ssl.SSLContext] = {}


def _shared_ssl_context() -> ssl.SSLContext:
    """One verifying SSL context per trust settings, shared by every client the SDK creates.

    Building one loads the CA bundle (tens of milliseconds and most of a client's memory); an
    ``SSLContext`` is safe to share, so clients created per request cost almost nothing.
    """
    # Called exactly when the SDK builds its own HTTP client, which reads the environment.
    check_environment()
    key = (os.environ.get("SSL_CERT_FILE") or None, os.environ.get("SSL_CERT_DIR") or None)
    context = _ssl_contexts.get(key)
    if context is None:
        with _ssl_lock:
            context = _ssl_contexts.get(key)
            if context is None:
                try:
                    context = _ssl_contexts[key] = httpx.create_ssl_context(trust_env=True)
                except (OSError, ssl.SSLError) as exc:
                    raise tls_environment_error(exc) from None
    return context


def _pacer(pacing: bool | str, base_url: str, api_key: str) -> Pacer:
    """The pacer of a new client: its own state, or a fleet's store (``redis://``, ``file://``)."""
    if not isinstance(pacing, str):
        return LocalPacer(LocalStore(SYSTEM_CLOCK))
    return Pacer(open_store(pacing, base_url=base_url, api_key=api_key))


def _check_api_key(api_key: Any) -> str:
    if not isinstance(api_key, str):
        raise TypeError(f"api_key must be a str, not {type(api_key).__name__}")
    if not api_key.strip():
        raise ValueError(f"api_key is empty: pass your key, or leave it out to use {ENV_API_KEY}")
    try:
        check_header_value("api_key", api_key)
    except ValueError:
        # Name the problem without echoing the key itself.
        raise ValueError(
            "api_key contains characters that cannot be sent in an HTTP header (non-ASCII, "
            "or control characters such as a line break): copy the key again from the dashboard "
            "(a placeholder like 'al_live_…' contains a non-ASCII '…')"
        ) from None
    return api_key


class _BaseClient(Generic[M, H]):
    """Configuration, connection ownership and namespaces of `Client` and `AsyncClient`."""

    _is_async = False
    _driver: Any
    _http_class: type[H]
    _driver_class: type[SyncDriver] | type[AsyncDriver]

    # The namespaces. Each line is the whole registration of one: its type for mypy and
    # editors, and at run time (`_register_namespaces`, below) an attribute that imports the
    # namespace's module on first access — a client costs nothing for what it never calls. The
    # class is found by name in `aurous.resources`.
    images: Images[M]
    videos: Videos[M]
    balance: BalanceNamespace[M]
    pricing: PricingNamespace[M]
    team: TeamNamespace[M]
    loras: Loras[M]
    video_loras: VideoLoras[M]
    files: Files[M]
    webhook_endpoints: WebhookEndpoints[M]
    characters: Characters[M]
    usage: Usage[M]

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        api_version: str | None = DEFAULT_API_VERSION,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        pacing: bool | str | None = None,
        max_rate_limit_wait: float = DEFAULT_MAX_RATE_LIMIT_WAIT,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        default_headers: Mapping[str, str] | None = None,
        http_client: H | None = None,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        _setup_logging()
        if api_key is None:
            api_key = os.environ.get(ENV_API_KEY) or None
        if api_key is None:
            raise AurousError(
                f"No API key given. Pass api_key=... or set the {ENV_API_KEY} environment variable."
            )
        _check_api_key(api_key)
        source = "base_url" if base_url else ENV_BASE_URL
        base_url = base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
        base_url = check_base_url(base_url, source)
        if api_version is not None:
            check_header_value("api_version", api_version)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be a non-negative int, got {max_retries!r}")
        if pacing is None:
            pacing = os.environ.get(ENV_PACING_URL) or True
        if not isinstance(pacing, (bool, str)):
            raise TypeError(
                f"pacing must be True, False or a store URL (redis://…, file:///…), not {pacing!r}"
            )
        if (
            isinstance(max_rate_limit_wait, bool)
            or not isinstance(max_rate_limit_wait, (int, float))
            or math.isnan(max_rate_limit_wait)
            or max_rate_limit_wait < 0
        ):
            raise ValueError(
                f"max_rate_limit_wait must be a number of seconds >= 0, got {max_rate_limit_wait!r}"
            )
        if (
            isinstance(max_response_size, bool)
            or not isinstance(max_response_size, int)
            or max_response_size < 1
        ):
            raise ValueError(
                f"max_response_size must be a positive number of bytes, got {max_response_size!r}"
            )
        headers = dict(default_headers or {})
        for name, value in headers.items():
            check_header_value(f"default_headers[{name!r}]", value, header=name)
        if http_client is not None and not isinstance(http_client, self._http_class):
            raise TypeError(
                f"http_client must be an {self._http_class.__module__}.{self._http_class.__name__}"
            )
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.timeout = resolve_timeout(timeout)
        self.max_retries = max_retries
        self.max_rate_limit_wait = float(max_rate_limit_wait)
        self.max_response_size = max_response_size
        self.default_headers = headers
        self._clock: Clock = SYSTEM_CLOCK
        self._owns_http = http_client is None
        self._http: H = http_client or self._http_class(
            timeout=self.timeout,
            follow_redirects=False,
            verify=_shared_ssl_context(),
            limits=DEFAULT_CONNECTION_LIMITS,
        )
        if self._owns_http:
            _lean_cookies(self._http)
        self._pacer = _pacer(pacing, self.base_url, api_key) if pacing is not False else None
        self._plain: _BaseClient[Any, Any] = self
        """The client itself; for a ``with_raw_response`` view, the client it views."""
        self._observer: Observer | None = telemetry(tracer_provider, meter_provider)
        """Who watches this client's calls (tracing, metrics, timings); see `aurous._observe`."""
        self._budget: Budget | None = None
        """The budget this copy's creates are counted by (``with_options(budget=…)``)."""
        self._tags: Mapping[str, str] = {}
        """This copy's tags (``with_options(tags=…)``): budget entries, spans, log records."""
        self._spending = Spending()
        """Budget bookkeeping shared by the client and its copies (`aurous._budget`)."""
        self._completions = Completions(self._pacer.store if self._pacer is not None else None)
        """Generation states pushed by webhooks, and learned durations (`aurous._completion`)."""
        self._setup()

    def _setup(self) -> None:
        self._transport = Transport(
            self._http,
            api_key=self._api_key,
            base_url=self.base_url,
            api_version=self.api_version,
            default_headers=self.default_headers,
            max_response_size=self.max_response_size,
        )
        self._driver = self._driver_class(self._http, self._clock)  # type: ignore[arg-type]
        self._flow = Flow(
            transport=self._transport,
            clock=self._clock,
            timeout=self.timeout,
            max_retries=self.max_retries,
            max_rate_limit_wait=self.max_rate_limit_wait,
            pacer=self._pacer,
            budget=self._budget,
            tags=self._tags,
            spending=self._spending,
        )

    def _raw_view(self) -> Any:
        view = self.__dict__.get("_raw")
        if view is None:
            view = object.__new__(type(self))
            # The same client (pool, pacing, options), without the namespaces it has built:
            # the view builds its own, whose methods return `APIResponse`.
            view.__dict__.update(
                (k, v) for k, v in self.__dict__.items() if not isinstance(v, Namespace)
            )
            view._plain = self
            view.__dict__["_raw"] = self.__dict__["_raw"] = view
        return view

    @functools.cached_property
    def webhooks(self) -> ClientWebhooks:
        """Verify incoming webhook deliveries, and let them complete this client's waits
        (``receive``, ``feed``); the secret comes from ``AUROUS_WEBHOOK_SECRET`` by default."""
        # Deferred (down the layers): the verifier loads when a program receives webhooks.
        from .webhooks import ClientWebhooks

        return ClientWebhooks(self)

    def _finished(self, generation: Any) -> None:
        """A generation is known to be finished (a webhook said so): its concurrency slot is
        free and its budget hold settles, for this client and its copies."""
        if self._pacer is not None:
            self._pacer.finished_now([generation.id])
        budget = self._flow.spending.open.pop(generation.id, None)
        if budget is not None:
            budget.settle(generation)

    @property
    def pacing(self) -> bool:
        """Whether this client paces its requests to the team's limits (``pacing=`` option)."""
        return self._pacer is not None

    def with_options(self, **changes: Unpack[ClientOptions]) -> Self:
        """A copy with some options changed (``timeout``, ``max_retries`` …).

        The copy shares the connection pool and the pacing state: it is the same team, the
        same limits. Two options exist only here: ``budget`` (an `aurous.Budget` every create
        of the copy is counted against; ``None`` for none) and ``tags`` (a mapping of str to
        str kept on the budget's entries, spans and log records; it replaces the tags of the
        client copied). Both are kept by further copies unless changed.
        """
        budget = changes.pop("budget", self._budget)
        tags = check_tags(changes.pop("tags", self._tags))
        if budget is not None:
            if not isinstance(budget, Budget):
                raise TypeError(
                    f"budget must be an aurous.Budget or None, not {type(budget).__name__}"
                )
            # Named, on a shared pacing store: the books go to the store (one budget per fleet).
            budget._bind(self._pacer.store if self._pacer is not None else None)
        current: dict[str, Any] = {
            "api_key": self._api_key,
            "base_url": self.base_url,
            "api_version": self.api_version,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "max_rate_limit_wait": self.max_rate_limit_wait,
            "max_response_size": self.max_response_size,
            "default_headers": self.default_headers,
        }
        unknown = set(changes) - set(current)
        if unknown:
            raise TypeError(
                f"with_options() got unexpected option(s): {', '.join(sorted(unknown))}"
            )
        clone = type(self)(http_client=self._http, pacing=False, **{**current, **changes})
        clone._owns_http = False
        clone._pacer = self._pacer
        clone._completions = self._completions
        clone._observer = self._observer
        clone._clock = self._clock
        clone._spending = self._spending
        clone._tags = tags
        clone._budget = budget
        if budget is not None:
            self._spending.active = True
        clone._setup()
        return clone

    def _set_clock(self, clock: Clock) -> None:
        """Use ``clock`` for sleeping and timing (the emulator's manual clock, in tests)."""
        self._clock = clock
        self._driver.clock = clock
        self._flow.set_clock(clock)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} base_url={self.base_url!r} api_version={self.api_version!r}"
            f" max_retries={self.max_retries} pacing={self.pacing}>"
        )


def _register_namespaces(cls: type[Any]) -> None:
    """Give ``cls`` a lazy attribute for each namespace its annotations declare."""
    for name, annotation in cls.__annotations__.items():
        if name.startswith("_") or not isinstance(annotation, str) or "[M]" not in annotation:
            continue
        class_name = annotation.partition("[")[0]
        module = RESOURCE_MODULES[class_name]
        attribute = namespace(f"aurous.resources{module}:{class_name}")
        attribute.__set_name__(cls, name)
        setattr(cls, name, attribute)


_register_namespaces(_BaseClient)


class Client(_BaseClient[Sync, httpx.Client]):
    """Synchronous client of the Aurous API.

    >>> client = aurous.Client()  # key from AUROUS_API_KEY
    >>> g = client.images.create_and_wait(prompt="a lighthouse at dusk")

    One client can be shared by many threads: it paces the team's rate limits and concurrency
    limit for all of them.

    Args:
        api_key: Your API key; defaults to the ``AUROUS_API_KEY`` environment variable.
        base_url: API origin; defaults to ``AUROUS_BASE_URL``, else ``https://api.aurous-labs.com``.
        api_version: Sent as ``Aurous-Version`` (default ``"2026-05-15"``); ``None`` sends none.
        timeout: How long a request may take: a number of seconds bounds every phase (connect,
            write, pool, read) and the whole response body; an ``httpx.Timeout`` sets each phase
            (``read`` also bounds the whole body). Default: 60 s, 5 s to connect. The same option
            on a call (``timeout=``) means the same per phase and, as a number, also bounds the
            whole call: pacing waits, retries and the body.
        max_retries: Automatic retries of failures that are safe to retry (default 3). Waiting
            for a rate limit is not a retry: it is bounded by ``max_rate_limit_wait``.
        pacing: Space requests by the rate-limit headers and hold creates back at the team's
            concurrency limit (default True); False sends at once and retries 429s like any
            failure.
        max_rate_limit_wait: Seconds one call may spend waiting for rate limits (default 60)
            before it raises `aurous.RateLimitError`; ``wait``/``create_and_wait`` use their own
            deadline instead.
        max_response_size: The largest response body read into memory, in bytes (default 64 MiB);
            a larger one raises `aurous.APIResponseValidationError`. Downloads stream to disk and
            are not limited.
        default_headers: Extra headers sent on every request.
        http_client: Your own ``httpx.Client`` (proxies, limits, transports). The SDK never closes
            a client it did not create.
        tracer_provider: An OpenTelemetry ``TracerProvider`` for the spans of this client's calls
            (needs ``aurous[otel]``); by default OpenTelemetry's global one, once the program has
            imported OpenTelemetry. See the tracing guide.
        meter_provider: An OpenTelemetry ``MeterProvider`` for this client's metrics; by default
            the global one, on the same terms.
    """

    _http_class = httpx.Client
    _driver_class = SyncDriver

    @property
    def with_raw_response(self) -> _BaseClient[RawSync, httpx.Client]:
        """This client, with methods that return an `aurous.APIResponse`: the HTTP response
        (status, headers, request id, rate limits) and, through ``.parse()``, the usual result.

        >>> raw = client.with_raw_response.balance.retrieve()
        >>> raw.headers["aurous-request-id"], raw.rate_limit.remaining, raw.parse().available
        """
        view: _BaseClient[RawSync, httpx.Client] = self._raw_view()
        return view

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

    Takes the same options as `Client`; ``http_client`` is an ``httpx.AsyncClient``. One client
    can serve every request of a web application: it paces the team's limits for all its tasks.
    """

    _is_async = True
    _http_class = httpx.AsyncClient
    _driver_class = AsyncDriver

    @property
    def with_raw_response(self) -> _BaseClient[RawAsync, httpx.AsyncClient]:
        """This client, with methods that return an `aurous.APIResponse` (see
        `Client.with_raw_response`).

        >>> raw = await client.with_raw_response.images.retrieve("img_…")
        >>> raw.status_code, raw.parse().status
        """
        view: _BaseClient[RawAsync, httpx.AsyncClient] = self._raw_view()
        return view

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
