"""The HTTP layer: one attempt at a call — headers, redirects, error mapping and logging.

All policy lives in `_TransportBase`; `SyncTransport` and `AsyncTransport` only move bytes.
Retrying and pacing happen above, in `aurous._flow`, so an attempt here is exactly one request
(plus the redirects it is answered with).
"""

from __future__ import annotations

import functools
import logging
import os
import platform
import sys
import warnings
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from ._call import Call
from ._clock import Clock
from ._constants import MAX_REDIRECTS
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AurousError,
    error_from_response,
)
from ._steps import Send
from ._version import __version__

logger = logging.getLogger("aurous")

_REDIRECTS = {301, 302, 303, 307, 308}
# Headers that carry credentials or per-call identity; sent only to the API's own origin.
_ORIGIN_BOUND = ("x-api-key", "authorization", "idempotency-key")
_USER_AGENT = (
    f"aurous-python/{__version__} python/{platform.python_version_tuple()[0]}."
    + (platform.python_version_tuple()[1])
)
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_warned_routes: set[tuple[str, str]] = set()


@functools.lru_cache(maxsize=256)
def _parsed(url: str) -> httpx.URL:
    # Cached: parsing a URL string is a sixth of httpx's work per request, and a client asks for
    # the same URLs again and again (every create, every poll of one generation). httpx.URL is
    # immutable, so requests can share one.
    return httpx.URL(url)


@functools.lru_cache(maxsize=512)
def _origin(url: str) -> tuple[str, str, int | None]:
    # Cached: this runs on every request to decide whether credentials may be sent. The URL is
    # parsed once for this and for the request itself (`_parsed`).
    parts = _parsed(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, parts.host, port


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside this package.

    A fixed number cannot work: the sync and async clients, the emulator's transport and the
    helpers all reach the transport through different depths.
    """
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def _reason(exc: BaseException) -> str:
    """Why a request failed, down to the operating system's words.

    The async stack reports a refused connection as "All connection attempts failed" and keeps
    the "Connection refused" in the exception chain; the user needs the latter.
    """
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    cause, hops = exc.__cause__ or exc.__context__, 0
    while cause is not None and hops < 8:
        if isinstance(cause, OSError) and (cause.errno or cause.strerror):
            detail = (
                os.strerror(cause.errno)
                if isinstance(cause, ConnectionError) and cause.errno
                else cause.strerror
            )
            if detail and detail not in reason:
                reason += f" ({detail})"
            break
        cause, hops = cause.__cause__ or cause.__context__, hops + 1
    return reason


class _TransportBase:
    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        api_version: str | None,
        default_headers: dict[str, str],
        clock: Clock,
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self._origin = _origin(self.base_url)
        # Built once: every authenticated request starts from a copy of these.
        base = {"User-Agent": _USER_AGENT, "Accept": "application/json"}
        if api_version is not None:
            base["Aurous-Version"] = api_version
        base.update(default_headers)
        self._base_headers = base
        # The headers of most requests (authenticated, to the API, no per-call headers), built
        # once as httpx builds them: httpx merges an ``httpx.Headers`` without re-encoding it.
        # Not when the defaults already name a credential header, which the dict path handles.
        self._auth_headers: httpx.Headers | None = None
        if not any(name.lower() in _ORIGIN_BOUND for name in base):
            self._auth_headers = httpx.Headers({**base, "X-Api-Key": api_key})

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={self.base_url!r}>"

    # ---- building requests -------------------------------------------------------------------
    def initial_url(self, call: Call[Any]) -> str:
        return call.absolute_url or f"{self.base_url}{call.path}"

    def same_origin(self, url: str | httpx.URL) -> bool:
        return _origin(str(url)) == self._origin

    def headers(self, call: Call[Any], url: str) -> dict[str, str] | httpx.Headers:
        prebuilt = self._auth_headers
        if (
            prebuilt is not None
            and call.authenticate
            and not call.headers
            and not call.options.get("extra_headers")
            and self.same_origin(url)
        ):
            if call.idempotency_key is None:
                return prebuilt
            keyed = prebuilt.copy()
            keyed["Idempotency-Key"] = call.idempotency_key
            return keyed
        # A signed upload URL gets exactly the headers it was issued with.
        headers = dict(self._base_headers) if call.authenticate else {}
        if call.headers:
            headers.update(call.headers)
        extra = call.options.get("extra_headers")
        if extra:
            headers.update(extra)
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
        step: Send,
        method: str,
        url: str,
        body: bool,
    ) -> httpx.Request:
        call = step.call
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
            query = call.query_params()
        return http.build_request(
            method,
            _parsed(url),
            params=query or None,
            headers=self.headers(call, url),
            timeout=step.timeout,
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
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "%s %s -> %d (request_id=%s, attempt=%d)",
                request.method,
                request.url.path,
                response.status_code,
                response.headers.get("aurous-request-id"),
                attempt,
            )
        deprecated = response.headers.get("aurous-deprecated")
        if deprecated is not None:
            path = urlsplit(str(request.url)).path
            route = (request.method, path)
            sunset = response.headers.get("sunset", "unannounced")
            if route not in _warned_routes:
                _warned_routes.add(route)
                message = (
                    f"Aurous marks {request.method} {path} as deprecated ({deprecated}); "
                    f"sunset: {sunset}"
                )
                logger.warning(message)
                warnings.warn(message, DeprecationWarning, stacklevel=_user_stacklevel())

    @staticmethod
    def connection_error(
        exc: httpx.TransportError, request: httpx.Request, call: Call[Any]
    ) -> APIConnectionError:
        never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
        cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        what = "timed out" if cls is APITimeoutError else "failed"
        reason = _reason(exc)
        url = request.url.copy_with(query=None)
        error = cls(
            f"{request.method} {url} {what}: {reason}",
            request=request,
            idempotency_key=call.idempotency_key,
        )
        error._never_sent = never_sent  # type: ignore[attr-defined]
        logger.info("%s %s %s (%s)", request.method, url, what, reason)
        return error

    @staticmethod
    def too_many_redirects(response: httpx.Response, call: Call[Any]) -> AurousError:
        return APIStatusError(
            f"more than {MAX_REDIRECTS} redirects following {response.request.url.path}",
            response=response,
            request_id=response.headers.get("aurous-request-id"),
            idempotency_key=call.idempotency_key,
        )

    @staticmethod
    def status_error(response: httpx.Response, call: Call[Any]) -> APIStatusError:
        return error_from_response(response, idempotency_key=call.idempotency_key)

    @staticmethod
    def undecodable(
        exc: httpx.DecodingError, response: httpx.Response, call: Call[Any]
    ) -> AurousError:
        # A body whose Content-Encoding is broken (bad gzip): for a 2xx the work may be done.
        request = response.request
        if response.is_success:
            return APIResponseValidationError(
                f"{request.method} {request.url.path} answered {response.status_code} but its "
                f"body could not be decoded ({exc})",
                response=response,
                idempotency_key=call.idempotency_key,
            )
        return error_from_response(response, idempotency_key=call.idempotency_key)


class SyncTransport(_TransportBase):
    """Sends attempts through an ``httpx.Client``."""

    def __init__(self, http: httpx.Client, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.http = http

    def send(self, step: Send) -> httpx.Response:
        """One attempt: the 2xx response (read unless the call streams), or the mapped error."""
        call = step.call
        method, url, body = call.method, self.initial_url(call), True
        for _ in range(MAX_REDIRECTS + 1):
            request = self.build(self.http, step, method, url, body)
            try:
                response = self.http.send(request, stream=True, follow_redirects=False)
            except httpx.TransportError as exc:
                raise self.connection_error(exc, request, call) from exc
            self.observe(response, step.attempt)
            hop = self.redirect(response, method)
            if hop is None:
                return self._finish(response, call, request)
            response.close()
            method, url, keep = hop
            body = body and keep
        raise self.too_many_redirects(response, call)

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
        except httpx.DecodingError as exc:
            raise self.undecodable(exc, response, call) from exc
        finally:
            response.close()
        if not ok:
            raise self.status_error(response, call)
        return response


class AsyncTransport(_TransportBase):
    """Sends attempts through an ``httpx.AsyncClient``."""

    def __init__(self, http: httpx.AsyncClient, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.http = http

    async def send(self, step: Send) -> httpx.Response:
        """One attempt: the 2xx response (read unless the call streams), or the mapped error."""
        call = step.call
        method, url, body = call.method, self.initial_url(call), True
        for _ in range(MAX_REDIRECTS + 1):
            request = self.build(self.http, step, method, url, body)
            try:
                response = await self.http.send(request, stream=True, follow_redirects=False)
            except httpx.TransportError as exc:
                raise self.connection_error(exc, request, call) from exc
            self.observe(response, step.attempt)
            hop = self.redirect(response, method)
            if hop is None:
                return await self._finish(response, call, request)
            await response.aclose()
            method, url, keep = hop
            body = body and keep
        raise self.too_many_redirects(response, call)

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
        except httpx.DecodingError as exc:
            raise self.undecodable(exc, response, call) from exc
        finally:
            await response.aclose()
        if not ok:
            raise self.status_error(response, call)
        return response
