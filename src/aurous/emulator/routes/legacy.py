"""Legacy 308 redirects (absolute ``Location`` keeping the query, no auth, not rate-limited,
``Aurous-Deprecated`` and ``Sunset`` headers) and the ``/docs`` redirect."""

from __future__ import annotations

from urllib.parse import quote

from .._context import RequestContext
from .._http import EmuResponse
from .._router import Router

router = Router()

SUNSET = "Tue, 04 Aug 2026 00:00:00 GMT"


def _redirect(ctx: RequestContext, target: str, kind: str = "route") -> EmuResponse:
    if kind == "route":
        query = ctx.request.query_string
        # Path ids arrive decoded; a Location header must carry them percent-encoded.
        target = ctx.url(quote(target, safe="/")) + (f"?{query}" if query else "")
    return EmuResponse(
        308, [("Location", target), ("Aurous-Deprecated", kind), ("Sunset", SUNSET)], b""
    )


@router.route("POST", "/v1/generations", bucket=None, early=True)
def post_generations(ctx: RequestContext) -> EmuResponse:
    """``POST /v1/generations`` → ``/v1/images``."""
    return _redirect(ctx, "/v1/images")


@router.route("GET", "/v1/generations", bucket=None, early=True)
def get_generations(ctx: RequestContext) -> EmuResponse:
    """``GET /v1/generations`` → ``/v1/images``."""
    return _redirect(ctx, "/v1/images")


@router.route("GET", "/v1/generations/{id}", bucket=None, early=True)
def get_generation(ctx: RequestContext) -> EmuResponse:
    """``GET /v1/generations/{id}`` → ``/v1/images/{id}``."""
    return _redirect(ctx, f"/v1/images/{ctx.params['id']}")


@router.route("POST", "/v1/generations/{id}/cancel", bucket=None, early=True)
def cancel_generation(ctx: RequestContext) -> EmuResponse:
    """``POST /v1/generations/{id}/cancel`` → ``/v1/images/{id}/cancel``."""
    return _redirect(ctx, f"/v1/images/{ctx.params['id']}/cancel")


@router.route("POST", "/v1/video-generations", bucket=None, early=True)
def post_video_generations(ctx: RequestContext) -> EmuResponse:
    """``POST /v1/video-generations`` → ``/v1/videos``."""
    return _redirect(ctx, "/v1/videos")


@router.route("GET", "/docs", bucket=None, early=True)
def docs(ctx: RequestContext) -> EmuResponse:
    """``GET /docs`` → the documentation site."""
    return _redirect(ctx, "https://docs.aurous-labs.com/", kind="docs")
