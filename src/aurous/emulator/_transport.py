"""httpx transports that hand requests to the core in-process (no sockets)."""

from __future__ import annotations

import httpx

from ._core import Core, Pending
from ._http import EmuRequest, EmuResponse

__all__ = ["AsyncEmulatorTransport", "EmulatorTransport"]


def _to_emu(request: httpx.Request, body: bytes) -> EmuRequest:
    url = request.url
    return EmuRequest.build(
        request.method,
        url.path,
        query_string=url.query.decode("ascii", "replace"),
        headers=request.headers.multi_items(),
        body=body,
        base_url=f"{url.scheme}://{url.netloc.decode('ascii')}",
    )


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout", {})
    value = timeout.get("read") if isinstance(timeout, dict) else None
    return float(value) if isinstance(value, (int, float)) else None


def _to_httpx(request: httpx.Request, response: EmuResponse) -> httpx.Response:
    if response.drop_connection:
        # The server may have done (and committed) the work; the client only sees the
        # connection go away, exactly as with a real network failure.
        raise httpx.RemoteProtocolError(
            "Server disconnected without sending a complete response.", request=request
        )
    return httpx.Response(
        response.status, headers=response.headers, content=response.body, request=request
    )


class EmulatorTransport(httpx.BaseTransport):
    """Synchronous in-process transport: ``httpx.Client(transport=emu.transport)``.

    Injected latency longer than the request's read timeout raises ``httpx.ReadTimeout`` after
    the server side has finished the request, as a real server would keep working.
    """

    def __init__(self, core: Core) -> None:
        self._core = core

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        pending = self._core.begin(_to_emu(request, request.read()))
        timed_out = self._wait(pending, _read_timeout(request))
        response = self._core.finish(pending)
        if timed_out:
            raise httpx.ReadTimeout("Timed out waiting for the emulator.", request=request)
        return _to_httpx(request, response)

    def _wait(self, pending: Pending, timeout: float | None) -> bool:
        if pending.delay:
            self._core.clock.sleep(pending.delay)
        if pending.gate is not None:
            pending.gate.block()
        return timeout is not None and pending.delay > timeout


class AsyncEmulatorTransport(httpx.AsyncBaseTransport):
    """Asynchronous in-process transport: ``httpx.AsyncClient(transport=emu.async_transport)``."""

    def __init__(self, core: Core) -> None:
        self._core = core

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pending = self._core.begin(_to_emu(request, await request.aread()))
        if pending.delay:
            await self._core.clock.asleep(pending.delay)
        if pending.gate is not None:
            await pending.gate.ablock()
        response = self._core.finish(pending)
        timeout = _read_timeout(request)
        if timeout is not None and pending.delay > timeout:
            raise httpx.ReadTimeout("Timed out waiting for the emulator.", request=request)
        return _to_httpx(request, response)
