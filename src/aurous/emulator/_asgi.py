"""The ASGI app: the same core behind any ASGI server (uvicorn in served mode)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ._core import Core
from ._http import EmuRequest

__all__ = ["DROP_MESSAGE", "AsgiApp"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

DROP_MESSAGE = "ASGI callable returned without completing response."
"""What uvicorn logs when the app drops a connection on purpose (the server filters it)."""


class AsgiApp:
    """ASGI 3 application over a :class:`Core`."""

    def __init__(self, core: Core) -> None:
        self.core = core

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        host = next((v for k, v in headers if k.lower() == "host"), None)
        if host is None:
            server = scope.get("server") or ("127.0.0.1", 80)
            host = f"{server[0]}:{server[1]}"
        request = EmuRequest.build(
            scope["method"],
            scope["path"],
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=bytes(body),
            base_url=f"{scope.get('scheme', 'http')}://{host}",
        )
        response = await self.core.ahandle(request)
        raw_headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in response.headers
            # Without a length the server streams chunks; closing before the last chunk
            # leaves the client with an incomplete response.
            if not (response.drop_connection and k.lower() == "content-length")
        ]
        await send(
            {"type": "http.response.start", "status": response.status, "headers": raw_headers}
        )
        if response.drop_connection:
            # Headers are out, the body never comes: the server closes the connection and the
            # client sees an incomplete response (a connection error), with the work done.
            return
        await send({"type": "http.response.body", "body": response.body, "more_body": False})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
