"""Generations: request parsing (steps 7-9), creation, rendering and the lifecycle ticker."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ._errors import ApiError, bad_request, invalid_format, missing_field, not_found
from ._lifecycle import MAX_SEED, finalize, render_generation, tick_generations
from ._pricing import image_cost, video_cost
from ._state import Generation
from ._validation import (
    read_bool,
    read_enum,
    read_https_url,
    read_int,
    read_list,
    read_number,
    read_str,
    reject_private_host,
    require_object,
)

if TYPE_CHECKING:
    from ._context import RequestContext

__all__ = [
    "SIZE_PRESETS",
    "CharacterRef",
    "ImageSpec",
    "VideoSpec",
    "create_generation",
    "finalize",
    "parse_image",
    "parse_video",
    "render_generation",
    "tick_generations",
]

SIZE_PRESETS: dict[str, tuple[int, int]] = {
    "2k_1_1": (2048, 2048),
    "2k_3_2": (2048, 1376),
    "2k_2_3": (1376, 2048),
    "2k_4_3": (2048, 1536),
    "2k_3_4": (1536, 2048),
    "2k_16_9": (2048, 1152),
    "2k_9_16": (1152, 2048),
    "2k_21_9": (2048, 864),
    "4k_1_1": (4096, 4096),
    "4k_3_2": (4096, 2720),
    "4k_2_3": (2720, 4096),
    "4k_4_3": (4096, 3072),
    "4k_3_4": (3072, 4096),
    "4k_16_9": (4096, 2304),
    "4k_9_16": (2304, 4096),
    "4k_21_9": (4096, 1760),
}
RESOLUTIONS = ("480p", "720p", "1080p")
RATIOS = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# Prompt markers that script an outcome (documented in the emulator README section).
PROMPT_MARKERS: dict[str, tuple[str, str]] = {
    "[fail]": ("failed", "internal_error"),
    "[moderate]": ("failed", "output_moderation_rejected"),
    "[timeout]": ("failed", "provider_timeout"),
    "[unavailable]": ("failed", "provider_unavailable"),
    "[expire]": ("expired", "provider_timeout"),
}


@dataclasses.dataclass(frozen=True)
class CharacterRef:
    """What image creation needs to know about a character (see ``character_resolver``)."""

    id: str
    status: str
    ref_urls: list[str]


CharacterResolver = Callable[["RequestContext", str], "CharacterRef | None"]
"""Installed as ``core.extensions["character_resolver"]`` by the characters family."""


@dataclasses.dataclass
class ImageSpec:
    """A validated image request with its lookups resolved."""

    prompt: str
    negative_prompt: str | None
    loras: list[dict[str, str]] | None
    character_id: str | None
    character_refs: list[str] | None
    reference_image_urls: list[str] | None
    width: int
    height: int
    size_preset: str | None
    cfg_rescale: float | None
    denoise_strength: float | None
    seed: int | None
    count: int
    enhance: bool
    webhook_url: str | None

    @property
    def cost(self) -> tuple[Decimal, dict[str, Decimal]]:
        return image_cost(self.count, self.enhance)


@dataclasses.dataclass
class VideoSpec:
    """A validated video request with its lookups resolved."""

    prompt: str | None
    loras: list[dict[str, str]] | None
    first_frame_url: str | None
    last_frame_url: str | None
    resolution: str
    ratio: str
    duration: int
    camera_fixed: bool
    webhook_url: str | None

    @property
    def cost(self) -> tuple[Decimal, dict[str, Decimal]]:
        return video_cost(self.resolution, self.duration)


# ----------------------------------------------------------------------------- parsing
def _read_prompt(body: dict[str, Any], *, required: bool) -> str | None:
    return read_str(body, "prompt", required=required, max_len=4000, reject_blank=True)


def _read_webhook_url(body: dict[str, Any]) -> str | None:
    value = body.get("webhook_url")
    return None if value is None else read_https_url(value, "webhook_url")


def _check_id_or_uuid(value: Any, prefix: str, param: str) -> str:
    if not isinstance(value, str):
        raise invalid_format(param, f"{param} must be a string.")
    if not (value.startswith(prefix) and len(value) > len(prefix)) and not _UUID.match(value):
        raise invalid_format(param, f"{param} must be a {prefix}… id or a UUID (got {value!r}).")
    return value


def _read_reference(value: Any, param: str) -> str:
    """A ``file_…`` id or an ``https://`` URL."""
    if isinstance(value, str) and value.startswith("file_"):
        if len(value) <= len("file_"):
            raise invalid_format(param, f"{param} is not a valid file id.")
        return value
    return read_https_url(value, param)


def _lookup_lora(ctx: RequestContext, ref: str, want: str, param: str) -> dict[str, str]:
    entry = ctx.state.catalogue.find(ref)
    if entry is None or not entry.visible_to(ctx.team.id):
        raise not_found(f"No such LoRA: '{ref}'.", param=param)
    if entry.kind != want:
        raise bad_request(
            "unsupported_lora_for_mode",
            f"LoRA '{ref}' is a{'n image' if entry.kind == 'image' else ' video'} LoRA and "
            f"cannot be used for {'images' if want == 'image' else 'videos'}.",
            param,
        )
    return {"id": entry.id, "name": entry.name}


def _lookup_file(ctx: RequestContext, file_id: str, param: str) -> None:
    stored = ctx.team.files.get(file_id)
    if stored is None or stored.expires_at <= ctx.now:
        raise not_found(f"No such file: '{file_id}'.", param=param)


def _lora_default(ctx: RequestContext, loras: list[dict[str, str]] | None, name: str) -> Any:
    for lora in loras or []:
        entry = ctx.state.catalogue.find(lora["id"])
        if entry is not None and entry.default(name) is not None:
            return entry.default(name)
    return None


def _read_lora_refs(body: dict[str, Any]) -> list[tuple[str, str]]:
    """The LoRAs an image body names (``lora_id`` or ``loras``), each with its ``param`` path."""
    lora_id = body.get("lora_id")
    lora_items = read_list(body, "loras")
    if lora_id is not None and lora_items is not None:
        raise bad_request(
            "parameter_invalid_combination", "lora_id cannot be combined with loras.", "loras"
        )
    if lora_id is not None and (not isinstance(lora_id, str) or not lora_id):
        raise invalid_format("lora_id", "lora_id must be a LoRA id, slug or UUID.")
    lora_refs: list[tuple[str, str]] = []
    if isinstance(lora_id, str):
        lora_refs.append((lora_id, "lora_id"))
    for index, item in enumerate(lora_items or []):
        where = f"loras[{index}]"
        entry = require_object(item, where)
        ref = read_str(entry, "lora", param=f"{where}.lora", required=True)
        assert ref is not None
        read_number(entry, "weight", lo=0.0, hi=2.0, param=f"{where}.weight")
        lora_refs.append((ref, f"{where}.lora"))
    return lora_refs


def _read_size(body: dict[str, Any]) -> tuple[int, int, str | None]:
    """Width, height and preset: a ``size`` preset or a custom ``width`` + ``height``."""
    size = read_enum(body, "size", list(SIZE_PRESETS))
    has_w, has_h = body.get("width") is not None, body.get("height") is not None
    if size is not None and (has_w or has_h):
        raise bad_request(
            "parameter_invalid_combination",
            "size cannot be combined with width/height. Send either a size preset or both "
            "width and height.",
            "size",
        )
    if has_w != has_h:
        missing, given = ("height", "width") if has_w else ("width", "height")
        raise missing_field(missing, f"{missing} is required when {given} is provided.")
    if has_w:
        raw_w = read_int(body, "width", lo=1024, hi=4096)
        raw_h = read_int(body, "height", lo=1024, hi=4096)
        assert raw_w is not None
        assert raw_h is not None
        return _snap(raw_w), _snap(raw_h), None
    preset = size or "2k_1_1"
    width, height = SIZE_PRESETS[preset]
    return width, height, preset


def parse_image(ctx: RequestContext) -> ImageSpec:
    """Validate an image create/estimate body (step 7) and resolve references (step 8)."""
    body = ctx.json_body()
    prompt = _read_prompt(body, required=True)
    assert prompt is not None
    negative = read_str(body, "negative_prompt", max_len=4000, reject_blank=True)
    lora_refs = _read_lora_refs(body)
    character_id = body.get("character_id")
    references = read_list(body, "reference_image_urls")
    if character_id is not None and references is not None:
        raise bad_request(
            "mutually_exclusive_input",
            "character_id and reference_image_urls are mutually exclusive.",
            "reference_image_urls",
        )
    if character_id is not None:
        character_id = _check_id_or_uuid(character_id, "char_", "character_id")
    refs = [
        _read_reference(value, f"reference_image_urls[{i}]")
        for i, value in enumerate(references or [])
    ] or None
    width, height, preset = _read_size(body)
    read_int(body, "steps", lo=1, hi=100)
    read_number(body, "guidance_scale", lo=0.1, hi=30.0)
    cfg_rescale = read_number(body, "cfg_rescale", lo=0.0, hi=1.0)
    denoise = read_number(body, "denoise_strength", lo=0.0, hi=1.0)
    seed = read_int(body, "seed", lo=0, hi=MAX_SEED)
    count = read_int(body, "count", lo=1, hi=4) or 1
    enhance = read_bool(body, "enhance_prompt") or False
    webhook_url = _read_webhook_url(body)

    # Step 8: referenced resources.
    loras = [_lookup_lora(ctx, ref, "image", param) for ref, param in lora_refs] or None
    character_refs = None
    if character_id is not None:
        character = _resolve_character(ctx, character_id)
        if character.status != "ready":
            raise bad_request(
                "character_not_ready",
                f"Character {character_id} has status '{character.status}'; only characters "
                "with status 'ready' can be used.",
                "character_id",
            )
        character_refs = list(character.ref_urls) or None
    for index, ref in enumerate(refs or []):
        if ref.startswith("file_"):
            _lookup_file(ctx, ref, f"reference_image_urls[{index}]")
    return ImageSpec(
        prompt=prompt,
        negative_prompt=negative,
        loras=loras,
        character_id=character_id,
        character_refs=character_refs,
        reference_image_urls=refs,
        width=width,
        height=height,
        size_preset=preset,
        cfg_rescale=cfg_rescale,
        denoise_strength=denoise,
        seed=seed,
        count=count,
        enhance=enhance,
        webhook_url=webhook_url,
    )


def _snap(value: int) -> int:
    """Nearest multiple of 32, ties rounding up."""
    return ((value + 16) // 32) * 32


def _resolve_character(ctx: RequestContext, character_id: str) -> CharacterRef:
    resolver: CharacterResolver | None = ctx.core.extensions.get("character_resolver")
    found = resolver(ctx, character_id) if resolver is not None else None
    if found is None:
        raise not_found(f"No such character: '{character_id}'.", param="character_id")
    return found


def parse_video(ctx: RequestContext) -> VideoSpec:
    """Validate a video create/estimate body (step 7) and resolve references (step 8)."""
    body = ctx.json_body()
    lora_ref = read_str(body, "video_lora_id")
    prompt = _read_prompt(body, required=False)
    frames: dict[str, str | None] = {}
    for name in ("first_frame_url", "last_frame_url"):
        value = body.get(name)
        frames[name] = None if value is None else _read_reference(value, name)
        if frames[name] is not None and not str(frames[name]).startswith("file_"):
            reject_private_host(str(frames[name]), name)
    if prompt is None and frames["first_frame_url"] is None:
        raise missing_field("prompt", "prompt is required when first_frame_url is not provided.")
    if frames["last_frame_url"] is not None and frames["first_frame_url"] is None:
        raise missing_field(
            "first_frame_url", "first_frame_url is required when last_frame_url is provided."
        )
    resolution = read_enum(body, "resolution", RESOLUTIONS)
    ratio = read_enum(body, "ratio", RATIOS)
    duration = read_int(body, "duration", lo=2, hi=12)
    read_int(body, "seed", lo=-1, hi=MAX_SEED)
    camera_fixed = read_bool(body, "camera_fixed") or False
    read_bool(body, "watermark")
    read_bool(body, "enhance_prompt")
    webhook_url = _read_webhook_url(body)

    loras = None
    if lora_ref is not None:
        loras = [_lookup_lora(ctx, lora_ref, "video", "video_lora_id")]
    for name, value in frames.items():
        if value is not None and value.startswith("file_"):
            _lookup_file(ctx, value, name)
    return VideoSpec(
        prompt=prompt,
        loras=loras,
        first_frame_url=frames["first_frame_url"],
        last_frame_url=frames["last_frame_url"],
        resolution=resolution or _lora_default(ctx, loras, "default_resolution") or "720p",
        ratio=ratio or _lora_default(ctx, loras, "default_ratio") or "16:9",
        duration=duration or _lora_default(ctx, loras, "default_duration") or 5,
        camera_fixed=camera_fixed,
        webhook_url=webhook_url,
    )


# ----------------------------------------------------------------------------- moderation
def _blocked(ctx: RequestContext, text: str | None) -> bool:
    lowered = (text or "").lower()
    return any(term.lower() in lowered for term in ctx.config.blocked_terms if term)


def moderate(ctx: RequestContext, prompt: str | None, references: list[tuple[str, str]]) -> None:
    """Step 9: blocked terms in the prompt or in a reference/frame → 400."""
    if _blocked(ctx, prompt):
        raise bad_request(
            "prompt_blocked", "The prompt was rejected by the content policy.", "prompt"
        )
    for param, ref in references:
        if _blocked(ctx, ref):
            raise bad_request(
                "reference_blocked",
                "The reference image was rejected by the content policy.",
                param,
            )


# ----------------------------------------------------------------------------- creation
def check_concurrency(ctx: RequestContext) -> None:
    """Step 10: at most ``concurrency_limit`` non-terminal generations per team."""
    limit = ctx.config.concurrency_limit
    if ctx.team.active_generations() >= limit:
        raise ApiError(
            429,
            "concurrency_limit_exceeded",
            f"Concurrency limit exceeded: {limit} generations are already pending or processing "
            "for this team. Retry after 1s.",
            headers=[("Retry-After", "1")],
        )


def _planned_outcome(ctx: RequestContext, prompt: str | None) -> tuple[str, str | None]:
    forced = ctx.core.faults.take_creation_outcome()
    if forced is not None:
        return forced
    lowered = (prompt or "").lower()
    for marker, outcome in PROMPT_MARKERS.items():
        if marker in lowered:
            return outcome
    return "succeeded", None


def create_generation(ctx: RequestContext, spec: ImageSpec | VideoSpec) -> Generation:
    """Steps 9-12 for a create: moderation, concurrency, balance, then the row and its hold."""
    is_video = isinstance(spec, VideoSpec)
    if isinstance(spec, VideoSpec):
        frames = [
            (n, v)
            for n, v in (
                ("first_frame_url", spec.first_frame_url),
                ("last_frame_url", spec.last_frame_url),
            )
            if v
        ]
        moderate(ctx, spec.prompt, frames)
    else:
        refs = [
            (f"reference_image_urls[{i}]", r) for i, r in enumerate(spec.reference_image_urls or [])
        ]
        moderate(ctx, spec.prompt, refs)
    check_concurrency(ctx)
    amount, breakdown = spec.cost
    ctx.team.check_available(amount)
    held = ctx.team.hold(amount)
    media = "video" if is_video else "image"
    phases = ctx.config.phases_for(media)
    status, error = _planned_outcome(ctx, spec.prompt)
    api_key = ctx.api_key
    gen = Generation(
        id=ctx.mint_id("vid_" if is_video else "img_"),
        media_type=media,
        prompt=spec.prompt,
        created_at=ctx.now,
        creation_request_id=ctx.request_id,
        api_key_id=api_key.id if api_key else "",
        user_id=api_key.user_id if api_key else "",
        inference_type="t2i",
        cost_amount=amount,
        breakdown=breakdown,
        held=held,
        output_token=ctx.token(),
        aurous_version=ctx.version,
        processing_at=ctx.now + phases.pending,
        terminal_at=ctx.now + phases.pending + phases.processing,
        planned_status=status,
        planned_error=error,
        loras=spec.loras,
        webhook_url=spec.webhook_url,
    )
    if isinstance(spec, VideoSpec):
        gen.inference_type = "i2v" if spec.first_frame_url else "t2v"
        gen.video_duration = spec.duration
        gen.video_resolution = spec.resolution
        gen.video_ratio = spec.ratio
        gen.video_camera_fixed = spec.camera_fixed
    else:
        gen.negative_prompt = spec.negative_prompt
        gen.reference_image_urls = spec.character_refs or spec.reference_image_urls
        gen.width, gen.height = spec.width, spec.height
        gen.image_count = spec.count
        gen.size_preset = spec.size_preset
        gen.cfg_rescale = spec.cfg_rescale
        if spec.denoise_strength is not None and gen.reference_image_urls:
            gen.denoise_strength = spec.denoise_strength
        gen.requested_seed = spec.seed
        gen.character_id = spec.character_id
    ctx.team.generations[gen.id] = gen
    ctx.state.pending[gen.id] = gen
    ctx.state.owners[gen.id] = ctx.team.id
    return gen
