"""Usage buckets (``page_token`` paging) and usage events (``cursor`` paging): spec/openapi.yaml,
operations usage_list and usage_list_events."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .._clock import format_timestamp, parse_timestamp
from .._context import RequestContext
from .._errors import bad_request, invalid_format, out_of_range
from .._http import EmuResponse, canonical_json
from .._paging import b64_json_decode, b64_json_encode, query_int, query_timestamp
from .._router import Router
from .._state import Generation

router = Router()

WIDTHS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400, "7d": 604800}
GROUP_DIMENSIONS = ("status", "api_key_id", "user_id", "type", "model")
USAGE_STATUSES = ("completed", "failed", "cancelled", "processing", "pending")
INFERENCE_TYPES = ("t2i", "i2i", "t2v", "i2v")
EVENT_TYPES = ("image", "video", "chat", "embedding")
# Parameters that define a /v1/usage query; a page_token is bound to their page-1 values.
_USAGE_PARAMS = (
    "start_time",
    "end_time",
    "bucket_width",
    "group_by",
    "status",
    "type",
    "api_key_id",
    "user_id",
    "lora_id",
    "character_id",
    "model",
)


def usage_status(status: str) -> str:
    """Generation status → usage vocabulary (``succeeded`` → ``completed``, …)."""
    if status == "succeeded":
        return "completed"
    if status == "cancelled":
        return "cancelled"
    if status in ("pending", "queued"):
        return "pending"
    if status == "processing":
        return "processing"
    return "failed"


def _check_values(name: str, values: list[str] | None, allowed: tuple[str, ...]) -> None:
    for value in values or []:
        if value not in allowed:
            raise invalid_format(name, f"{name} values must be among {', '.join(allowed)}.")


def _query_params(ctx: RequestContext) -> dict[str, list[str]]:
    """Every recognised query parameter as a list of values (comma-separated or repeated)."""
    sent: dict[str, list[str]] = {}
    for name in _USAGE_PARAMS:
        values = ctx.query_list(name)
        if values is not None:
            sent[name] = values
    return sent


def _filters(
    params: dict[str, list[str]], *, types: tuple[str, ...]
) -> list[Callable[[Generation], bool]]:
    checks: list[Callable[[Generation], bool]] = []
    statuses = params.get("status")
    _check_values("status", statuses, USAGE_STATUSES)
    if statuses is not None:
        checks.append(lambda g: usage_status(g.status) in statuses)
    type_values = params.get("type")
    _check_values("type", type_values, types)
    if type_values is not None:
        if types is EVENT_TYPES:
            checks.append(lambda g: g.media_type in type_values)
        else:
            checks.append(lambda g: g.inference_type in type_values)
    key_ids = params.get("api_key_id")
    if key_ids is not None:
        checks.append(lambda g: g.api_key_id in key_ids)
    getters: dict[str, Callable[[Generation], list[str | None]]] = {
        "user_id": lambda g: [g.user_id],
        "lora_id": lambda g: list(g.lora_ids),
        "character_id": lambda g: [g.character_id],
    }
    for name, getter in getters.items():
        if params.get(name):
            wanted = params[name][0]
            checks.append(lambda g, w=wanted, get=getter: w in get(g))  # type: ignore[misc]
    if params.get("model"):
        # Image/video rows have model null; any model filter matches nothing.
        checks.append(lambda g: False)
    return checks


def _percentile(values: list[int], fraction: str) -> Decimal:
    """Linear interpolation between closest ranks, in exact decimals."""
    ordered = sorted(values)
    rank = Decimal(fraction) * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _metrics(rows: list[Generation]) -> dict[str, Any]:
    durations = [g.duration_ms for g in rows if g.is_terminal and g.duration_ms is not None]
    succeeded = [g for g in rows if g.status == "succeeded"]
    return {
        "request_count": len(rows),
        "successful_count": len(succeeded),
        "failed_count": sum(
            1 for g in rows if g.is_terminal and g.status not in ("succeeded", "cancelled")
        ),
        "cancelled_count": sum(1 for g in rows if g.status == "cancelled"),
        "credits_used": sum((g.cost_amount for g in succeeded), Decimal(0)),
        "duration_ms_p50": _percentile(durations, "0.5") if durations else 0,
        "duration_ms_p95": _percentile(durations, "0.95") if durations else 0,
        "image_count": sum(g.image_count for g in succeeded if g.media_type == "image"),
        "video_seconds": sum(g.video_duration for g in succeeded if g.media_type == "video"),
        "total_input_tokens": 0,
        "total_output_tokens": 0,
    }


def _group_value(gen: Generation, dimension: str) -> str | None:
    if dimension == "status":
        return usage_status(gen.status)
    if dimension == "type":
        return gen.inference_type
    if dimension == "api_key_id":
        return gen.api_key_id
    if dimension == "user_id":
        return gen.user_id
    return None  # model: null for image/video rows


def _groups(rows: list[Generation], group_by: list[str]) -> list[dict[str, Any]]:
    grouped: dict[tuple[str | None, ...], list[Generation]] = {}
    for gen in rows:
        grouped.setdefault(tuple(_group_value(gen, d) for d in group_by), []).append(gen)
    return [
        {"key": dict(zip(group_by, key, strict=True)), "metrics": _metrics(members)}
        for key, members in sorted(grouped.items(), key=lambda item: [str(v) for v in item[0]])
    ]


def _invalid_token(message: str) -> Exception:
    return bad_request("invalid_page_token", message, "page_token")


def _resume(ctx: RequestContext, token: str) -> tuple[dict[str, Any], float]:
    """Validate a page_token; returns the page-1 query and the last bucket start served."""
    try:
        decoded = b64_json_decode(token)
        version, fingerprint, last = decoded["v"], decoded["fp"], float(decoded["last"])
        expires, team_id = float(decoded["exp"]), decoded["team"]
    except (ValueError, KeyError, TypeError):
        raise _invalid_token("page_token is not valid.") from None
    stored = ctx.team.collection("usage_queries").get(fingerprint)
    if version != 1 or team_id != ctx.team.id or stored is None:
        raise _invalid_token("page_token is not valid for this team.")
    if ctx.now >= expires:
        raise _invalid_token("page_token has expired (token_expired); start again from page 1.")
    for name, values in _query_params(ctx).items():
        if stored["sent"].get(name) != values:
            raise _invalid_token(
                "page_token fingerprint mismatch — query parameters drifted between pages."
            )
    return stored, last


@router.route("GET", "/v1/usage", bucket="reads")
def usage(ctx: RequestContext) -> EmuResponse:
    """``GET /v1/usage``: time buckets, newest first, empty buckets included."""
    limit = query_int(ctx, "limit", default=24, lo=1, hi=100)
    token = ctx.query_one("page_token")
    if token is not None:
        query, last_start = _resume(ctx, token)
        start, end, width = query["start"], query["end"], query["width"]
        group_by, fingerprint, expires = query["group_by"], query["fp"], query["exp"]
        sent, inclusive = query["sent"], query["inclusive"]
    else:
        start_time = query_timestamp(ctx, "start_time", required=True)
        assert start_time is not None
        end_time = query_timestamp(ctx, "end_time", required=False)
        start, end = start_time, end_time if end_time is not None else ctx.now
        inclusive = end_time is None
        if end <= start:
            raise out_of_range("end_time", "end_time must be after start_time.")
        width_name = ctx.query_one("bucket_width") or "1d"
        if width_name not in WIDTHS:
            raise invalid_format(
                "bucket_width", f"bucket_width must be one of {', '.join(WIDTHS)}."
            )
        width = WIDTHS[width_name]
        sent = _query_params(ctx)
        group_by = sent.get("group_by", [])
        _check_values("group_by", group_by, GROUP_DIMENSIONS)
        if len(group_by) > 2:
            raise out_of_range(
                "group_by", f"group_by takes at most 2 dimensions (got {len(group_by)})."
            )
        last_start = math.inf
        fingerprint = hashlib.sha256(
            canonical_json([ctx.team.id, sent, start, end]).encode()
        ).hexdigest()[:32]
        expires = ctx.now + ctx.config.page_token_ttl
        ctx.team.collection("usage_queries")[fingerprint] = {
            "sent": sent,
            "start": start,
            "end": end,
            "width": width,
            "group_by": group_by,
            "fp": fingerprint,
            "exp": expires,
            "inclusive": inclusive,
        }
    checks = _filters(sent, types=INFERENCE_TYPES)
    total = math.ceil((end - start) / width)
    # Newest first: index total-1 is the newest bucket; resume below the last start served.
    top = total - 1 if last_start == math.inf else round((last_start - start) / width) - 1
    indices = list(range(top, max(-1, top - limit), -1))
    row_end = _row_end(end, inclusive)
    rows = [g for g in ctx.team.generations.values() if start <= g.created_at < row_end]
    rows = [g for g in rows if all(check(g) for check in checks)]
    data = []
    for index in indices:
        b_start = start + index * width
        b_end = min(b_start + width, end)
        members = [g for g in rows if b_start <= g.created_at < min(b_start + width, row_end)]
        data.append(
            {
                "object": "usage.bucket",
                "bucket_start": format_timestamp(b_start),
                "bucket_end": format_timestamp(b_end),
                "groups": _groups(members, group_by) if members else [],
            }
        )
    has_more = bool(indices) and indices[-1] > 0
    next_page = None
    if has_more:
        next_page = b64_json_encode(
            {
                "v": 1,
                "fp": fingerprint,
                "last": start + indices[-1] * width,
                "exp": expires,
                "team": ctx.team.id,
            }
        )
    return ctx.json(
        200, {"object": "list", "data": data, "has_more": has_more, "next_page": next_page}
    )


def _row_end(end: float, inclusive: bool) -> float:
    """The exclusive bound rows are compared with. A defaulted ``end_time`` ("now") also
    covers rows created at this very instant, which matters on a manual clock."""
    return math.nextafter(end, math.inf) if inclusive else end


def _event_row(gen: Generation) -> dict[str, Any]:
    return {
        "id": gen.id,
        "type": gen.media_type,
        "model": None,
        "status": usage_status(gen.status),
        "created_at": format_timestamp(gen.created_at),
        "completed_at": format_timestamp(gen.completed_at)
        if gen.completed_at is not None
        else None,
        "duration_ms": gen.duration_ms,
        "input_tokens": 0,
        "output_tokens": 0,
        "credits_charged": gen.cost_amount if gen.status == "succeeded" else Decimal(0),
        "api_key_id": gen.api_key_id,
        "user_id": gen.user_id,
        "request_id": gen.creation_request_id,
    }


@router.route("GET", "/v1/usage/events", bucket="reads")
def usage_events(ctx: RequestContext) -> EmuResponse:
    """``GET /v1/usage/events``: one row per generation, created_at desc then id asc."""
    start = query_timestamp(ctx, "start_time", required=True)
    assert start is not None
    if start < ctx.now - 730 * 86400:
        raise out_of_range("start_time", "start_time may be at most 730 days in the past.")
    end_time = query_timestamp(ctx, "end_time", required=False)
    end = end_time if end_time is not None else ctx.now
    row_end = _row_end(end, end_time is None)
    if end <= start:
        raise out_of_range("end_time", "end_time must be after start_time.")
    limit = query_int(ctx, "limit", default=100, lo=1, hi=500)
    checks = _filters(_query_params(ctx), types=EVENT_TYPES)
    cursor = ctx.query_one("cursor")
    position: tuple[int, str] | None = None
    if cursor is not None:
        try:
            decoded = b64_json_decode(cursor)
            moment = parse_timestamp(decoded["c"])
            if moment is None or decoded["v"] != 1 or not isinstance(decoded["i"], str):
                raise ValueError(cursor)
            position = (int(moment), decoded["i"])
        except (ValueError, KeyError, TypeError):
            raise bad_request("invalid_page_token", "cursor is not valid.", "cursor") from None
    rows = [
        g
        for g in ctx.team.generations.values()
        if start <= g.created_at < row_end and all(check(g) for check in checks)
    ]
    rows.sort(key=lambda g: (-int(g.created_at), g.id))
    if position is not None:
        rows = [g for g in rows if (-int(g.created_at), g.id) > (-position[0], position[1])]
    page, has_more = rows[:limit], len(rows) > limit
    next_cursor = None
    if has_more:
        last = page[-1]
        next_cursor = b64_json_encode(
            {"v": 1, "c": format_timestamp(last.created_at), "i": last.id}
        )
    return ctx.json(
        200,
        {
            "object": "list",
            "data": [_event_row(g) for g in page],
            "has_more": has_more,
            "next_cursor": next_cursor,
        },
    )
