"""Image and video generations: create, estimate, list, retrieve, cancel."""

from __future__ import annotations

from typing import Any

from .._context import RequestContext
from .._core import Core
from .._errors import bad_request, not_found
from .._generations import (
    create_generation,
    finalize,
    parse_image,
    parse_video,
    render_generation,
    tick_generations,
)
from .._http import EmuResponse
from .._paging import page_by_id
from .._pricing import cost_object
from .._router import Router
from .._state import Generation

router = Router()


@router.ticker
def _advance(core: Core, now: float) -> None:
    tick_generations(core, now)


def _estimate(amount_breakdown: Any) -> dict[str, Any]:
    amount, breakdown = amount_breakdown
    return {
        "object": "estimate",
        "estimated_cost": cost_object(amount, breakdown),
        "currency": "credit",
    }


def _created(ctx: RequestContext, gen: Generation) -> EmuResponse:
    return ctx.json(201, render_generation(gen, ctx.request.base_url))


@router.route("POST", "/v1/images", bucket="images_post", idempotent=True)
def create_image(ctx: RequestContext) -> EmuResponse:
    """``POST /v1/images``."""
    return _created(ctx, create_generation(ctx, parse_image(ctx)))


@router.route("POST", "/v1/images/estimate", bucket="estimate_post")
def estimate_image(ctx: RequestContext) -> EmuResponse:
    """``POST /v1/images/estimate``: validation and lookups only."""
    return ctx.json(200, _estimate(parse_image(ctx).cost))


@router.route("POST", "/v1/videos", bucket="images_post", idempotent=True)
def create_video(ctx: RequestContext) -> EmuResponse:
    """``POST /v1/videos``."""
    return _created(ctx, create_generation(ctx, parse_video(ctx)))


@router.route("POST", "/v1/videos/estimate", bucket="estimate_post")
def estimate_video(ctx: RequestContext) -> EmuResponse:
    """``POST /v1/videos/estimate``."""
    return ctx.json(200, _estimate(parse_video(ctx).cost))


def _ordered(ctx: RequestContext) -> list[Generation]:
    return sorted(ctx.team.generations.values(), key=lambda g: (g.created_at, g.id), reverse=True)


@router.route("GET", "/v1/images", bucket="reads")
def list_generations(ctx: RequestContext) -> EmuResponse:
    """``GET /v1/images``: scheme A with ``ending_before``; images and videos."""
    page = page_by_id(ctx, _ordered(ctx), lambda g: g.id, allow_ending_before=True)
    page["data"] = [render_generation(g, ctx.request.base_url) for g in page["data"]]
    return ctx.json(200, page)


def _find(ctx: RequestContext) -> Generation:
    gen_id = ctx.params["id"]
    gen = ctx.team.generations.get(gen_id)
    if gen is None:
        raise not_found(f"No such generation: '{gen_id}'.", param="id")
    return gen


@router.route("GET", "/v1/images/{id}", bucket="reads")
def retrieve_generation(ctx: RequestContext) -> EmuResponse:
    """``GET /v1/images/{id}`` (``img_`` and ``vid_``)."""
    return ctx.json(200, render_generation(_find(ctx), ctx.request.base_url))


@router.route("POST", "/v1/images/{id}/cancel", bucket="images_post")
def cancel_generation(ctx: RequestContext) -> EmuResponse:
    """``POST /v1/images/{id}/cancel``: non-terminal → cancelled; cancelled → no-op."""
    gen = _find(ctx)
    if not gen.is_terminal:
        finalize(ctx.core, ctx.team, gen, "cancelled", None, ctx.now)
    elif gen.status != "cancelled":
        raise bad_request(
            "generation_not_cancellable",
            f"Generation {gen.id} is in terminal status '{gen.status}' and cannot be cancelled.",
            "id",
        )
    return ctx.json(200, render_generation(gen, ctx.request.base_url))
