"""Read-only account commands: ``balance``, ``pricing``, ``team``, ``loras`` and ``usage``."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any, get_args

from ...types import UsageBucket
from ...types.literals import UsageBucketWidth, UsageGroupBy
from .. import _format
from .._context import Context
from .._durations import parse_duration
from .._errors import UsageError
from .._output import Column, Table
from .._parser import bounded_int

__all__ = ["default_bucket_width", "register"]


def _duration(text: str) -> dt.timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``balance``, ``pricing``, ``team``, ``loras`` and ``usage``."""
    p = sub.add_parser("balance", parents=[common], help="show the team's credits")
    p.set_defaults(handler=run_balance)

    p = sub.add_parser("pricing", parents=[common], help="show the rate card")
    p.set_defaults(handler=run_pricing)

    p = sub.add_parser("team", parents=[common], help="show the team behind the API key")
    p.set_defaults(handler=run_team)

    p = sub.add_parser("loras", parents=[common], help="list the LoRAs (styles) you can use")
    p.add_argument("--video", action="store_true", help="list video LoRAs (models) instead")
    p.set_defaults(handler=run_loras)

    p = sub.add_parser(
        "usage",
        parents=[common],
        help="show usage over a recent period",
        description="Usage in time buckets since a relative time (30m, 12h, 7d, 2w); "
        "empty buckets are left out.",
    )
    p.add_argument(
        "--since",
        type=_duration,
        default="7d",
        metavar="DURATION",
        help="how far back to look, e.g. 30m, 12h, 7d (default: 7d)",
    )
    p.add_argument(
        "--bucket",
        choices=get_args(UsageBucketWidth),
        help="bucket width (default: chosen from --since)",
    )
    p.add_argument(
        "--group-by",
        action="append",
        choices=get_args(UsageGroupBy),
        help="split each bucket by a dimension (at most twice)",
    )
    p.add_argument(
        "--events", action="store_true", help="list one row per generation instead of buckets"
    )
    p.add_argument(
        "--limit",
        type=bounded_int(1),
        default=100,
        metavar="N",
        help="with --events: how many rows to show (default: 100)",
    )
    p.set_defaults(handler=run_usage)


def run_balance(ctx: Context, args: argparse.Namespace) -> int:
    """Credits, held credits and available credits."""
    balance = ctx.client().balance.retrieve()
    unit = balance.currency
    ctx.out.table(
        Table.pairs(
            None,
            [
                ("available", _format.amount(balance.available_credits, unit)),
                ("held", _format.amount(balance.held_credits, unit)),
                ("total", _format.amount(balance.credits, unit)),
                ("billing mode", balance.billing_mode),
            ],
        )
    )
    ctx.out.json(balance.to_dict())
    return 0


def run_pricing(ctx: Context, args: argparse.Namespace) -> int:
    """The rate card of the API version in use."""
    pricing = ctx.client().pricing.retrieve()
    table = Table(
        f"Rate card {pricing.version} (in {pricing.currency}s)",
        [Column("item"), Column("rate", numeric=True), Column("unit")],
    )
    image = pricing.image
    table.add("image", _format.number(image.base), "per image")
    table.add(
        "image, enhanced prompt",
        f"x{_format.number(image.enhance_prompt_multiplier)}",
        "multiplier",
    )
    table.add(
        "image, reference",
        _format.number(image.reference_image_per_image),
        "per reference and image",
    )
    table.add("video", _format.number(pricing.video.base_per_second), "per second")
    for resolution, factor in pricing.video.resolution_factor.items():
        table.add(f"video {resolution}", f"x{_format.number(factor)}", "multiplier")
    ctx.out.table(table)
    ctx.out.info("Negotiated rates may differ: 'aurous estimate' gives the exact price.")
    ctx.out.json(pricing.to_dict())
    return 0


def run_team(ctx: Context, args: argparse.Namespace) -> int:
    """The team's id, name, credits and billing settings."""
    team = ctx.client().team.retrieve()
    ctx.out.table(
        Table.pairs(
            None,
            [
                ("id", team.id),
                ("name", team.name),
                ("credits", _format.amount(team.credits)),
                ("billing mode", team.billing_mode),
                ("billing email", team.billing_email or "-"),
                ("created", _format.timestamp(team.created_at)),
            ],
        )
    )
    ctx.out.json(team.to_dict())
    return 0


def run_loras(ctx: Context, args: argparse.Namespace) -> int:
    """The image (or video) LoRA catalogue."""
    client = ctx.client()
    if args.video:
        video_loras = client.video_loras.list()
        table = Table(
            "Video LoRAs (use with 'aurous video --lora ID')",
            [Column("id"), Column("slug"), Column("name"), Column("defaults"), Column("public")],
        )
        for vl in video_loras:
            defaults = f"{vl.default_resolution} {vl.default_ratio} {vl.default_duration}s"
            table.add(vl.id, vl.slug or "-", vl.name, defaults, _format.yes_no(vl.is_public))
        ctx.out.table(table)
        ctx.out.json([vl.to_dict() for vl in video_loras])
        return 0
    loras = client.loras.list()
    table = Table(
        "Image LoRAs (use with 'aurous generate --lora ID')",
        [Column("id"), Column("slug"), Column("name"), Column("public"), Column("description")],
    )
    for lora in loras:
        table.add(
            lora.id,
            lora.slug or "-",
            lora.name,
            _format.yes_no(lora.is_public),
            _format.shorten(lora.description, 50),
        )
    ctx.out.table(table)
    ctx.out.json([lora.to_dict() for lora in loras])
    return 0


def default_bucket_width(span: dt.timedelta) -> UsageBucketWidth:
    """A bucket width that gives a readable number of rows for ``span``."""
    hours = span.total_seconds() / 3600
    if hours <= 3:
        return "15m"
    if hours <= 48:
        return "1h"
    if hours <= 60 * 24:
        return "1d"
    return "7d"


def _group_label(key: dict[str, Any]) -> str:
    return ", ".join(f"{name}={value}" for name, value in key.items()) or "-"


def run_usage(ctx: Context, args: argparse.Namespace) -> int:
    """Usage buckets (or usage events) since ``--since``."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    start = now - args.since
    client = ctx.client()
    if args.events:
        return _usage_events(ctx, client, start, args.limit)
    if args.group_by and len(args.group_by) > 2:
        raise UsageError("--group-by can be given at most twice")
    width: UsageBucketWidth = args.bucket or default_bucket_width(args.since)
    buckets: list[UsageBucket] = list(
        client.usage.list(start_time=start, bucket_width=width, group_by=args.group_by, limit=100)
    )
    grouped = bool(args.group_by)
    columns = [Column("bucket start")]
    if grouped:
        columns.append(Column("group"))
    columns += [
        Column(name, numeric=True)
        for name in ("requests", "succeeded", "failed", "cancelled", "credits", "images", "video s")
    ]
    table = Table(f"Usage since {_format.timestamp(start)} ({width} buckets)", columns)
    totals = [0.0] * 7
    for bucket in buckets:
        for group in bucket.groups:
            m = group.metrics
            values = [
                m.request_count,
                m.successful_count,
                m.failed_count,
                m.cancelled_count,
                m.credits_used,
                m.image_count,
                m.video_seconds,
            ]
            totals = [t + float(v) for t, v in zip(totals, values, strict=True)]
            label = [_group_label(group.key)] if grouped else []
            table.add(
                _format.timestamp(bucket.bucket_start), *label, *(_format.number(v) for v in values)
            )
    if table.rows:
        table.add("total", *([""] if grouped else []), *(_format.number(t) for t in totals))
        ctx.out.table(table)
    else:
        ctx.out.info(f"No usage since {_format.timestamp(start)}.")
    ctx.out.json([bucket.to_dict() for bucket in buckets])
    return 0


def _usage_events(ctx: Context, client: Any, start: dt.datetime, limit: int) -> int:
    events = []
    for event in client.usage.list_events(start_time=start, limit=min(limit, 500)):
        events.append(event)
        if len(events) >= limit:
            break
    table = Table(
        f"Usage events since {_format.timestamp(start)}",
        [
            Column("id"),
            Column("type"),
            Column("status"),
            Column("created"),
            Column("credits", numeric=True),
            Column("request id"),
        ],
    )
    for event in events:
        table.add(
            event.id,
            event.type,
            event.status,
            _format.timestamp(event.created_at),
            _format.number(event.credits_charged),
            event.request_id,
        )
    if events:
        ctx.out.table(table)
    else:
        ctx.out.info(f"No usage since {_format.timestamp(start)}.")
    ctx.out.json([event.to_dict() for event in events])
    return 0
