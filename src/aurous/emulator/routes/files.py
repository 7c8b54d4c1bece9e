"""Files: multipart upload (MIME type sniffed from the bytes, at most 10 MiB), retrieve, delete,
and the signed byte URL."""

from __future__ import annotations

import json
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from .._clock import format_timestamp
from .._context import RequestContext
from .._core import Core
from .._errors import ApiError, bad_request, invalid_format, missing_field, not_found, out_of_range
from .._http import EmuResponse
from .._media import sniff_image
from .._router import Router
from .._state import StoredFile

router = Router()

MAX_BYTES = 10_485_760
MAX_SIDE = 4096
PURPOSES = ("reference", "first_frame", "last_frame")


def _form(ctx: RequestContext) -> dict[str, tuple[bytes, bool]]:
    """Multipart parts by name: ``(content, is_file)``. The first part of a name wins."""
    content_type = ctx.header("content-type") or ""
    if not content_type.lower().startswith("multipart/form-data"):
        raise bad_request("invalid_format", "The request body must be multipart/form-data.")
    head = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n"
    message: Message = BytesParser(policy=HTTP).parsebytes(head + ctx.request.body)
    if not message.is_multipart():
        raise bad_request("invalid_format", "The multipart body could not be parsed.")
    parts: dict[str, tuple[bytes, bool]] = {}
    for part in message.iter_parts() if hasattr(message, "iter_parts") else []:
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or name in parts:
            continue
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        parts[name] = (content, part.get_filename() is not None)
    return parts


def _metadata(raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise invalid_format("metadata", "metadata must be a JSON object.") from None
    if not isinstance(value, dict):
        raise invalid_format("metadata", "metadata must be a JSON object.")
    if len(value) > 50:
        raise out_of_range("metadata", f"metadata may have at most 50 keys (got {len(value)}).")
    for key, item in value.items():
        if isinstance(item, str) and len(item) > 500:
            raise out_of_range(
                f"metadata.{key}", f"metadata values may be at most 500 characters (key {key!r})."
            )
    return value


def _fingerprint(ctx: RequestContext) -> object:
    parts = _form(ctx)
    purpose = parts.get("purpose")
    meta = parts.get("metadata")
    return {
        "purpose": purpose[0].decode("utf-8", "replace") if purpose else None,
        "metadata": _metadata(meta[0]) if meta else {},
    }


def render_file(ctx: RequestContext, stored: StoredFile) -> dict[str, Any]:
    """The file object with a freshly signed URL (valid ``file_url_ttl``)."""
    return {
        "id": stored.id,
        "object": "file",
        "purpose": stored.purpose,
        "mime_type": stored.mime_type,
        "size_bytes": len(stored.data),
        "width_px": stored.width,
        "height_px": stored.height,
        "url": ctx.signed_url(f"/storage/files/{stored.id}", ctx.config.file_url_ttl),
        "expires_at": format_timestamp(stored.expires_at),
        "created_at": format_timestamp(stored.created_at),
        "metadata": stored.metadata,
    }


@router.ticker
def _purge(core: Core, now: float) -> None:
    for team in core.state.teams.values():
        for file_id in [fid for fid, f in team.files.items() if f.expires_at <= now]:
            del team.files[file_id]


@router.route("POST", "/v1/files", bucket="files_post", idempotent=True, fingerprint=_fingerprint)
def create_file(ctx: RequestContext) -> EmuResponse:
    """``POST /v1/files`` (multipart: ``file``, ``purpose``, optional ``metadata``)."""
    parts = _form(ctx)
    if "file" not in parts:
        raise missing_field("file")
    if "purpose" not in parts:
        raise missing_field("purpose")
    purpose = parts["purpose"][0].decode("utf-8", "replace").strip()
    if purpose not in PURPOSES:
        raise invalid_format("purpose", f"purpose must be one of {', '.join(PURPOSES)}.")
    data = parts["file"][0]
    if len(data) > MAX_BYTES:
        raise out_of_range("file", f"file must be at most {MAX_BYTES} bytes (got {len(data)}).")
    info = sniff_image(data)
    if info is None:
        raise invalid_format("file", "file must be a decodable PNG, JPEG or WebP image.")
    if info.width > MAX_SIDE or info.height > MAX_SIDE:
        raise out_of_range(
            "file",
            f"images may be at most {MAX_SIDE} px per side (got {info.width}x{info.height}).",
        )
    metadata = _metadata(parts["metadata"][0] if "metadata" in parts else None)
    stored = StoredFile(
        id=ctx.mint_id("file_"),
        purpose=purpose,
        mime_type=info.mime_type,
        data=data,
        width=info.width,
        height=info.height,
        created_at=ctx.now,
        expires_at=ctx.now + ctx.config.file_ttl,
        metadata=metadata,
    )
    ctx.team.files[stored.id] = stored
    ctx.state.owners[stored.id] = ctx.team.id
    return ctx.json(201, render_file(ctx, stored))


@router.route("GET", "/v1/files/{id}", bucket="reads")
def retrieve_file(ctx: RequestContext) -> EmuResponse:
    """``GET /v1/files/{id}``: 404 after deletion or expiry."""
    stored = ctx.team.files.get(ctx.params["id"])
    if stored is None:
        raise not_found(f"No such file: '{ctx.params['id']}'.", param="id")
    return ctx.json(200, render_file(ctx, stored))


@router.route("DELETE", "/v1/files/{id}", bucket="files_post")
def delete_file(ctx: RequestContext) -> EmuResponse:
    """``DELETE /v1/files/{id}``: always 200, ``deleted`` says whether anything was removed."""
    removed = ctx.team.files.pop(ctx.params["id"], None)
    return ctx.json(200, {"id": ctx.params["id"], "object": "file", "deleted": removed is not None})


@router.route("GET", "/storage/files/{id}", bucket=None, auth="none")
def file_bytes(ctx: RequestContext) -> EmuResponse:
    """The signed URL in a file's ``url``: the uploaded bytes."""
    if not ctx.verify_signed_url():
        raise ApiError(401, "invalid_api_key", "The URL signature is not valid or has expired.")
    team_id = ctx.state.owners.get(ctx.params["id"])
    stored = ctx.state.teams[team_id].files.get(ctx.params["id"]) if team_id else None
    if stored is None:
        raise not_found(f"No such file: '{ctx.params['id']}'.", param="id")
    return ctx.raw(200, stored.data, stored.mime_type)
