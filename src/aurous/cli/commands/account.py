"""Read-only account commands: ``balance``, ``pricing``, ``team``, ``loras`` and ``usage``."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any, get_args

from ...types import UsageBucket, UsageEvent, UsageMetrics
from ...types.literals import UsageBucketWidth, UsageGroupBy
from .. import _format
from .._chart import Chart
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
        help="chart the credits used over a recent period",
        description="Credits used per time bucket since a relative time (30m, 12h, 7d, 2w), "
        "drawn as a bar chart (split by --group-by), then the totals; empty buckets are left "
        "out. --json prints the buckets as the API returns them, --csv one row per bucket and "
        "group.",
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
        "--csv",
        action="store_true",
        help="print the raw rows as CSV (one per bucket and group, or per event with --events)",
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


_METRICS = (
    ("requests", "request_count"),
    ("succeeded", "successful_count"),
    ("failed", "failed_count"),
    ("cancelled", "cancelled_count"),
    ("credits", "credits_used"),
    ("images", "image_count"),
    ("video s", "video_seconds"),
)


def run_usage(ctx: Context, args: argparse.Namespace) -> int:
    """Credits per bucket as a bar chart, then the totals (or usage events) since ``--since``."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    start = now - args.since
    if args.csv and args.json:
        raise UsageError("--csv and --json each print the raw rows: choose one")
    client = ctx.client()
    if args.events:
        return _usage_events(ctx, client, start, args.limit, args.csv)
    if args.group_by and len(args.group_by) > 2:
        raise UsageError("--group-by can be given at most twice")
    width: UsageBucketWidth = args.bucket or default_bucket_width(args.since)
    buckets: list[UsageBucket] = list(
        client.usage.list(start_time=start, bucket_width=width, group_by=args.group_by, limit=100)
    )
    if args.csv:
        _usage_csv(ctx, buckets, args.group_by or [])
        return 0
    ctx.out.json([bucket.to_dict() for bucket in buckets])
    ordered = sorted(buckets, key=lambda bucket: bucket.bucket_start)  # oldest bar on top
    rows = [(bucket, group) for bucket in ordered for group in bucket.groups]
    if not rows:
        ctx.out.info(f"No usage since {_format.timestamp(start)}.")
        return 0
    grouped = bool(args.group_by)
    chart = Chart(f"Credits used since {_format.timestamp(start)} ({width} buckets)", "credits")
    for bucket, group in rows:
        label = _group_label(group.key) if grouped else ""
        chart.add(_format.timestamp(bucket.bucket_start), label, float(group.metrics.credits_used))
    ctx.out.chart(chart)
    table = Table(
        "Totals",
        [Column("group" if grouped else ""), *(Column(n, numeric=True) for n, _ in _METRICS)],
    )
    by_group: dict[str, list[float]] = {}
    for _, group in rows:
        values = [float(getattr(group.metrics, field)) for _, field in _METRICS]
        label = _group_label(group.key) if grouped else "total"
        current = by_group.setdefault(label, [0.0] * len(_METRICS))
        by_group[label] = [a + b for a, b in zip(current, values, strict=True)]
    if grouped:
        for label, values in by_group.items():
            table.add(label, *(_format.number(v) for v in values))
        overall = [sum(column) for column in zip(*by_group.values(), strict=True)]
    else:
        overall = by_group["total"]
    table.add("total", *(_format.number(v) for v in overall))
    ctx.out.table(table)
    return 0


def _usage_csv(ctx: Context, buckets: list[UsageBucket], group_by: list[str]) -> None:
    """One CSV row per bucket and group: its start and end, its group values, its metrics."""
    fields = list(UsageMetrics.model_fields)
    rows = [
        [
            bucket.bucket_start.isoformat(),
            bucket.bucket_end.isoformat(),
            *(group.key.get(name) for name in group_by),
            *(getattr(group.metrics, field) for field in fields),
        ]
        for bucket in buckets
        for group in bucket.groups
    ]
    ctx.out.csv(["bucket_start", "bucket_end", *group_by, *fields], rows)


def _usage_events(
    ctx: Context, client: Any, start: dt.datetime, limit: int, as_csv: bool = False
) -> int:
    events = []
    for event in client.usage.list_events(start_time=start, limit=min(limit, 500)):
        events.append(event)
        if len(events) >= limit:
            break
    if as_csv:
        fields = list(UsageEvent.model_fields)
        rows = [[_csv_cell(getattr(event, field)) for field in fields] for event in events]
        ctx.out.csv(fields, rows)
        return 0
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


def _csv_cell(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value
