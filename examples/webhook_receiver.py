"""A webhook endpoint for Aurous events: the SDK's receiver kit in a small Starlette app.

Run it::

    export AUROUS_API_KEY=al_live_...               # the client whose waits deliveries end
    export AUROUS_WEBHOOK_SECRET=whsec_...          # several, comma-separated, while rotating
    python examples/webhook_receiver.py --port 8000

then register its URL with ``client.webhook_endpoints.create``: ``https://<your host>/webhooks``
behind your TLS proxy. The API takes ``https://`` only; to try the receiver on this machine, serve
the emulator with ``aurous emulator serve --allow-http-webhooks`` and register
``http://127.0.0.1:8000/webhooks``.

`aurous.webhooks.Receiver` does the receiving: it verifies each delivery over the raw body
(400 for a bad signature, and nothing is processed), answers 200 for every verified event, known
type or not, drops a duplicate (delivery is at least once) or a late older state (order is not
guaranteed) without running a handler, and wakes at once the waits of the client that the
delivery ends. With a shared pacing store (``AUROUS_PACING_URL=redis://…``) that is the waits of
every worker process sharing it: this process can be the fleet's one receiver.

What is left to show:

* a handler for every event, printing one line per event (``[type] event-id data.id status``)
  after the answer was sent;
* a ``[rejected] <reason>`` line for each refused delivery (``receiver.on_rejected``): a wrong
  secret or a re-serialised body shows up here, not only in the sender's logs;
* unsigned per-request ``webhook_url`` callbacks on an unguessable path (``--callback-token``),
  handed to the client with ``client.webhooks.feed`` so that they end waits too.

Tests import :func:`create_app` and :func:`serve_in_thread`: ``app.state.events`` (an
:class:`EventLog`) holds what was dispatched, ``app.state.callbacks`` the callbacks taken,
``app.state.rejected`` why deliveries were refused, and ``app.state.receiver`` the kit's
counters (``received``, ``rejected``).
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import aurous
from aurous.webhooks import DEFAULT_TOLERANCE, SECRET_ENV_VAR, Event, Receiver


class EventLog:
    """Events taken so far, in order; thread-safe, so a test can wait for deliveries."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = threading.Condition()

    def add(self, event: Event) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Event]:
        """Block until at least ``count`` events arrived (or ``timeout`` passed); return them."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.events) >= count, timeout=timeout)
            return list(self.events)

    def __len__(self) -> int:
        with self._changed:
            return len(self.events)


def describe(event: Event) -> str:
    """One line per event: ``[type] event-id data.id status``."""
    data: Any = event.data
    fields = [_field(data, "id"), _field(data, "status")]
    return " ".join([f"[{event.type}]", event.id or "-", *(str(v) if v else "-" for v in fields)])


def _field(data: Any, name: str) -> Any:
    if isinstance(data, Mapping):
        return data.get(name)
    return getattr(data, name, None)


def create_app(
    client: aurous.Client | aurous.AsyncClient,
    *,
    secret: str | Sequence[str] | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
    clock: Callable[[], float] | None = None,
    path: str = "/webhooks",
    callback_token: str | None = None,
    echo: Callable[[str], None] | None = None,
) -> Starlette:
    """Build the receiver app for ``client`` (the caller closes it).

    ``secret`` defaults to ``AUROUS_WEBHOOK_SECRET`` (read at each delivery). ``clock`` replaces
    the current time when checking signature timestamps (for a sender running on a fake clock).
    ``callback_token`` enables ``POST /callbacks/<token>`` for unsigned per-request callbacks.
    ``echo`` receives one line per event and per refused delivery (default: print).
    """
    receiver = Receiver(client, secret=secret, tolerance=tolerance, clock=clock)
    events = EventLog()
    callbacks = EventLog()
    rejected: list[str] = []
    say = echo if echo is not None else _print

    def reject(reason: str) -> None:
        # Said here as well as to the sender: a wrong secret is found on the receiving side.
        rejected.append(reason)
        say(f"[rejected] {reason}")

    @receiver.on_rejected
    def refused(error: aurous.WebhookVerificationError) -> None:
        reject(f"webhook verification failed: {error.reason}")

    @receiver.on()  # no types: every event, including types this SDK does not know yet
    def log(event: Event) -> None:
        # Runs after the 200 was sent, once per event: duplicates never get here. Slow work
        # (downloads, emails) belongs here or in a queue, not in the answer.
        events.add(event)
        say(describe(event))

    async def receive_callback(request: Request) -> Response:
        if callback_token is None or not hmac.compare_digest(
            request.path_params["token"].encode(), callback_token.encode()
        ):
            return JSONResponse({"error": "not found"}, status_code=404)
        try:
            event = aurous.webhooks.parse_callback(await request.body())
        except ValueError as exc:
            reject(f"callback not understood: {exc}")
            return JSONResponse({"error": "not understood"}, status_code=400)
        # Unsigned: only the unguessable path vouches for it. Fed to the client like a verified
        # delivery, it ends the waits on its generation; a repeated callback carries no newer
        # state and is ignored. (``feed`` is one store operation with a shared pacing store:
        # off the event loop.)
        event = await asyncio.to_thread(client.webhooks.feed, event)
        if event.duplicate or event.stale:
            return JSONResponse(
                {"received": True, "ignored": "duplicate" if event.duplicate else "stale"}
            )
        callbacks.add(event)
        say(describe(event) + " (unsigned callback)")
        return JSONResponse({"received": True})

    # At an exact path: a Starlette Mount would answer a bare ``/webhooks`` with a redirect.
    routes = [Route(path, receiver.asgi, methods=["POST"])]
    if callback_token is not None:
        routes.append(Route("/callbacks/{token}", receive_callback, methods=["POST"]))
    app = Starlette(routes=routes)
    app.state.receiver = receiver
    app.state.events = events
    app.state.callbacks = callbacks
    app.state.rejected = rejected
    return app


def _print(line: str) -> None:
    print(line, flush=True)


@contextmanager
def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a background thread; yield its base URL.

    The socket is bound and listening before the thread starts, so the URL accepts connections
    at once (``port=0`` picks a free port).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    bound_host, bound_port = sock.getsockname()[:2]
    try:
        yield f"http://{bound_host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: serve the receiver with uvicorn."""
    parser = argparse.ArgumentParser(description="Receive and verify Aurous webhooks.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--path", default="/webhooks")
    parser.add_argument(
        "--callback-token",
        default=None,
        help="also accept unsigned webhook_url callbacks at /callbacks/<token>",
    )
    args = parser.parse_args(argv)
    if not any(part.strip() for part in os.environ.get(SECRET_ENV_VAR, "").split(",")):
        print(f"Set {SECRET_ENV_VAR} to your endpoint's secret (whsec_...).", file=sys.stderr)
        return 2
    try:
        client = aurous.Client()  # AUROUS_API_KEY, AUROUS_BASE_URL, AUROUS_PACING_URL
    except aurous.AurousError as exc:
        print(exc, file=sys.stderr)
        return 2
    with client:
        app = create_app(client, path=args.path, callback_token=args.callback_token)
        print(f"Listening on http://{args.host}:{args.port}{args.path}", flush=True)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
