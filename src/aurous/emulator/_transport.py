"""httpx transports that hand requests to the core in-process (no sockets).

Of httpx's four timeouts only ``read`` applies: there is no connection to open (``connect``), no
pool to wait for (``pool``) and the body is handed over in memory (``write``). Injected latency
and fault gates count against the read timeout on the emulator clock: real seconds on the real
clock; on a manual clock the wait advances it. When the read timeout runs out first the client
gets ``httpx.ReadTimeout`` after exactly that long, and the server side still completes the
request later (``Core.abandon``), as a real server keeps working after the client gave up.
"""

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


def _timed_out(request: httpx.Request) -> httpx.ReadTimeout:
    return httpx.ReadTimeout("Timed out waiting for the emulator.", request=request)


class EmulatorTransport(httpx.BaseTransport):
    """Synchronous in-process transport: ``httpx.Client(transport=emu.transport)``."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        pending = self._core.begin(_to_emu(request, request.read()))
        try:
            answered = self._wait(pending, _read_timeout(request))
        except BaseException:  # interrupted: the client left, the server carries on
            self._core.abandon(pending)
            raise
        if not answered:
            self._core.abandon(pending)
            raise _timed_out(request)
        return _to_httpx(request, self._core.finish(pending))

    def _wait(self, pending: Pending, timeout: float | None) -> bool:
        """Spend the latency and wait at the gate; False when the read timeout came first."""
        clock = self._core.clock
        if timeout is not None and pending.delay > timeout:
            clock.sleep(timeout)
            return False
        if pending.delay:
            clock.sleep(pending.delay)
        if pending.gate is None:
            return True
        if timeout is None:
            pending.gate.block()
            return True
        return pending.gate.block_until(clock.now, pending.started + timeout)


class AsyncEmulatorTransport(httpx.AsyncBaseTransport):
    """Asynchronous in-process transport: ``httpx.AsyncClient(transport=emu.async_transport)``."""

    def __init__(self, core: Core) -> None:
        self._core = core

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pending = self._core.begin(_to_emu(request, await request.aread()))
        try:
            answered = await self._wait(pending, _read_timeout(request))
        except BaseException:  # cancelled: the client left, the server carries on
            self._core.abandon(pending)
            raise
        if not answered:
            self._core.abandon(pending)
            raise _timed_out(request)
        return _to_httpx(request, self._core.finish(pending))

    async def _wait(self, pending: Pending, timeout: float | None) -> bool:
        clock = self._core.clock
        if timeout is not None and pending.delay > timeout:
            await clock.asleep(timeout)
            return False
        if pending.delay:
            await clock.asleep(pending.delay)
        if pending.gate is None:
            return True
        if timeout is None:
            await pending.gate.ablock()
            return True
        return await pending.gate.ablock_until(clock.now, pending.started + timeout)
