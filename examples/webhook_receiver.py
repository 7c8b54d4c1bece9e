"""A webhook receiver for Aurous events: a small Starlette app that verifies every delivery.

Run it::

    export AUROUS_WEBHOOK_SECRET=whsec_...          # several, comma-separated, while rotating
    python examples/webhook_receiver.py --port 8000

then register its URL with ``client.webhook_endpoints.create``: ``https://<your host>/webhooks``
behind your TLS proxy. The API takes ``https://`` only; to try the receiver on this machine, serve
the emulator with ``aurous emulator serve --allow-http-webhooks`` and register
``http://127.0.0.1:8000/webhooks``.

What it shows:

* verification over the **raw** body (``await request.body()``), never re-serialised JSON;
* 400 for anything that fails verification (and a ``[rejected]`` line saying why: a wrong
  secret or a re-serialised body shows up here, not only in the sender's logs), 200 for every
  verified event, known type or not;
* de-duplication by event ``id`` (delivery is at least once, and order is not guaranteed);
* unsigned per-request ``webhook_url`` callbacks on an unguessable path (``--callback-token``).

Tests import :func:`create_app` and :func:`serve_in_thread`; ``app.state.events`` holds what
was received and ``app.state.rejected`` why deliveries were refused.
"""

from __future__ import annotations

import argparse
import hmac
import os
import socket
import sys
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

import aurous.webhooks
from aurous.webhooks import DEFAULT_TOLERANCE, SECRET_ENV_VAR, Event


class EventLog:
    """Events received so far, each kept once; thread-safe, so a test can wait for deliveries."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._seen: set[Hashable] = set()
        self._changed = threading.Condition()

    def add(self, key: Hashable, event: Event) -> bool:
        """Record ``event`` unless ``key`` was seen before; return whether it was new."""
        with self._changed:
            if key in self._seen:
                return False
            self._seen.add(key)
            self.events.append(event)
            self._changed.notify_all()
            return True

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Event]:
        """Block until at least ``count`` events arrived (or ``timeout`` passed); return them."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.events) >= count, timeout=timeout)
            return list(self.events)


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
    secret: str | Sequence[str] | None = None,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    clock: Callable[[], float] | None = None,
    path: str = "/webhooks",
    callback_token: str | None = None,
    echo: Callable[[str], None] | None = None,
) -> Starlette:
    """Build the receiver.

    ``secret`` defaults to ``AUROUS_WEBHOOK_SECRET`` (read at each delivery). ``clock`` replaces
    the current time when checking signature timestamps (for a sender running on a fake clock).
    ``callback_token`` enables ``POST /callbacks/<token>`` for unsigned per-request callbacks.
    ``echo`` receives one line per new event and per refused delivery (default: print).
    """
    events = EventLog()
    callbacks = EventLog()
    rejected: list[str] = []
    say = echo if echo is not None else _print

    def reject(reason: str) -> Response:
        # Said here as well as to the sender: a wrong secret is found on the receiving side.
        rejected.append(reason)
        say(f"[rejected] {reason}")
        return PlainTextResponse(reason, status_code=400)

    async def receive(request: Request) -> Response:
        body = await request.body()  # the raw bytes: the signature covers exactly these
        try:
            event = aurous.webhooks.unwrap(
                body,
                request.headers,
                secret=secret,
                tolerance=tolerance,
                now=clock() if clock is not None else None,
            )
        except aurous.WebhookVerificationError as exc:
            return reject(f"webhook verification failed: {exc}")
        is_new = events.add(event.id or body, event)
        if is_new:
            say(describe(event))
        # Acknowledge duplicates too, or the sender keeps retrying them.
        return JSONResponse({"received": True, "duplicate": not is_new})

    async def receive_callback(request: Request) -> Response:
        if callback_token is None or not hmac.compare_digest(
            request.path_params["token"].encode(), callback_token.encode()
        ):
            return PlainTextResponse("not found", status_code=404)
        try:
            event = aurous.webhooks.parse_callback(await request.body())
        except ValueError as exc:
            return reject(f"callback not understood: {exc}")
        # Unsigned and without an event id: treat it as a hint, re-fetch before acting on it.
        is_new = callbacks.add((event.type, _field(event.data, "id")), event)
        if is_new:
            say(describe(event) + " (unsigned callback)")
        return JSONResponse({"received": True, "duplicate": not is_new})

    routes = [Route(path, receive, methods=["POST"])]
    if callback_token is not None:
        routes.append(Route("/callbacks/{token}", receive_callback, methods=["POST"]))
    app = Starlette(routes=routes)
    app.state.events = events.events
    app.state.event_log = events
    app.state.callbacks = callbacks.events
    app.state.callback_log = callbacks
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
        print(
            f"Set {SECRET_ENV_VAR} to your endpoint's secret (whsec_...).",
            file=sys.stderr,
        )
        return 2
    app = create_app(path=args.path, callback_token=args.callback_token)
    print(f"Listening on http://{args.host}:{args.port}{args.path}", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
