"""Query helpers shared by list endpoints: cursor-by-id pages (scheme A), integer and timestamp
query parameters."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ._clock import parse_timestamp
from ._errors import bad_request, invalid_format, missing_field, out_of_range

if TYPE_CHECKING:
    from ._context import RequestContext

__all__ = [
    "b64_json_decode",
    "b64_json_encode",
    "page_by_id",
    "query_int",
    "query_timestamp",
]

T = TypeVar("T")


def query_int(ctx: RequestContext, name: str, *, default: int, lo: int, hi: int) -> int:
    """An integer query parameter: not an integer → ``invalid_format``; bounds → range error."""
    raw = ctx.query_one(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise invalid_format(name, f"{name} must be an integer (got {raw!r}).") from None
    if not lo <= value <= hi:
        raise out_of_range(name, f"{name} must be between {lo} and {hi} (got {value}).")
    return value


def query_timestamp(ctx: RequestContext, name: str, *, required: bool) -> float | None:
    """An RFC 3339 query parameter."""
    raw = ctx.query_one(name)
    if raw is None or raw == "":
        if required:
            raise missing_field(name)
        return None
    value = parse_timestamp(raw)
    if value is None:
        raise invalid_format(name, f"{name} must be an RFC 3339 timestamp (got {raw!r}).")
    return value


def page_by_id(
    ctx: RequestContext,
    rows: Sequence[T],
    id_of: Callable[[T], str],
    *,
    allow_ending_before: bool = False,
    include: Callable[[T], bool] = lambda _row: True,
    default_limit: int = 20,
) -> dict[str, Any]:
    """Scheme A over ``rows`` (already newest first). Returns the envelope with raw rows in
    ``data``; the caller renders them. Rows failing ``include`` are skipped but can serve as
    cursors (soft-deleted characters)."""
    limit = query_int(ctx, "limit", default=default_limit, lo=1, hi=100)
    after = ctx.query_one("starting_after")
    before = ctx.query_one("ending_before") if allow_ending_before else None
    if after is not None and before is not None:
        raise bad_request(
            "parameter_invalid_combination",
            "starting_after cannot be combined with ending_before.",
            "ending_before",
        )
    ids = [id_of(row) for row in rows]
    cursor_name, cursor = (
        ("ending_before", before) if before is not None else ("starting_after", after)
    )
    index = -1
    if cursor is not None:
        if cursor not in ids:
            raise invalid_format(cursor_name, f"{cursor_name} does not name a row of this list.")
        index = ids.index(cursor)
    if before is not None:
        newer = [row for row in rows[:index] if include(row)]
        data = newer[-limit:]
        has_more = len(newer) > limit
        next_cursor = id_of(data[0]) if has_more and data else None
    else:
        older = [row for row in rows[index + 1 :] if include(row)]
        data = older[:limit]
        has_more = len(older) > limit
        next_cursor = id_of(data[-1]) if has_more and data else None
    return {"object": "list", "data": data, "has_more": has_more, "next_cursor": next_cursor}


def b64_json_encode(value: Any) -> str:
    """base64url (unpadded) of compact JSON."""
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def b64_json_decode(token: str) -> Any:
    """Inverse of :func:`b64_json_encode`; raises ``ValueError`` when undecodable."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        return json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(str(exc)) from exc
