"""The HTTP layer: headers, idempotency keys, redirects, retries, error mapping and logging.

All policy lives in `_TransportBase`; `SyncTransport` and `AsyncTransport` only move bytes.
"""

from __future__ import annotations

import functools
import logging
import platform
import uuid
import warnings
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

from ._call import Call
from ._clock import Clock
from ._constants import MAX_REDIRECTS
from ._errors import APIConnectionError, APITimeoutError, AurousError, error_from_response
from ._retry import RetryPolicy
from ._version import __version__

logger = logging.getLogger("aurous")

T = TypeVar("T")

_REDIRECTS = {301, 302, 303, 307, 308}
# Headers that carry credentials or per-call identity; sent only to the API's own origin.
_ORIGIN_BOUND = ("x-api-key", "authorization", "idempotency-key")
_USER_AGENT = (
    f"aurous-python/{__version__} python/{platform.python_version_tuple()[0]}."
    + (platform.python_version_tuple()[1])
)
_warned_routes: set[tuple[str, str]] = set()


@functools.lru_cache(maxsize=512)
def _origin(url: str) -> tuple[str, str, int | None]:
    # Cached: this runs on every request to decide whether credentials may be sent.
    parts = httpx.URL(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, parts.host, port


def check_header_value(name: str, value: str) -> str:
    """Refuse header values that would split the request (CR/LF injection)."""
    if not isinstance(value, str):
        raise TypeError(f"header {name!r} must be a str, not {type(value).__name__}")
    if "\r" in value or "\n" in value:
        raise ValueError(f"header {name!r} contains a line break (CR/LF), which is not allowed")
    return value


def _timeout(value: Any) -> httpx.Timeout:
    if isinstance(value, httpx.Timeout):
        return value
    if value is None:
        return httpx.Timeout(None)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or httpx.Timeout, not {value!r}")
    return httpx.Timeout(float(value))


class _TransportBase:
    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        api_version: str | None,
        timeout: httpx.Timeout,
        max_retries: int,
        default_headers: dict[str, str],
        clock: Clock,
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.timeout = timeout
        self.max_retries = max_retries
        self.default_headers = default_headers
        self.clock = clock
        self._origin = _origin(self.base_url)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={self.base_url!r}>"

    # ---- building requests -------------------------------------------------------------------
    def prepare(self, call: Call[Any]) -> None:
        """Fix the call's idempotency key once, before the first attempt."""
        if call.idempotent and call.idempotency_key is None:
            call.idempotency_key = str(uuid.uuid4())
        if call.idempotency_key is not None:
            check_header_value("Idempotency-Key", call.idempotency_key)

    def policy(self, call: Call[Any]) -> RetryPolicy:
        return RetryPolicy(call.options.get("max_retries", self.max_retries))

    def initial_url(self, call: Call[Any]) -> str:
        return call.absolute_url or f"{self.base_url}{call.path}"

    def same_origin(self, url: str | httpx.URL) -> bool:
        return _origin(str(url)) == self._origin

    def headers(self, call: Call[Any], url: str) -> dict[str, str]:
        headers: dict[str, str] = {}
        # A signed upload URL gets exactly the headers it was issued with (endpoints.md §9.2).
        if call.authenticate:
            headers.update({"User-Agent": _USER_AGENT, "Accept": "application/json"})
            if self.api_version is not None:
                headers["Aurous-Version"] = self.api_version
            headers.update(self.default_headers)
        if call.headers:
            headers.update(call.headers)
        extra = call.options.get("extra_headers")
        if extra:
            headers.update(extra)
        for name, value in headers.items():
            check_header_value(name, value)
        if call.authenticate and self.same_origin(url):
            headers["X-Api-Key"] = self.api_key
            if call.idempotency_key is not None:
                headers["Idempotency-Key"] = call.idempotency_key
        else:
            for name in list(headers):
                if name.lower() in _ORIGIN_BOUND:
                    del headers[name]
        return headers

    def build(
        self,
        http: httpx.Client | httpx.AsyncClient,
        call: Call[Any],
        method: str,
        url: str,
        body: bool,
    ) -> httpx.Request:
        timeout = _timeout(call.options["timeout"]) if "timeout" in call.options else self.timeout
        kwargs: dict[str, Any] = {}
        if body:
            if call.files is not None:
                kwargs["files"] = dict(call.files)
                kwargs["data"] = dict(call.data or {})
            elif call.content is not None:
                kwargs["content"] = call.content
            else:
                payload = call.body_json()
                if payload is not None:
                    kwargs["json"] = payload
        query: list[tuple[str, Any]] | None = None
        if url == self.initial_url(call):
            query = list(call.query_params())
        return http.build_request(
            method,
            url,
            params=query or None,
            headers=self.headers(call, url),
            timeout=timeout,
            **kwargs,
        )

    # ---- reading responses -------------------------------------------------------------------
    @staticmethod
    def redirect(response: httpx.Response, method: str) -> tuple[str, str, bool] | None:
        """The next hop for a redirect response: (method, url, keep_body), or None."""
        if response.status_code not in _REDIRECTS or "location" not in response.headers:
            return None
        url = urljoin(str(response.request.url), response.headers["location"])
        if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
            return ("GET" if method != "HEAD" else method), url, False
        return method, url, True

    def observe(self, response: httpx.Response, attempt: int) -> None:
        request = response.request
        path = urlsplit(str(request.url)).path
        logger.info(
            "%s %s -> %d (request_id=%s, attempt=%d)",
            request.method,
            path,
            response.status_code,
            response.headers.get("aurous-request-id"),
            attempt,
        )
        deprecated = response.headers.get("aurous-deprecated")
        if deprecated is not None:
            route = (request.method, path)
            sunset = response.headers.get("sunset", "unannounced")
            if route not in _warned_routes:
                _warned_routes.add(route)
                message = (
                    f"Aurous marks {request.method} {path} as deprecated ({deprecated}); "
                    f"sunset: {sunset}"
                )
                logger.warning(message)
                warnings.warn(message, DeprecationWarning, stacklevel=6)

    @staticmethod
    def connection_error(
        exc: httpx.TransportError, request: httpx.Request, call: Call[Any]
    ) -> APIConnectionError:
        never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
        cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        what = "timed out" if cls is APITimeoutError else "failed"
        error = cls(
            f"{request.method} {request.url.path} {what}: {type(exc).__name__}",
            request=request,
            idempotency_key=call.idempotency_key,
        )
        error._never_sent = never_sent  # type: ignore[attr-defined]
        logger.info("%s %s %s (%s)", request.method, request.url.path, what, type(exc).__name__)
        return error

    @staticmethod
    def too_many_redirects(request: httpx.Request) -> AurousError:
        return AurousError(f"more than {MAX_REDIRECTS} redirects following {request.url.path}")


class SyncTransport(_TransportBase):
    """Sends calls through an ``httpx.Client``."""

    def __init__(self, http: httpx.Client, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.http = http

    def send(self, call: Call[Any]) -> httpx.Response:
        """Send ``call`` with retries; return the 2xx response (read unless ``call.stream``)."""
        self.prepare(call)
        retrying = self.policy(call).retrying(retry_safe=call.retry_safe, sleep=self.clock.sleep)
        for attempt in retrying:
            with attempt:
                response = self._send_once(call, attempt.retry_state.attempt_number)
        return response

    def _send_once(self, call: Call[Any], attempt: int) -> httpx.Response:
        method, url, body = call.method, self.initial_url(call), True
        for _ in range(MAX_REDIRECTS + 1):
            request = self.build(self.http, call, method, url, body)
            try:
                response = self.http.send(request, stream=True, follow_redirects=False)
            except httpx.TransportError as exc:
                raise self.connection_error(exc, request, call) from exc
            self.observe(response, attempt)
            hop = self.redirect(response, method)
            if hop is None:
                return self._finish(response, call, request)
            response.close()
            method, url, keep = hop
            body = body and keep
        raise self.too_many_redirects(request)

    def _finish(
        self, response: httpx.Response, call: Call[Any], request: httpx.Request
    ) -> httpx.Response:
        ok = response.is_success
        if ok and call.stream:
            return response
        try:
            response.read()
        except httpx.TransportError as exc:
            raise self.connection_error(exc, request, call) from exc
        finally:
            response.close()
        if not ok:
            raise error_from_response(response, idempotency_key=call.idempotency_key)
        return response


class AsyncTransport(_TransportBase):
    """Sends calls through an ``httpx.AsyncClient``."""

    def __init__(self, http: httpx.AsyncClient, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.http = http

    async def send(self, call: Call[Any]) -> httpx.Response:
        """Send ``call`` with retries; return the 2xx response (read unless ``call.stream``)."""
        self.prepare(call)
        retrying = self.policy(call).async_retrying(
            retry_safe=call.retry_safe, sleep=self.clock.asleep
        )
        async for attempt in retrying:
            with attempt:
                response = await self._send_once(call, attempt.retry_state.attempt_number)
        return response

    async def _send_once(self, call: Call[Any], attempt: int) -> httpx.Response:
        method, url, body = call.method, self.initial_url(call), True
        for _ in range(MAX_REDIRECTS + 1):
            request = self.build(self.http, call, method, url, body)
            try:
                response = await self.http.send(request, stream=True, follow_redirects=False)
            except httpx.TransportError as exc:
                raise self.connection_error(exc, request, call) from exc
            self.observe(response, attempt)
            hop = self.redirect(response, method)
            if hop is None:
                return await self._finish(response, call, request)
            await response.aclose()
            method, url, keep = hop
            body = body and keep
        raise self.too_many_redirects(request)

    async def _finish(
        self, response: httpx.Response, call: Call[Any], request: httpx.Request
    ) -> httpx.Response:
        ok = response.is_success
        if ok and call.stream:
            return response
        try:
            await response.aread()
        except httpx.TransportError as exc:
            raise self.connection_error(exc, request, call) from exc
        finally:
            await response.aclose()
        if not ok:
            raise error_from_response(response, idempotency_key=call.idempotency_key)
        return response
