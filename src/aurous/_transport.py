"""HTTP policy, without I/O: one attempt at a call as `Exchange` steps.

`Transport.attempt` builds the request (headers, credentials, body), yields it as an `Exchange`
for the driver to send, follows redirects itself (so credentials never leave the API's origin),
and turns whatever comes back into the response or an `aurous` error. Drivers only move bytes
(`aurous._drivers`); retrying and pacing happen above, in `aurous._flow`, so an attempt here is
one request plus the redirects it is answered with.
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
from ._constants import MAX_REDIRECTS
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AurousError,
    error_from_response,
    redact,
)
from ._steps import Exchange, Steps, UnreadBody
from ._version import __version__

__all__ = ["BodyTooLarge", "Transport", "closed_error", "stream_error"]

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


class BodyTooLarge(Exception):
    """A response body passed the client's ``max_response_size``."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is larger than max_response_size ({limit:,} bytes)")
        self.limit = limit


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


def _bodiless(response: httpx.Response) -> httpx.Response:
    """``response`` without its body (which could not be read), for building its error."""
    headers = [
        (k, v)
        for k, v in response.headers.multi_items()
        if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    return httpx.Response(response.status_code, headers=headers, request=response.request)


def _shown(url: httpx.URL) -> httpx.URL:
    """``url`` as an error message or a log record shows it: without its query (a signed URL's
    token) and with its user info (a password) masked, as the spans mask it."""
    url = url.copy_with(query=None)
    return url.copy_with(userinfo=b"REDACTED:REDACTED") if url.userinfo else url


def connection_error(
    exc: Exception, request: httpx.Request, idempotency_key: str | None
) -> APIConnectionError:
    """The `aurous` error for a request that failed on the network (or timed out)."""
    never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    what = "timed out" if cls is APITimeoutError else "failed"
    reason = _reason(exc)
    url = _shown(request.url)
    error = cls(
        f"{request.method} {url} {what}: {reason}",
        request=request,
        idempotency_key=idempotency_key,
    )
    error._never_sent = never_sent  # type: ignore[attr-defined]
    if logger.isEnabledFor(logging.INFO):
        logger.info(
            "%s %s %s (%s)",
            request.method,
            url,
            what,
            reason,
            extra={
                "http_method": request.method,
                "url_path": request.url.path,
                "error_type": cls.__name__,
                "idempotency_key": idempotency_key,
            },
        )
    return error


def _bad_location(exc: Exception) -> bool:
    """Whether httpx refused to send because an answer's ``Location`` cannot be followed.

    httpx builds the next request of every redirect inside ``send``, even when it does not
    follow it, and raises there for a ``Location`` it cannot parse (``javascript:``, ``data:``,
    ``mailto:``, a malformed URL): the answer itself is then lost. The request was already built,
    so an ``InvalidURL`` raised by ``send`` can only come from that.
    """
    if isinstance(exc, httpx.InvalidURL):
        return True
    return isinstance(exc, httpx.RemoteProtocolError) and "location header" in str(exc).lower()


def unfollowable(
    exc: Exception, request: httpx.Request, idempotency_key: str | None
) -> APIResponseValidationError:
    """The error for an answer redirecting where no client can follow: not a network failure,
    and not worth a retry (the server would answer the same)."""
    redact(request)  # the error holds no response, but its traceback's frames hold the request
    return APIResponseValidationError(
        f"{request.method} {request.url.path} answered a redirect whose Location cannot be "
        f"followed ({exc})",
        response=None,
        idempotency_key=idempotency_key,
    )


def closed_error(request: httpx.Request, idempotency_key: str | None) -> APIConnectionError:
    """The error for a request sent through a client that was closed meanwhile (``close()``,
    the end of a ``with`` block): never sent, and never retried — it would fail the same way."""
    url = _shown(request.url)
    error = APIConnectionError(
        f"{request.method} {url} was not sent: the client was closed while the call was in "
        "progress",
        request=request,
        idempotency_key=idempotency_key,
    )
    error._never_sent = True  # type: ignore[attr-defined]
    error._client_closed = True  # type: ignore[attr-defined]
    return error


def stream_error(exc: Exception, response: httpx.Response) -> APIConnectionError:
    """A body that broke off mid-stream surfaces as the SDK's connection error, like a send."""
    request = response.request
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    return cls(
        f"reading the body of {request.method} {_shown(request.url)} failed: "
        f"{type(exc).__name__}: {exc}",
        request=request,
    )


class Transport:
    """What every request of one client carries, and how its answers are read.

    Holds the client's ``httpx`` client only to build requests with its defaults (a user's
    ``http_client`` may add headers, cookies or event hooks); sending is the driver's.
    """

    def __init__(
        self,
        http: httpx.Client | httpx.AsyncClient,
        *,
        api_key: str,
        base_url: str,
        api_version: str | None,
        default_headers: dict[str, str],
        max_response_size: int,
    ) -> None:
        self.http = http
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.max_response_size = max_response_size
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

    # ---- one attempt -------------------------------------------------------------------------
    def attempt(
        self, call: Call[Any], attempt: int, timeout: httpx.Timeout, deadline: float | None
    ) -> Steps[httpx.Response]:
        """Send ``call`` once, following redirects; the 2xx response, or the `aurous` error."""
        method, url, body = call.method, self.initial_url(call), True
        response: httpx.Response | None = None
        for _ in range(MAX_REDIRECTS + 1):
            request = self.build(call, method, url, body, timeout)
            exchange = Exchange(
                call, attempt, call.sent, request, call.stream, deadline, self.max_response_size
            )
            call.sent += 1
            try:
                response = yield exchange
            except (httpx.TransportError, httpx.InvalidURL) as exc:
                if _bad_location(exc):
                    raise unfollowable(exc, request, call.idempotency_key) from exc
                raise connection_error(exc, request, call.idempotency_key) from exc
            except UnreadBody as exc:
                raise self.unreadable(exc, call) from exc.error
            except RuntimeError as exc:
                if not self.http.is_closed:
                    raise
                raise closed_error(request, call.idempotency_key) from exc
            self.observe(response, attempt, call)
            hop = self.redirect(response, method, call)
            if hop is None:
                if not response.is_success:
                    raise error_from_response(response, idempotency_key=call.idempotency_key)
                return response
            method, url, keep = hop
            body = body and keep
        assert response is not None
        raise APIStatusError(
            f"more than {MAX_REDIRECTS} redirects following {response.request.url.path}",
            response=response,
            request_id=response.headers.get("aurous-request-id"),
            idempotency_key=call.idempotency_key,
        )

    # ---- building requests -------------------------------------------------------------------
    def initial_url(self, call: Call[Any]) -> str:
        return call.absolute_url or f"{self.base_url}{call.path}"

    def same_origin(self, url: str | httpx.URL) -> bool:
        return _origin(str(url)) == self._origin

    def headers(self, call: Call[Any], url: str) -> dict[str, str] | httpx.Headers:
        prebuilt = self._auth_headers
        extra = call.options.get("extra_headers")
        if (
            prebuilt is not None
            and call.authenticate
            and not call.headers
            and not extra
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
        if extra:
            # A caller's own Idempotency-Key is already the call's key (`Call.prepare`): it is
            # sent once, under one name, below.
            headers.update((k, v) for k, v in extra.items() if k.lower() != "idempotency-key")
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
        self, call: Call[Any], method: str, url: str, body: bool, timeout: httpx.Timeout
    ) -> httpx.Request:
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
        return self.http.build_request(
            method,
            _parsed(url),
            params=query or None,
            headers=self.headers(call, url),
            timeout=timeout,
            **kwargs,
        )

    # ---- reading responses -------------------------------------------------------------------
    @staticmethod
    def redirect(
        response: httpx.Response, method: str, call: Call[Any]
    ) -> tuple[str, str, bool] | None:
        """The next hop for a redirect response: (method, url, keep_body), or None."""
        if response.status_code not in _REDIRECTS or "location" not in response.headers:
            return None
        location = response.headers["location"]
        url = urljoin(str(response.request.url), location)
        try:
            scheme = httpx.URL(url).scheme
        except httpx.InvalidURL:
            scheme = ""
        if scheme not in ("http", "https"):
            # javascript:, data:, mailto:, or no URL at all: nothing a client can follow.
            raise APIStatusError(
                f"{response.request.method} {response.request.url.path} answered "
                f"{response.status_code} redirecting to {location[:100]!r}, which is not an "
                "http(s) URL",
                response=response,
                request_id=response.headers.get("aurous-request-id"),
                idempotency_key=call.idempotency_key,
            )
        if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
            return ("GET" if method != "HEAD" else method), url, False
        return method, url, True

    @staticmethod
    def observe(response: httpx.Response, attempt: int, call: Call[Any]) -> None:
        request = response.request
        if logger.isEnabledFor(logging.INFO):
            request_id = response.headers.get("aurous-request-id")
            logger.info(
                "%s %s -> %d (request_id=%s, attempt=%d)",
                request.method,
                request.url.path,
                response.status_code,
                request_id,
                attempt,
                extra={
                    "http_method": request.method,
                    "url_path": request.url.path,
                    "status_code": response.status_code,
                    "request_id": request_id,
                    "attempt": attempt,
                    "route": call.route,
                    "idempotency_key": call.idempotency_key,
                },
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
    def unreadable(failure: UnreadBody, call: Call[Any]) -> AurousError:
        """The error for an answer whose body could not be read whole."""
        response, exc = failure.response, failure.error
        request = response.request
        key = call.idempotency_key
        if isinstance(exc, httpx.TransportError):
            return connection_error(exc, request, key)
        if isinstance(exc, BodyTooLarge):
            why = str(exc)
        else:  # a body whose Content-Encoding is broken (bad gzip)
            why = f"its body could not be decoded ({exc})"
        if response.is_success:
            # For a 2xx the work may be done: the key recovers it.
            return APIResponseValidationError(
                f"{request.method} {request.url.path} answered {response.status_code} but {why}",
                response=response,
                idempotency_key=key,
            )
        # The status is the primary signal: the error class it calls for, without the body.
        error = error_from_response(_bodiless(response), idempotency_key=key)
        error.message = f"{error.message} ({why})"
        return error
