"""Output downloads: image PNGs and the video MP4 with Range (spec/openapi.yaml, operations
images_download and videos_download)."""

from __future__ import annotations

import re

from .._clock import format_timestamp
from .._context import RequestContext
from .._errors import ApiError, not_found
from .._http import EmuResponse, dumps
from .._media import output_png, sample_video
from .._router import Router
from .._state import Generation, State, Team

router = Router()

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _token_owner(state: State, params: dict[str, str], token: str) -> Team | None:
    team_id = state.owners.get(params.get("id", ""))
    if team_id is None:
        return None
    gen = state.teams[team_id].generations.get(params["id"])
    if gen is None or gen.output_token != token:
        return None
    return state.teams[team_id]


def _downloadable(ctx: RequestContext, media_type: str) -> Generation:
    gen_id = ctx.params["id"]
    gen = ctx.team.generations.get(gen_id)
    if gen is None or gen.media_type != media_type:
        raise not_found(f"No such {media_type} generation: '{gen_id}'.", param="id")
    return gen


def _check_available(ctx: RequestContext, gen: Generation) -> None:
    if gen.status != "succeeded":
        message = (
            f"Generation {gen.id} ended with status '{gen.status}' and has no output."
            if gen.is_terminal
            else f"Generation {gen.id} has status '{gen.status}'; its output is not ready yet."
        )
        raise ApiError(422, "output_not_available", message)
    assert gen.completed_at is not None
    expires = gen.completed_at + ctx.config.output_retention
    if ctx.now >= expires:
        hours = ctx.config.output_retention / 3600
        raise ApiError(
            410,
            "output_expired",
            f"Output for {gen.id} expired at {format_timestamp(expires)}. "
            f"Outputs are retained for {hours:g} hours.",
        )


@router.route(
    "GET",
    "/v1/images/{id}/output/{n}",
    bucket="reads",
    auth="token_or_key",
    token_auth=_token_owner,
)
def image_output(ctx: RequestContext) -> EmuResponse:
    """The PNG of output ``n`` (Range is ignored on images)."""
    gen = _downloadable(ctx, "image")
    raw_n = ctx.params["n"]
    if not raw_n.isdigit() or int(raw_n) >= gen.image_count:
        raise not_found(f"Generation {gen.id} has no output {raw_n}.", param="n")
    _check_available(ctx, gen)
    seed = gen.seed if gen.seed is not None else 0
    body = output_png(
        gen.prompt or "", seed, int(raw_n), gen.width, gen.height, ctx.config.image_output_long_side
    )
    return ctx.raw(200, body, "image/png")


@router.route(
    "GET", "/v1/videos/{id}/output", bucket="reads", auth="token_or_key", token_auth=_token_owner
)
def video_output(ctx: RequestContext) -> EmuResponse:
    """The MP4, with single-range support (206 / 416)."""
    gen = _downloadable(ctx, "video")
    _check_available(ctx, gen)
    body = sample_video()
    size = len(body)
    headers = [("Accept-Ranges", "bytes")]
    header = (ctx.header("range") or "").strip()
    match = _RANGE.match(header.replace(" ", "")) if header and "," not in header else None
    if match is None:
        return ctx.raw(200, body, "video/mp4", headers)
    first, last = match.group(1), match.group(2)
    if first == "" and last == "":
        return ctx.raw(200, body, "video/mp4", headers)
    if first == "":
        suffix = int(last)
        start, end = max(0, size - suffix), size - 1
        satisfiable = suffix > 0
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
        satisfiable = start < size and (not last or int(last) >= start)
    if not satisfiable:
        error = ApiError(
            416,
            "value_out_of_range",
            f"Range '{header}' cannot be satisfied; the output has {size} bytes.",
            param="Range",
        )
        return EmuResponse(
            416,
            [
                ("Content-Type", "application/json"),
                ("Content-Range", f"bytes */{size}"),
                *headers,
            ],
            dumps(error.body(ctx.request_id)),
        )
    headers.append(("Content-Range", f"bytes {start}-{end}/{size}"))
    return ctx.raw(206, body[start : end + 1], "video/mp4", headers)
