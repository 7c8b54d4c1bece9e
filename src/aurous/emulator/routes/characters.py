"""Characters: uploads, classify, create, list, retrieve, update, delete, save, resynthesize and
refs/regenerate (spec/openapi.yaml, ``characters_*``), plus the upload PUT and the ref proxy
URLs."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .._characters import (
    CHARACTERS,
    EXTENSION_TYPES,
    MAX_UPLOAD_BYTES,
    POSES,
    UPLOAD_TTL,
    UPLOAD_URL_TTL,
    UPLOADS,
    Character,
    CharacterUpload,
    Ref,
    cancel_run,
    classify,
    read_attributes,
    ref_bytes,
    ref_url,
    render_character,
    start_run,
    tick_characters,
)
from .._clock import format_timestamp
from .._context import RequestContext
from .._core import Core
from .._errors import (
    ApiError,
    bad_request,
    invalid_format,
    missing_field,
    not_found,
    out_of_range,
)
from .._generations import CharacterRef
from .._http import EmuResponse
from .._media import sniff_image
from .._paging import page_by_id
from .._pricing import IMAGE_BASE
from .._ratelimit import BucketDecision, TokenBucket
from .._router import Router
from .._validation import read_bool, read_enum, read_str

router = Router()

SYNTHESIS_COST = 4 * IMAGE_BASE
REGENERATE_COST = 1 * IMAGE_BASE
PATCHABLE = ("name", "attributes")


@router.setup
def _install(core: Core) -> None:
    core.extensions["character_resolver"] = _resolve


@router.ticker
def _advance(core: Core, now: float) -> None:
    tick_characters(core, now)


def _resolve(ctx: RequestContext, character_id: str) -> CharacterRef | None:
    """For ``POST /v1/images``: soft-deleted characters resolve (status ``deleted`` → not
    ready); hard-deleted and unknown ones do not (404)."""
    char: Character | None = ctx.team.collection(CHARACTERS).get(character_id)
    if char is None:
        return None
    urls = [ref_url(ctx.core, ctx.request.base_url, char.id, r.key, ctx.now) for r in char.refs]
    return CharacterRef(char.id, char.status, urls)


# ----------------------------------------------------------------------------- helpers
def _render(ctx: RequestContext, char: Character) -> dict[str, Any]:
    return render_character(ctx.core, char, ctx.request.base_url, ctx.now)


def _characters(ctx: RequestContext) -> dict[str, Character]:
    return ctx.team.collection(CHARACTERS)


def _find(ctx: RequestContext, param: str = "id") -> Character:
    """A live character of this team; soft-deleted, hard-deleted and foreign ids are 404."""
    char_id = ctx.params["id"]
    char = _characters(ctx).get(char_id)
    if char is None or char.deleted:
        raise not_found(f"No such character: '{char_id}'.", param=param)
    return char


def _state_conflict(char: Character, action: str) -> ApiError:
    return bad_request(
        "invalid_request",
        f"Character {char.id} has status '{char.status}'; {action} is not allowed in this status.",
        "id",
    )


def _count(ctx: RequestContext, bucket_name: str) -> BucketDecision | None:
    """Rate-limit step for a route whose bucket depends on the body (create)."""
    if not ctx.config.rate_limits_enabled:
        return None
    bucket = ctx.team.buckets.get(bucket_name)
    if bucket is None:
        capacity, per_minute = ctx.config.buckets.get(bucket_name, (1200, 600))
        bucket = ctx.team.buckets[bucket_name] = TokenBucket(capacity, per_minute, ctx.now)
    decision = bucket.take(ctx.now)
    if not decision.allowed:
        raise ApiError(
            429,
            "too_many_requests",
            f"Rate limit exceeded for {bucket_name}. Retry after {decision.retry_after}s.",
            headers=[("Retry-After", str(decision.retry_after)), *decision.headers()],
        )
    return decision


def _with_bucket(
    ctx: RequestContext, bucket_name: str, handler: Callable[[RequestContext], EmuResponse]
) -> EmuResponse:
    decision = _count(ctx, bucket_name)
    headers = decision.headers() if decision is not None else []
    try:
        response = handler(ctx)
    except ApiError as error:
        error.headers.extend(headers)
        raise
    response.headers.extend(headers)
    return response


def _reject_unknown(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = [key for key in body if key not in allowed]
    if unknown:
        raise bad_request(
            "invalid_request",
            f"Unknown or read-only field(s): {', '.join(unknown)}. "
            f"Updatable fields: {', '.join(allowed)}.",
            unknown[0],
        )


def _read_name(body: dict[str, Any], *, required: bool) -> str | None:
    return read_str(body, "name", required=required, max_len=120, reject_blank=True)


# ----------------------------------------------------------------------------- uploads
@router.route("POST", "/v1/characters/uploads/init", bucket="characters_post")
def init_upload(ctx: RequestContext) -> EmuResponse:
    """``POST /v1/characters/uploads/init``: a ticket with a signed PUT URL (15 min)."""
    body = ctx.json_body()
    filename = read_str(body, "filename", required=True, max_len=120)
    extension = read_enum(body, "extension", list(EXTENSION_TYPES))
    if extension is None:
        raise missing_field("extension")
    content_type = read_enum(body, "content_type", sorted(set(EXTENSION_TYPES.values())))
    if content_type is None:
        raise missing_field("content_type")
    if EXTENSION_TYPES[extension] != content_type:
        raise bad_request(
            "parameter_invalid_combination",
            f"content_type '{content_type}' does not match extension '{extension}' "
            f"(expected '{EXTENSION_TYPES[extension]}').",
            "content_type",
        )
    assert filename is not None
    upload = CharacterUpload(
        id=ctx.mint_id("upl_"),
        team_id=ctx.team.id,
        filename=filename,
        content_type=content_type,
        created_at=ctx.now,
        url_expires_at=ctx.now + UPLOAD_URL_TTL,
        expires_at=ctx.now + UPLOAD_TTL,
    )
    ctx.team.collection(UPLOADS)[upload.id] = upload
    ctx.state.owners[upload.id] = ctx.team.id
    return ctx.json(
        201,
        {
            "upload_id": upload.id,
            "upload_url": ctx.signed_url(f"/_uploads/{upload.id}", UPLOAD_URL_TTL),
            "upload_headers": {"Content-Type": content_type},
            "expires_at": format_timestamp(upload.url_expires_at),
        },
    )


@router.route("PUT", "/_uploads/{id}", bucket=None, auth="none")
def put_upload(ctx: RequestContext) -> EmuResponse:
    """The signed upload URL: 403 when expired or forged, 413 over 10 MB, else store (replace)."""
    upload = _upload_anywhere(ctx, ctx.params["id"])
    if upload is None or not ctx.verify_signed_url():
        raise ApiError(403, "invalid_signature", "The upload URL has expired or is not valid.")
    if len(ctx.request.body) > MAX_UPLOAD_BYTES:
        raise ApiError(
            413,
            "value_out_of_range",
            f"The upload may be at most {MAX_UPLOAD_BYTES} bytes (got {len(ctx.request.body)}).",
            type="invalid_request",
        )
    upload.data = ctx.request.body
    # New bytes need a new classification.
    upload.pose = upload.confidence = None
    return ctx.raw(200, b"", "text/plain; charset=utf-8")


def _upload_anywhere(ctx: RequestContext, upload_id: str) -> CharacterUpload | None:
    team_id = ctx.state.owners.get(upload_id)
    team = ctx.state.teams.get(team_id) if team_id else None
    return team.collection(UPLOADS).get(upload_id) if team is not None else None


def _usable_upload(ctx: RequestContext, upload_id: Any, param: str) -> CharacterUpload:
    """Step 8 for an upload reference: another team's → 404; anything unusable → 400."""
    if not isinstance(upload_id, str):
        raise invalid_format(param, f"{param} must be an upload id string.")
    upload = _upload_anywhere(ctx, upload_id)
    if upload is not None and upload.team_id != ctx.team.id:
        raise not_found(f"No such upload: '{upload_id}'.", param=param)
    if upload is None or not upload.usable(ctx.now):
        raise bad_request(
            "upload_invalid",
            f"Upload {upload_id} is unknown, expired, already used by a character, or has no "
            "valid image bytes of its declared content type.",
            param,
        )
    return upload


@router.route("POST", "/v1/characters/uploads/classify", bucket="characters_post")
def classify_upload(ctx: RequestContext) -> EmuResponse:
    """``POST /v1/characters/uploads/classify``: deterministic pose, stored on the upload."""
    body = ctx.json_body()
    upload_id = read_str(body, "upload_id", required=True)
    upload = _usable_upload(ctx, upload_id, "upload_id")
    assert upload.data is not None
    upload.pose, upload.confidence = classify(upload.data)
    return ctx.json(
        200, {"upload_id": upload.id, "pose": upload.pose, "confidence": upload.confidence}
    )


# ----------------------------------------------------------------------------- create
def _wants_synthesis(ctx: RequestContext) -> bool:
    try:
        return ctx.json_body().get("generate") is True
    except ApiError:
        return False


@router.route("POST", "/v1/characters", bucket=None)
def create_character(ctx: RequestContext) -> EmuResponse:
    """``POST /v1/characters``. The bucket depends on the flow (synthesis or upload): the route is
    registered uncounted and counts ``characters_synthesize`` or ``characters_post`` itself."""
    bucket = "characters_synthesize" if _wants_synthesis(ctx) else "characters_post"
    return _with_bucket(ctx, bucket, _create)


def _read_upload_ids(body: dict[str, Any]) -> list[str] | None:
    value = body.get("upload_ids")
    if value is None:
        return None
    if not isinstance(value, list):
        raise invalid_format("upload_ids", "upload_ids must be an array.")
    if not 1 <= len(value) <= 6:
        raise out_of_range(
            "upload_ids", f"upload_ids must have between 1 and 6 entries (got {len(value)})."
        )
    seen: set[str] = set()
    for index, item in enumerate(value):
        param = f"upload_ids[{index}]"
        if not isinstance(item, str) or not item.startswith("upl_"):
            raise invalid_format(param, f"{param} must be an upl_… id.")
        if item in seen:
            raise invalid_format(param, f"{param} repeats upload {item}.")
        seen.add(item)
    return list(value)


def _create(ctx: RequestContext) -> EmuResponse:
    body = ctx.json_body()
    name = _read_name(body, required=True)
    generate = read_bool(body, "generate") or False
    upload_ids = _read_upload_ids(body)
    attributes = read_attributes(body, required=False)
    client_reference_id = read_str(body, "client_reference_id", max_len=256, min_len=0)
    if generate and upload_ids is not None:
        raise bad_request(
            "parameter_invalid_combination",
            "upload_ids cannot be combined with generate: true. Use exactly one flow.",
            "upload_ids",
        )
    if not generate and upload_ids is None:
        raise bad_request(
            "parameter_invalid_combination",
            "Send either upload_ids (upload flow) or generate: true with attributes "
            "(synthesize flow).",
            "upload_ids",
        )
    if generate:
        attributes = read_attributes(body, required=True)
    assert name is not None
    char = Character(
        id=ctx.mint_id("char_"),
        team_id=ctx.team.id,
        name=name,
        status="ready",
        created_at=ctx.now,
        updated_at=ctx.now,
        attributes=attributes or {},
        client_reference_id=client_reference_id,
        aurous_version=ctx.version,
    )
    if upload_ids is not None:
        uploads = [
            _usable_upload(ctx, upload_id, f"upload_ids[{index}]")
            for index, upload_id in enumerate(upload_ids)
        ]
        for index, upload in enumerate(uploads):
            assert upload.data is not None
            info = sniff_image(upload.data)
            suffix = (info.mime_type if info else upload.content_type).split("/")[1]
            pose = upload.pose or "other"
            ref = Ref(
                pose,
                f"{index}-{pose}-{ctx.token()[:16]}.{suffix}",
                upload.content_type,
                upload.data,
            )
            char.refs.append(char.add_ref(ref))
            upload.consumed = True
    else:
        ctx.charge(SYNTHESIS_COST)
        start_run(ctx.core, char, None, ctx.now)
    _characters(ctx)[char.id] = char
    ctx.state.owners[char.id] = ctx.team.id
    return ctx.json(201, _render(ctx, char))


# ----------------------------------------------------------------------------- read / update
def _newest_first(ctx: RequestContext) -> list[Character]:
    return sorted(_characters(ctx).values(), key=lambda c: (c.created_at, c.id), reverse=True)


@router.route("GET", "/v1/characters", bucket="characters_get")
def list_characters(ctx: RequestContext) -> EmuResponse:
    """``GET /v1/characters``: scheme A, newest first, soft-deleted rows left out."""
    page = page_by_id(ctx, _newest_first(ctx), lambda c: c.id, include=lambda c: not c.deleted)
    page["data"] = [_render(ctx, char) for char in page["data"]]
    return ctx.json(200, page)


@router.route("GET", "/v1/characters/{id}", bucket="characters_get")
def retrieve_character(ctx: RequestContext) -> EmuResponse:
    """``GET /v1/characters/{id}``: 404 once deleted."""
    return ctx.json(200, _render(ctx, _find(ctx)))


@router.route("PATCH", "/v1/characters/{id}", bucket="characters_post")
def update_character(ctx: RequestContext) -> EmuResponse:
    """``PATCH /v1/characters/{id}``: ``name`` and/or ``attributes`` (replaced whole)."""
    body = ctx.json_body()
    _reject_unknown(body, PATCHABLE)
    name = _read_name(body, required=False) if "name" in body else None
    if "name" in body and name is None:
        raise invalid_format("name", "name must be a string.")
    attributes = read_attributes(body, required=False) if "attributes" in body else None
    if "attributes" in body and attributes is None:
        raise invalid_format("attributes", "attributes must be an object.")
    char = _find(ctx, "character_id")
    changed = False
    if name is not None and name != char.name:
        char.name, changed = name, True
    if attributes is not None and attributes != char.attributes:
        char.attributes, changed = attributes, True
    if changed:
        char.updated_at = ctx.now
    return ctx.json(200, _render(ctx, char))


@router.route("DELETE", "/v1/characters/{id}", bucket="characters_post")
def delete_character(ctx: RequestContext) -> EmuResponse:
    """``DELETE /v1/characters/{id}``: hard delete from ``reviewing``, soft delete otherwise
    (cancelling a running synthesis with ``character.cancelled``); repeat deletes are 200."""
    char_id = ctx.params["id"]
    char = _characters(ctx).get(char_id)
    if char is None:
        raise not_found(f"No such character: '{char_id}'.", param="id")
    if char.status == "reviewing":
        cancel_run(ctx.core, char)
        del _characters(ctx)[char.id]
        ctx.state.owners.pop(char.id, None)
    elif not char.deleted:
        running = char.run is not None
        cancel_run(ctx.core, char)
        char.status = "deleted"
        char.updated_at = ctx.now
        if running:
            ctx.emit_event("character.cancelled", _event_data(ctx, char))
    return ctx.json(200, {"id": char.id, "object": "character", "deleted": True})


def _event_data(ctx: RequestContext, char: Character) -> dict[str, Any]:
    return render_character(ctx.core, char, ctx.core.public_base_url, ctx.now)


@router.route("POST", "/v1/characters/{id}/save", bucket="characters_post")
def save_character(ctx: RequestContext) -> EmuResponse:
    """``POST /v1/characters/{id}/save``: ``reviewing`` → ``ready``; ``ready`` is a no-op."""
    char = _find(ctx)
    if char.status == "reviewing":
        char.status = "ready"
        char.updated_at = ctx.now
    elif char.status != "ready":
        raise _state_conflict(char, "save")
    return ctx.json(200, _render(ctx, char))


# ----------------------------------------------------------------------------- synthesis
def _rerun(ctx: RequestContext, pose: str | None, cost: Decimal, action: str) -> EmuResponse:
    char = _find(ctx)
    if char.status == "synthesizing":
        raise _state_conflict(char, action)
    ctx.charge(cost)
    start_run(ctx.core, char, pose, ctx.now)
    return ctx.json(200, _render(ctx, char))


@router.route(
    "POST", "/v1/characters/{id}/resynthesize", bucket="characters_synthesize", idempotent=True
)
def resynthesize_character(ctx: RequestContext) -> EmuResponse:
    """``POST /v1/characters/{id}/resynthesize``: 4 credits; old refs stay until done."""
    body = ctx.json_body()
    read_bool(body, "force_all")  # accepted, no effect (documented forward compatibility)
    return _rerun(ctx, None, SYNTHESIS_COST, "resynthesize")


@router.route(
    "POST", "/v1/characters/{id}/refs/regenerate", bucket="characters_synthesize", idempotent=True
)
def regenerate_ref(ctx: RequestContext) -> EmuResponse:
    """``POST /v1/characters/{id}/refs/regenerate``: 1 credit; replaces or appends one pose."""
    body = ctx.json_body()
    pose = read_enum(body, "pose", POSES)
    if pose is None:
        raise missing_field("pose")
    read_str(body, "prompt_override", min_len=0)  # accepted and ignored (documented)
    return _rerun(ctx, pose, REGENERATE_COST, "refs/regenerate")


# ----------------------------------------------------------------------------- ref bytes
@router.route("GET", "/storage/characters/{id}/{ref}", bucket=None, auth="none")
def ref_image(ctx: RequestContext) -> EmuResponse:
    """A ref's opaque proxy URL: the image bytes while the signature is valid."""
    if not ctx.verify_signed_url():
        raise ApiError(401, "invalid_api_key", "The URL signature is not valid or has expired.")
    team_id = ctx.state.owners.get(ctx.params["id"])
    team = ctx.state.teams.get(team_id) if team_id else None
    char: Character | None = team.collection(CHARACTERS).get(ctx.params["id"]) if team else None
    ref = char.archive.get(ctx.params["ref"]) if char is not None else None
    if char is None or ref is None:
        raise not_found(f"No such character reference: '{ctx.params['ref']}'.", param="ref")
    data = ref_bytes(char, ref, ctx.config.image_output_long_side)
    return ctx.raw(200, data, ref.mime_type)
