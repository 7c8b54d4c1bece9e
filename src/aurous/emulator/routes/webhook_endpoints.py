"""Webhook endpoints: create, list, retrieve, update, delete, rotate_secret and test
(spec/openapi.yaml, ``webhook_endpoints_*`` operations). Installs the delivery engine as
``core.hooks``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from .._characters import SYNTH_POSES, Character, Ref, render_character
from .._context import RequestContext
from .._core import Core
from .._errors import bad_request, invalid_format, missing_field, not_found, out_of_range
from .._generations import render_generation
from .._http import API_VERSION, EmuResponse
from .._paging import page_by_id
from .._pricing import image_cost, video_cost
from .._router import Router
from .._state import Generation
from .._webhooks import (
    ENDPOINTS,
    EVENT_TYPES,
    SECRET_PREFIX,
    WebhookEndpoint,
    WebhookEngine,
    engine_of,
    is_loopback_host,
    render_endpoint,
)

router = Router()

PATCHABLE = ("url", "events", "description", "metadata", "is_active")
MAX_URL = 2048
SYNTHETIC_PROMPT = "Synthetic test event — not a real generation"


@router.setup
def _install(core: Core) -> None:
    engine = WebhookEngine(core, core.config.webhooks)
    core.hooks = engine
    core.extensions["webhooks"] = engine


@router.ticker
def _deliver(core: Core, now: float) -> None:
    engine_of(core).tick(now)


# ----------------------------------------------------------------------------- validation
def _read_url(ctx: RequestContext, value: Any) -> str:
    """``https://`` only; ``http://`` too for loopback hosts when the setting allows it."""
    if value is None:
        raise missing_field("url")
    if not isinstance(value, str):
        raise invalid_format("url", "url must be a string.")
    if len(value) > MAX_URL:
        raise out_of_range("url", f"url must be at most {MAX_URL} characters (got {len(value)}).")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        _ = parts.port  # an out-of-range or non-numeric port raises here
    except ValueError:
        host = None
    if host and parts.scheme == "https":
        return value
    loopback_ok = ctx.config.webhooks.allow_http_loopback
    if host and parts.scheme == "http" and loopback_ok and is_loopback_host(host):
        return value
    if loopback_ok:
        hint = " (the emulator also accepts http:// on loopback hosts)"
    elif host and parts.scheme == "http" and is_loopback_host(host):
        # What someone testing a local receiver needs to know; the real API has no such switch.
        hint = (
            " (to register an http:// receiver on this machine, start the emulator with "
            "allow_http_webhooks=True or --allow-http-webhooks)"
        )
    else:
        hint = ""
    raise invalid_format("url", f"url must be an absolute https:// URL{hint}.")


def _read_events(value: Any) -> list[str]:
    """Known types; ``"*"`` anywhere expands to all of them; duplicates removed."""
    if value is None:
        raise missing_field("events")
    if not isinstance(value, list):
        raise invalid_format("events", "events must be an array of event types.")
    if not value:
        raise out_of_range("events", "events must contain at least one event type.")
    for index, item in enumerate(value):
        if not isinstance(item, str) or (item != "*" and item not in EVENT_TYPES):
            raise invalid_format(
                f"events[{index}]",
                f'Unknown event type {item!r}. Known types: {", ".join(EVENT_TYPES)} (or "*").',
            )
    if "*" in value:
        return list(EVENT_TYPES)
    return list(dict.fromkeys(value))


def _read_description(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise invalid_format("description", "description must be a string or null.")
    return value


def _read_metadata(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_format("metadata", "metadata must be an object.")
    if len(value) > 50:
        raise out_of_range("metadata", f"metadata may have at most 50 keys (got {len(value)}).")
    for key, item in value.items():
        if isinstance(item, str) and len(item) > 500:
            raise out_of_range(
                f"metadata.{key}", f"metadata values may be at most 500 characters (key {key!r})."
            )
    return dict(value)


def _new_secret(ctx: RequestContext) -> str:
    return SECRET_PREFIX + ctx.core.ids.token(32)


def _endpoints(ctx: RequestContext) -> dict[str, WebhookEndpoint]:
    return ctx.team.collection(ENDPOINTS)


def _find(ctx: RequestContext) -> WebhookEndpoint:
    endpoint = _endpoints(ctx).get(ctx.params["id"])
    if endpoint is None:
        raise not_found(f"No such webhook endpoint: '{ctx.params['id']}'.", param="id")
    return endpoint


# ----------------------------------------------------------------------------- routes
@router.route("POST", "/v1/webhook_endpoints", bucket="webhook_endpoints_post")
def create_endpoint(ctx: RequestContext) -> EmuResponse:
    """``POST /v1/webhook_endpoints``: 201 with the plaintext secret (shown once)."""
    body = ctx.json_body()
    url = _read_url(ctx, body.get("url"))
    events = _read_events(body.get("events"))
    description = _read_description(body.get("description"))
    metadata = _read_metadata(body["metadata"]) if body.get("metadata") is not None else {}
    endpoint = WebhookEndpoint(
        id=ctx.mint_id("we_"),
        team_id=ctx.team.id,
        url=url,
        events=events,
        secret=_new_secret(ctx),
        created_at=ctx.now,
        updated_at=ctx.now,
        metadata=metadata,
        description=description,
    )
    _endpoints(ctx)[endpoint.id] = endpoint
    ctx.state.owners[endpoint.id] = ctx.team.id
    return ctx.json(201, render_endpoint(endpoint, reveal=True))


@router.route("GET", "/v1/webhook_endpoints", bucket="reads")
def list_endpoints(ctx: RequestContext) -> EmuResponse:
    """``GET /v1/webhook_endpoints``: scheme A, newest first, ``secret: null``."""
    rows = sorted(_endpoints(ctx).values(), key=lambda e: (e.created_at, e.id), reverse=True)
    page = page_by_id(ctx, rows, lambda e: e.id)
    page["data"] = [render_endpoint(endpoint) for endpoint in page["data"]]
    return ctx.json(200, page)


@router.route("GET", "/v1/webhook_endpoints/{id}", bucket="reads")
def retrieve_endpoint(ctx: RequestContext) -> EmuResponse:
    """``GET /v1/webhook_endpoints/{id}``."""
    return ctx.json(200, render_endpoint(_find(ctx)))


def _read_changes(ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
    """The endpoint fields a PATCH body sets, validated (the body has only patchable keys)."""
    changes: dict[str, Any] = {}
    if "url" in body:
        if body["url"] is None:
            raise invalid_format("url", "url must be a string.")
        changes["url"] = _read_url(ctx, body["url"])
    if "events" in body:
        if body["events"] is None:
            raise invalid_format("events", "events must be an array of event types.")
        changes["events"] = _read_events(body["events"])
    if "description" in body:
        changes["description"] = _read_description(body["description"])
    if "metadata" in body:
        changes["metadata"] = _read_metadata(body["metadata"])
    if "is_active" in body:
        if not isinstance(body["is_active"], bool):
            raise invalid_format("is_active", "is_active must be a boolean.")
        changes["is_active"] = body["is_active"]
        if body["is_active"]:
            changes["consecutive_failures"] = 0  # re-enabling resets the counter
    return changes


@router.route("PATCH", "/v1/webhook_endpoints/{id}", bucket="webhook_endpoints_post")
def update_endpoint(ctx: RequestContext) -> EmuResponse:
    """``PATCH /v1/webhook_endpoints/{id}``: strict whitelist; lists and metadata replaced."""
    body = ctx.json_body()
    unknown = [key for key in body if key not in PATCHABLE]
    if unknown:
        raise bad_request(
            "invalid_request",
            f"Unknown or read-only field(s): {', '.join(unknown)}. "
            f"Updatable fields: {', '.join(PATCHABLE)}.",
            unknown[0],
        )
    changes = _read_changes(ctx, body)
    endpoint = _find(ctx)
    changed = False
    for name, value in changes.items():
        if getattr(endpoint, name) != value:
            setattr(endpoint, name, value)
            changed = True
    if changed:
        endpoint.updated_at = ctx.now
    return ctx.json(200, render_endpoint(endpoint))


@router.route("DELETE", "/v1/webhook_endpoints/{id}", bucket="webhook_endpoints_post")
def delete_endpoint(ctx: RequestContext) -> EmuResponse:
    """``DELETE /v1/webhook_endpoints/{id}``: never 404; queued deliveries are dropped."""
    endpoint_id = ctx.params["id"]
    removed = _endpoints(ctx).pop(endpoint_id, None)
    if removed is not None:
        ctx.state.owners.pop(endpoint_id, None)
        engine_of(ctx.core).drop_endpoint(endpoint_id)
    return ctx.json(
        200, {"id": endpoint_id, "object": "webhook_endpoint", "deleted": removed is not None}
    )


@router.route("POST", "/v1/webhook_endpoints/{id}/rotate_secret", bucket="webhook_endpoints_post")
def rotate_secret(ctx: RequestContext) -> EmuResponse:
    """``POST /v1/webhook_endpoints/{id}/rotate_secret``: the new secret signs from now on."""
    endpoint = _find(ctx)
    endpoint.secret = _new_secret(ctx)
    endpoint.updated_at = ctx.now
    return ctx.json(200, render_endpoint(endpoint, reveal=True))


@router.route("POST", "/v1/webhook_endpoints/{id}/test", bucket="webhooks_test")
def test_endpoint(ctx: RequestContext) -> EmuResponse:
    """``POST /v1/webhook_endpoints/{id}/test``: 202; a synthetic, signed, retried delivery,
    made even when the endpoint is inactive."""
    body = ctx.json_body()
    event_type = body.get("event_type")
    if event_type is None:
        raise missing_field("event_type")
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        raise invalid_format(
            "event_type",
            f"Unknown event type {event_type!r}. Known types: {', '.join(EVENT_TYPES)}.",
        )
    endpoint = _find(ctx)
    if event_type not in endpoint.events:
        raise invalid_format(
            "event_type",
            f"event_type must be a known event type this endpoint subscribes to "
            f"({', '.join(endpoint.events)}); got {event_type!r}.",
        )
    data = synthetic_data(ctx.core, event_type, ctx.now)
    event = engine_of(ctx.core).fire_test(ctx.team, endpoint, event_type, data, ctx.now)
    return ctx.json(
        202,
        {
            "object": "webhook_test_fire",
            "endpoint_id": endpoint.id,
            "event_id": event.id,
            "enqueued": True,
        },
    )


# ----------------------------------------------------------------------------- synthetic data
def synthetic_data(core: Core, event_type: str, now: float) -> dict[str, Any]:
    """Fixture-like ``data`` of the resource type of ``event_type``, with made-up ids that
    cannot be fetched."""
    family, _, outcome = event_type.partition(".")
    if family in ("image", "video"):
        return _synthetic_generation(core, family, outcome, now)
    if family == "character":
        return _synthetic_character(core, outcome, now)
    if event_type == "usage.balance_low":
        return {
            "credits": Decimal("9.5"),
            "held_credits": Decimal(0),
            "available_credits": Decimal("9.5"),
            "currency": "credit",
            "billing_mode": "metered",
        }
    disabled = WebhookEndpoint(
        id=core.ids.prefixed("we_", now),
        team_id="",
        url="https://example.com/aurous-webhook",
        events=["image.completed", "image.failed"],
        secret=SECRET_PREFIX + core.ids.token(32),
        created_at=now,
        updated_at=now,
        is_active=False,
        consecutive_failures=20,
        last_failure_at=now,
    )
    return render_endpoint(disabled)


def _synthetic_generation(core: Core, media: str, outcome: str, now: float) -> dict[str, Any]:
    status = {"completed": "succeeded", "cancelled": "cancelled"}.get(outcome, "failed")
    is_video = media == "video"
    amount, breakdown = video_cost("720p", 5) if is_video else image_cost(1, False)
    gen = Generation(
        id=core.ids.prefixed("vid_" if is_video else "img_", now),
        media_type=media,
        prompt=SYNTHETIC_PROMPT,
        created_at=now,
        creation_request_id=core.ids.prefixed("req_", now),
        api_key_id="",
        user_id="",
        inference_type="t2v" if is_video else "t2i",
        cost_amount=amount,
        breakdown=breakdown,
        held=Decimal(0),
        output_token=core.ids.token(),
        aurous_version=API_VERSION,
        processing_at=now,
        terminal_at=now,
        status=status,
        error_message="internal_error" if status == "failed" else None,
        completed_at=now,
        duration_ms=0,
    )
    if is_video:
        gen.video_duration, gen.video_resolution, gen.video_ratio = 5, "720p", "16:9"
    else:
        gen.width = gen.height = 2048
        gen.size_preset = "2k_1_1"
        gen.seed = 42 if status == "succeeded" else None
    return render_generation(gen, core.public_base_url)


def _synthetic_character(core: Core, outcome: str, now: float) -> dict[str, Any]:
    char = Character(
        id=core.ids.prefixed("char_", now),
        team_id="",
        name="Synthetic test character",
        status={"completed": "ready", "cancelled": "deleted"}.get(outcome, "failed"),
        created_at=now,
        updated_at=now,
        attributes={
            "gender": "female",
            "age": 30,
            "ethnicity": "east-asian",
            "hair_color": "black",
            "hair_style": "shoulder-length straight",
            "eye_color": "brown",
            "body_type": "athletic",
            "additional_details": "synthetic test character",
        },
        client_reference_id=None,
        aurous_version=API_VERSION,
    )
    if char.status == "ready":
        char.refs = [Ref(pose, f"{pose}-{core.ids.token(16)}.png") for pose in SYNTH_POSES]
    elif char.status == "failed":
        char.error_message = "synthesis_failed"
    return render_character(core, char, core.public_base_url, now)
