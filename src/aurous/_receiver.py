"""A webhook endpoint for your app: one `Receiver`, served as ASGI or WSGI.

Built on ``client.webhooks.receive``: a delivery is verified (a bad signature is answered 400
and nothing is processed), a duplicate is dropped (the API delivers at least once), a state older
than one already known is dropped (deliveries arrive out of order), and the waits of the client
that the delivery completes wake at once. Then the handlers registered for the event's type run —
after the answer has been sent, so the API gets its 2xx quickly (it gives a receiver 10 s).

Mount it where your framework mounts apps::

    receiver = aurous.webhooks.Receiver(client)

    @receiver.on("image.completed")
    async def done(event): ...

    app.mount("/webhooks", receiver.asgi)             # FastAPI / Starlette
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/webhooks": receiver.wsgi})  # Flask

The apps answer every path under their mount. Starlette answers a bare ``/webhooks`` with a
redirect to ``/webhooks/`` (which the API does not follow): register ``…/webhooks/`` there, or
add the app at an exact path (``app.add_route("/webhooks", receiver.asgi, methods=["POST"])``).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from ._errors import WebhookVerificationError
from ._signature import DEFAULT_TOLERANCE
from .types.events import Event

if TYPE_CHECKING:
    from ._client import AsyncClient, Client

__all__ = ["Handler", "Receiver", "RejectionHandler"]

logger = logging.getLogger("aurous")

Handler = Callable[[Event], "Awaitable[None] | None"]
"""A function of the event: plain, or a coroutine function."""
H = TypeVar("H", bound=Handler)
RejectionHandler = Callable[[WebhookVerificationError], None]
"""A function of the error a refused delivery raised (its ``reason`` says why)."""
R = TypeVar("R", bound=RejectionHandler)

_MAX_BODY = 1024 * 1024
"""Deliveries are small JSON documents; anything larger is refused before it is read whole."""
_ALL = "*"


class Receiver:
    """The webhook endpoint of one client: ``asgi`` and ``wsgi`` apps, handlers by event type.

    Args:
        client: The `aurous.Client` or `aurous.AsyncClient` whose waits deliveries complete.
        secret: The endpoint's signing secret (``whsec_…``), or several during a rotation;
            default: ``AUROUS_WEBHOOK_SECRET``, read at each delivery.
        tolerance: Accepted age of a signature's timestamp, in seconds, either way.
        clock: The Unix time to check signature timestamps against (default: ``time.time``);
            for a sender on a clock of its own, such as an emulator's (``emu.deliver_webhooks_to``
            sets it).
    """

    def __init__(
        self,
        client: Client | AsyncClient,
        *,
        secret: str | Sequence[str] | None = None,
        tolerance: int = DEFAULT_TOLERANCE,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.webhooks = client.webhooks
        self.secret = secret
        self.tolerance = tolerance
        self.clock = clock
        self._handlers: dict[str, list[Handler]] = {}
        self._on_rejected: list[RejectionHandler] = []
        self._pool: ThreadPoolExecutor | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = threading.Lock()
        self.received = 0
        """Deliveries verified and acted on (duplicates and stale states not counted)."""
        self.rejected = 0
        """Deliveries refused for their signature (answered 400)."""

    def __repr__(self) -> str:
        kinds = ", ".join(sorted(self._handlers)) or "none"
        return f"<Receiver handlers for: {kinds}>"

    def on(self, *types: str) -> Callable[[H], H]:
        """Register the decorated function for these event types (``"image.completed"`` …; none:
        every event). Plain functions run in a worker thread, coroutine functions on the loop
        (ASGI) or in a loop of their own (WSGI)."""

        def register(handler: H) -> H:
            if not callable(handler):
                raise TypeError("a handler must be callable")
            for kind in types or (_ALL,):
                self._handlers.setdefault(kind, []).append(handler)
            return handler

        return register

    def on_rejected(self, handler: R) -> R:
        """Register the decorated function for refused deliveries: it is called with the
        `aurous.WebhookVerificationError` (``.reason``: why) before the 400 is answered, so keep
        it quick (a log line, a metric). A wrong secret shows up here, on the receiving side.
        Each refusal is also logged (a warning on the ``aurous`` logger) and counted in
        `rejected`."""
        if not callable(handler):
            raise TypeError("a handler must be callable")
        self._on_rejected.append(handler)
        return handler

    # ---- the transport-free core ---------------------------------------------------------------
    def accept(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes, list[Any]]:
        """Verify and take one delivery: (status, response body, the calls still to make)."""
        try:
            event = self.webhooks.receive(
                body,
                headers,
                secret=self.secret,
                tolerance=self.tolerance,
                now=self.clock() if self.clock is not None else None,
            )
        except WebhookVerificationError as error:
            with self._lock:
                self.rejected += 1
            logger.warning("aurous: webhook delivery rejected: %s", error.reason)
            for handler in self._on_rejected:
                try:
                    handler(error)
                except Exception:
                    logger.exception("aurous: a webhook rejection handler failed")
            return 400, _json({"error": "invalid signature", "reason": error.reason}), []
        if event.duplicate or event.stale:
            ignored = "duplicate" if event.duplicate else "stale"
            return 200, _json({"received": True, "ignored": ignored}), []
        with self._lock:
            self.received += 1
        handlers = [*self._handlers.get(str(event.type), ()), *self._handlers.get(_ALL, ())]
        return 200, _json({"received": True}), [(handler, event) for handler in handlers]

    def deliver(self, body: bytes, headers: Mapping[str, str]) -> int:
        """Take a delivery in this thread and run its handlers before returning (the emulator's
        in-process deliveries, tests); the status a server would answer.

        As behind a server, a handler that raises is logged and the answer stays 2xx. Called
        on a thread running an event loop (an `AsyncClient`'s emulator delivers in-process on
        it), coroutine handlers are scheduled as tasks of that loop: they run once the caller
        yields to it.
        """
        status, _, calls = self.accept(body, headers)
        for handler, event in calls:
            if inspect.iscoroutinefunction(handler) and _running_loop() is not None:
                task = asyncio.ensure_future(_logged(handler, event))
                self._tasks.add(task)  # a reference, until done: the loop keeps only weak ones
                task.add_done_callback(self._tasks.discard)
            else:
                _run_logged(handler, event)
        return status

    @property
    def sender(self) -> Callable[[Any], int]:
        """For ``Emulator(webhook_sender=receiver.sender)``: in-process deliveries to this
        receiver, so tests exercise webhook flows without a socket."""
        return lambda request: self.deliver(request.body, request.headers)

    # ---- ASGI ------------------------------------------------------------------------------------
    @property
    def asgi(self) -> Callable[..., Awaitable[None]]:
        """The ASGI app (FastAPI/Starlette ``app.mount("/webhooks", receiver.asgi)``)."""
        return _AsgiApp(self)

    async def _asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope.get("method") != "POST":
            await _asgi_answer(send, 405, _json({"error": "POST only"}))
            return
        body = await _asgi_body(receive)
        if body is None:
            await _asgi_answer(send, 413, _json({"error": "body too large"}))
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        pacer = self.webhooks._client._pacer
        if pacer is not None and pacer.store.shared:
            # A shared store answers over the network: not on the event loop.
            status, answer, calls = await asyncio.to_thread(self.accept, body, headers)
        else:
            status, answer, calls = self.accept(body, headers)
        await _asgi_answer(send, status, answer)
        for handler, event in calls:  # after the answer: the API is not kept waiting
            if inspect.iscoroutinefunction(handler):
                await _logged(handler, event)
            else:
                await asyncio.to_thread(_run_logged, handler, event)

    # ---- WSGI ------------------------------------------------------------------------------------
    @property
    def wsgi(self) -> Callable[..., Iterable[bytes]]:
        """The WSGI app (Flask through ``DispatcherMiddleware``, Django through a mount)."""
        return self._wsgi

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return _wsgi_answer(start_response, 405, _json({"error": "POST only"}))
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > _MAX_BODY:
            return _wsgi_answer(start_response, 413, _json({"error": "body too large"}))
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        status, answer, calls = self.accept(body, headers)
        if calls:
            pool = self._worker_pool()
            for handler, event in calls:
                pool.submit(_run_logged, handler, event)
        return _wsgi_answer(start_response, status, answer)

    def _worker_pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="aurous-hook")
            return self._pool


class _AsgiApp:
    """An ASGI 3 app object: servers that guess the interface recognise it as one."""

    __slots__ = ("_receiver",)

    def __init__(self, receiver: Receiver) -> None:
        self._receiver = receiver

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self._receiver._asgi(scope, receive, send)


def _run_blocking(handler: Handler, event: Event) -> None:
    result = handler(event)
    if inspect.isawaitable(result):
        asyncio.run(_awaited(result))


def _run_logged(handler: Handler, event: Event) -> None:
    try:
        _run_blocking(handler, event)
    except Exception:
        logger.exception("aurous: a webhook handler failed for %s", event.id)


async def _logged(handler: Handler, event: Event) -> None:
    try:
        result = handler(event)
        if inspect.isawaitable(result):
            await result
    except Exception:
        logger.exception("aurous: a webhook handler failed for %s", event.id)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def _awaited(awaitable: Awaitable[None]) -> None:
    await awaitable


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _asgi_body(receive: Any) -> bytes | None:
    """The request body, or None when it is larger than a delivery can be."""
    body = bytearray()
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > _MAX_BODY:
            return None
    return bytes(body)


async def _asgi_answer(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


_REASONS = {200: "OK", 400: "Bad Request", 405: "Method Not Allowed", 413: "Content Too Large"}


def _wsgi_answer(start_response: Any, status: int, body: bytes) -> list[bytes]:
    start_response(
        f"{status} {_REASONS.get(status, '')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]
