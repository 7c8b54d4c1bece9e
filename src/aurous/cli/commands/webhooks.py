"""``aurous webhooks``: manage endpoints, verify a delivery, run a local receiver."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, get_args

from ... import webhooks
from ..._constants import ENV_WEBHOOK_SECRET
from ..._errors import WebhookVerificationError
from ...types.literals import EventType
from .. import _format
from .._context import Context
from .._errors import EXIT_FAILURE
from .._output import Column, Table
from .._parser import ArgumentParser, bounded_int
from ._events import SIGNATURE_ENV, describe_event, secrets_from
from .listen import register as register_listen

__all__ = ["register"]

EVENT_TYPES = get_args(EventType)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``webhooks`` and its sub-commands."""
    group = sub.add_parser(
        "webhooks",
        parents=[common],
        help="manage webhook endpoints, verify deliveries, receive them locally",
        description="Manage registered webhook endpoints, verify a signed delivery, or run a "
        "local receiver that verifies and prints events.",
    )
    actions = group.add_subparsers(
        title="webhook commands", metavar="ACTION", parser_class=ArgumentParser
    )
    group.set_defaults(handler=lambda ctx, args: _missing_action(group))

    p = actions.add_parser("create", parents=[common], help="register an endpoint URL")
    p.add_argument("url", help="https:// URL that will receive the events")
    p.add_argument(
        "--event",
        "-e",
        action="append",
        dest="events",
        choices=(*EVENT_TYPES, "*"),
        metavar="TYPE",
        help="event type to subscribe to; repeatable (default: all, '*')",
    )
    p.add_argument("--description", metavar="TEXT", help="a label for the endpoint")
    p.set_defaults(handler=run_create)

    p = actions.add_parser("list", parents=[common], help="list the registered endpoints")
    p.add_argument(
        "--limit",
        type=bounded_int(1),
        default=100,
        metavar="N",
        help="how many to show (default: 100)",
    )
    p.set_defaults(handler=run_list)

    p = actions.add_parser("delete", parents=[common], help="delete an endpoint")
    p.add_argument("id", help="endpoint id (we_…)")
    p.set_defaults(handler=run_delete)

    p = actions.add_parser(
        "rotate",
        parents=[common],
        help="replace an endpoint's signing secret and print the new one",
    )
    p.add_argument("id", help="endpoint id (we_…)")
    p.set_defaults(handler=run_rotate)

    p = actions.add_parser("test", parents=[common], help="send a signed test delivery")
    p.add_argument("id", help="endpoint id (we_…)")
    p.add_argument(
        "--event",
        "-e",
        default="image.completed",
        choices=EVENT_TYPES,
        metavar="TYPE",
        help="event type to send (default: image.completed)",
    )
    p.set_defaults(handler=run_test)

    p = actions.add_parser(
        "verify",
        parents=[common],
        help="verify a delivery read from stdin",
        description="Verify the signature of a webhook body read from stdin (the raw bytes, "
        "exactly as received). Exit 0 when valid, 1 when not (the reason is printed).",
    )
    p.add_argument(
        "--secret",
        "-s",
        action="append",
        metavar="SECRET",
        help=f"endpoint secret (whsec_…); repeat during a rotation "
        f"(default: ${ENV_WEBHOOK_SECRET})",
    )
    p.add_argument(
        "--header",
        metavar="VALUE",
        help=f"the Aurous-Webhook-Signature header value (default: ${SIGNATURE_ENV})",
    )
    p.add_argument(
        "--tolerance",
        type=bounded_int(0),
        default=webhooks.DEFAULT_TOLERANCE,
        metavar="SECONDS",
        help="accepted age of the signature timestamp (default: 300)",
    )
    p.set_defaults(handler=run_verify)

    register_listen(actions, common)


def _missing_action(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _endpoint_rows(endpoint: Any) -> list[tuple[str, Any]]:
    return [
        ("id", endpoint.id),
        ("url", endpoint.url),
        ("events", ", ".join(endpoint.events)),
        ("active", _format.yes_no(endpoint.is_active)),
        ("secret", endpoint.secret or endpoint.secret_preview),
        ("description", endpoint.description or "-"),
        ("created", _format.timestamp(endpoint.created_at)),
    ]


def run_create(ctx: Context, args: argparse.Namespace) -> int:
    """Register an endpoint and print its secret (shown only this once)."""
    endpoint = ctx.client().webhook_endpoints.create(
        url=args.url, events=args.events or ["*"], description=args.description
    )
    ctx.out.table(Table.pairs(None, _endpoint_rows(endpoint)))
    ctx.out.info("Store the secret now: it is shown only on create and rotate.")
    ctx.out.json(endpoint.to_dict())
    return 0


def run_list(ctx: Context, args: argparse.Namespace) -> int:
    """List the endpoints."""
    endpoints = []
    for endpoint in ctx.client().webhook_endpoints.list(limit=min(args.limit, 100)):
        endpoints.append(endpoint)
        if len(endpoints) >= args.limit:
            break
    table = Table(
        None,
        [
            Column("id"),
            Column("url"),
            Column("active"),
            Column("failures", numeric=True),
            Column("events"),
            Column("secret"),
        ],
    )
    for ep in endpoints:
        events = ", ".join(ep.events) if len(ep.events) <= 3 else f"{len(ep.events)} types"
        table.add(
            ep.id,
            ep.url,
            _format.yes_no(ep.is_active),
            ep.consecutive_failures,
            events,
            ep.secret_preview,
        )
    if endpoints:
        ctx.out.table(table)
    else:
        ctx.out.info("No webhook endpoints.")
    ctx.out.json([ep.to_dict() for ep in endpoints])
    return 0


def run_delete(ctx: Context, args: argparse.Namespace) -> int:
    """Delete an endpoint; exit 1 when nothing matched."""
    result = ctx.client().webhook_endpoints.delete(args.id)
    ctx.out.json(result.to_dict())
    if not result.deleted:
        ctx.out.error(f"Error: no webhook endpoint {args.id}")
        return EXIT_FAILURE
    ctx.out.result(f"Deleted {args.id}")
    return 0


def run_rotate(ctx: Context, args: argparse.Namespace) -> int:
    """Rotate the secret and print the new one."""
    endpoint = ctx.client().webhook_endpoints.rotate_secret(args.id)
    ctx.out.result(endpoint.secret or "")
    ctx.out.info(
        f"New secret of {endpoint.id} (the old one no longer signs); store it now: "
        "it is not shown again."
    )
    ctx.out.json(endpoint.to_dict())
    return 0


def run_test(ctx: Context, args: argparse.Namespace) -> int:
    """Queue a synthetic, signed delivery."""
    fire = ctx.client().webhook_endpoints.test(args.id, event_type=args.event)
    ctx.out.result(f"Queued test event {fire.event_id} ({args.event}) to {fire.endpoint_id}")
    ctx.out.json(fire.to_dict())
    return 0


def run_verify(ctx: Context, args: argparse.Namespace) -> int:
    """Verify the body on stdin against the signature header and the secret(s)."""
    secrets = secrets_from(args.secret, required=True)
    header = args.header if args.header is not None else os.environ.get(SIGNATURE_ENV)
    body = sys.stdin.buffer.read()
    if header is None:
        # Reported like any other failed check: the delivery cannot be trusted.
        header = ""
    try:
        event = webhooks.verify(body, header, secrets or [], tolerance=args.tolerance)
    except WebhookVerificationError as exc:
        ctx.out.error(f"Invalid: {exc.reason}")
        ctx.out.json({"valid": False, "reason": exc.reason})
        return EXIT_FAILURE
    ctx.out.result(f"Valid: {describe_event(event)}")
    ctx.out.json({"valid": True, "event": event.to_dict()})
    return 0
