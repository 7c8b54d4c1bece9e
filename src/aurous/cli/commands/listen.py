"""``aurous webhooks listen``: a local receiver that verifies, prints and forwards deliveries.

It runs on the standard library's threading HTTP server, so it needs no extra package. Each
POST is verified with the secret (when one is given), printed as one line (or one JSON line with
``--json``) and, with ``--forward-to``, re-sent with the *raw* body and the original signature
header to your application, whose status code is then returned to the sender.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.server
import json
from typing import Any

import httpx

from ... import webhooks
from ..._errors import WebhookVerificationError
from .._context import Context
from .._output import Output
from .._parser import bounded_int
from ._events import describe_event, secrets_from
from ._shared import Interrupted

__all__ = ["Receiver", "register"]

_FORWARD_TIMEOUT = 30.0


def register(actions: Any, common: argparse.ArgumentParser) -> None:
    """Add ``webhooks listen``."""
    p = actions.add_parser(
        "listen",
        parents=[common],
        help="run a local receiver that verifies and prints events",
        description="Listen for webhook deliveries on a local port, verify their signature "
        "(with --secret or $AUROUS_WEBHOOK_SECRET), print each event and optionally forward "
        "it, byte for byte, to your application with --forward-to.",
    )
    p.add_argument(
        "--port",
        "-p",
        type=bounded_int(0, 65535),
        default=8765,
        help="port to listen on (default: 8765; 0 picks a free one)",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    p.add_argument(
        "--secret",
        "-s",
        action="append",
        metavar="SECRET",
        help="endpoint secret(s) to verify with; without one, events are printed unverified",
    )
    p.add_argument(
        "--forward-to",
        metavar="URL",
        help="re-send every verified delivery (raw body + signature header) here",
    )
    p.add_argument(
        "--tolerance",
        type=bounded_int(0),
        default=webhooks.DEFAULT_TOLERANCE,
        metavar="SECONDS",
        help="accepted signature age (default: 300)",
    )
    p.set_defaults(handler=run_listen)


class Receiver:
    """What happens to one delivery: verify, describe, forward. Independent of the server."""

    def __init__(
        self,
        out: Output,
        *,
        secrets: list[str] | None,
        tolerance: int,
        forward_to: str | None,
    ) -> None:
        self.out = out
        self.secrets = secrets
        self.tolerance = tolerance
        self.forward_to = forward_to
        self._http = httpx.Client(timeout=_FORWARD_TIMEOUT) if forward_to else None

    def close(self) -> None:
        """Close the forwarding connections."""
        if self._http is not None:
            self._http.close()

    def handle(self, body: bytes, signature: str | None, content_type: str | None) -> int:
        """Process one delivery and return the HTTP status to answer with."""
        stamp = dt.datetime.now().strftime("%H:%M:%S")
        try:
            if self.secrets:
                event = webhooks.verify(
                    body, signature or "", self.secrets, tolerance=self.tolerance
                )
                verified = True
            else:
                event = webhooks.parse_callback(body)
                verified = False
        except (WebhookVerificationError, ValueError) as exc:
            reason = exc.reason if isinstance(exc, WebhookVerificationError) else str(exc)
            self.out.info(f"[{stamp}] rejected: {reason}")
            self.out.json_line({"verified": False, "reason": reason})
            return 400
        status = 200
        forwarded: int | str | None = None
        if self._http is not None and self.forward_to is not None:
            forwarded = _forward(self._http, self.forward_to, body, signature, content_type)
            status = forwarded if isinstance(forwarded, int) else 502
        mark = "verified" if verified else "UNVERIFIED (no secret)"
        line = f"[{stamp}] {mark} {describe_event(event)}"
        if forwarded is not None:
            line += f" -> forwarded: {forwarded}"
        self.out.info(line)
        self.out.json_line(
            {"verified": verified, "event": event.to_dict(), "forwarded_status": forwarded}
        )
        return status


def _forward(
    http: httpx.Client, url: str, body: bytes, signature: str | None, content_type: str | None
) -> int | str:
    """Re-send the raw body and signature; the status code, or why it could not be sent."""
    headers = {"Content-Type": content_type or "application/json"}
    if signature is not None:
        headers[webhooks.SIGNATURE_HEADER] = signature
    try:
        response = http.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return f"failed ({type(exc).__name__}: {exc})"
    return response.status_code


def _handler_class(receiver: Receiver, verbose: bool) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "aurous-webhooks-listen"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            status = receiver.handle(
                body,
                self.headers.get(webhooks.SIGNATURE_HEADER),
                self.headers.get("Content-Type"),
            )
            payload = json.dumps({"received": status < 300}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            payload = b"aurous webhooks listen: POST webhook deliveries to this address\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            if verbose:
                super().log_message(format, *args)

    return Handler


def run_listen(ctx: Context, args: argparse.Namespace) -> int:
    """Serve until Ctrl-C."""
    secrets = secrets_from(args.secret, required=False)
    receiver = Receiver(
        ctx.out, secrets=secrets, tolerance=args.tolerance, forward_to=args.forward_to
    )
    server = http.server.ThreadingHTTPServer(
        (args.host, args.port), _handler_class(receiver, args.verbose)
    )
    server.daemon_threads = True
    host, port = server.server_address[:2]
    details = "verifying signatures" if secrets else "NOT verifying (no --secret)"
    if args.forward_to:
        details += f", forwarding to {args.forward_to}"
    ctx.out.warn(f"Listening on http://{host!s}:{port}/ ({details}); Ctrl-C to stop")
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        raise Interrupted("Stopped listening.") from None
    finally:
        server.server_close()
        receiver.close()
    return 0
