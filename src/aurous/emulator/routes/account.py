"""Balance, pricing and team (spec/openapi.yaml, operations balance_retrieve, pricing_retrieve
and team_retrieve)."""

from __future__ import annotations

from typing import Any

from .._clock import format_timestamp
from .._context import RequestContext
from .._http import EmuResponse
from .._pricing import pricing_object
from .._router import Router

router = Router()


@router.route("GET", "/v1/balance", bucket="reads")
def balance(ctx: RequestContext) -> EmuResponse:
    """``GET /v1/balance``."""
    return ctx.json(200, ctx.team.balance())


@router.route("GET", "/v1/pricing", bucket="reads")
def pricing(ctx: RequestContext) -> EmuResponse:
    """``GET /v1/pricing`` for the resolved version."""
    return ctx.json(200, pricing_object(ctx.version))


@router.route("GET", "/v1/team", bucket="reads")
def team(ctx: RequestContext) -> EmuResponse:
    """``GET /v1/team``."""
    body: dict[str, Any] = {
        "id": ctx.team.id,
        "name": ctx.team.name,
        "credits": ctx.team.credits,
        "created_at": format_timestamp(ctx.team.created_at),
        "billing_mode": ctx.team.billing_mode,
    }
    if ctx.team.billing_email is not None:
        body["billing_email"] = ctx.team.billing_email
    return ctx.json(200, body)
