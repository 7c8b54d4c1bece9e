"""Image and video LoRA catalogues: bare arrays (no paging), newest first."""

from __future__ import annotations

from .._context import RequestContext
from .._errors import not_found
from .._http import EmuResponse
from .._router import Router

router = Router()


def _list(ctx: RequestContext, kind: str) -> EmuResponse:
    return ctx.json(
        200, [entry.render() for entry in ctx.state.catalogue.visible(kind, ctx.team.id)]
    )


def _retrieve(ctx: RequestContext, kind: str) -> EmuResponse:
    ref = ctx.params["id"]
    entry = ctx.state.catalogue.find(ref)
    if entry is None or entry.kind != kind or not entry.visible_to(ctx.team.id):
        label = "LoRA" if kind == "image" else "video LoRA"
        raise not_found(f"No such {label}: '{ref}'.", param="id")
    return ctx.json(200, entry.render())


@router.route("GET", "/v1/loras", bucket="reads")
def list_loras(ctx: RequestContext) -> EmuResponse:
    """``GET /v1/loras``."""
    return _list(ctx, "image")


@router.route("GET", "/v1/loras/{id}", bucket="reads")
def retrieve_lora(ctx: RequestContext) -> EmuResponse:
    """``GET /v1/loras/{id}`` (id, slug or legacy UUID)."""
    return _retrieve(ctx, "image")


@router.route("GET", "/v1/video_loras", bucket="reads")
def list_video_loras(ctx: RequestContext) -> EmuResponse:
    """``GET /v1/video_loras``."""
    return _list(ctx, "video")


@router.route("GET", "/v1/video_loras/{id}", bucket="reads")
def retrieve_video_lora(ctx: RequestContext) -> EmuResponse:
    """``GET /v1/video_loras/{id}``."""
    return _retrieve(ctx, "video")
