"""`DefaultAioHttpClient`: an ``httpx.AsyncClient`` that sends through aiohttp.

httpx's own async transport (httpcore on anyio) spends most of a request's CPU time in its
connection pool once many requests are in flight; aiohttp's connector does not. Install the
extra (``pip install 'aurous[aiohttp]'``, which brings ``httpx-aiohttp``) and pass one::

    client = aurous.AsyncClient(http_client=aurous.DefaultAioHttpClient())

Everything else stays the same: the SDK builds, sends, retries and reads requests through the
``httpx.AsyncClient`` interface, and the aiohttp session opens on the first request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._client import DEFAULT_CONNECTION_LIMITS, _lean_cookies, _shared_ssl_context
from ._constants import DEFAULT_TIMEOUT

__all__ = ["DefaultAioHttpClient"]

try:
    from httpx_aiohttp import HttpxAiohttpClient
except ImportError:  # the extra is not installed: say how to get it when one is created
    HttpxAiohttpClient = None  # type: ignore[misc,assignment]

_MISSING = (
    "aurous.DefaultAioHttpClient needs the aiohttp extra: pip install 'aurous[aiohttp]' "
    "(it installs httpx-aiohttp and aiohttp)"
)

if TYPE_CHECKING or HttpxAiohttpClient is not None:

    class DefaultAioHttpClient(HttpxAiohttpClient):
        """An ``httpx.AsyncClient`` whose requests go through aiohttp, for `aurous.AsyncClient`.

        >>> client = aurous.AsyncClient(http_client=aurous.DefaultAioHttpClient())

        Takes ``httpx.AsyncClient``'s keyword arguments. Its defaults are the SDK's own: the
        client's timeout, a pool that keeps up to 100 connections alive, no redirect following
        (the SDK follows redirects itself), the SSL context shared by the SDK's clients, and a
        cookie store that skips the cookie machinery for responses that set no cookie.
        As with any client you pass, the SDK does not close it: use ``async with`` or
        ``await http_client.aclose()``.
        """

        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
            kwargs.setdefault("limits", DEFAULT_CONNECTION_LIMITS)
            kwargs.setdefault("follow_redirects", False)
            kwargs.setdefault("verify", _shared_ssl_context())
            super().__init__(**kwargs)
            _lean_cookies(self)

else:
    import httpx

    class DefaultAioHttpClient(httpx.AsyncClient):
        """Stands in while the aiohttp extra is not installed: creating one says how to get it."""

        def __init__(self, **kwargs: Any) -> None:
            raise ImportError(_MISSING)
