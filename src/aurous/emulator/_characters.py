"""Characters (spec/openapi.yaml, ``characters_*`` operations): uploads, rows, refs and synthesis
runs.

A synthesis run (create with ``generate: true``, resynthesize, refs/regenerate) is scheduled on
the emulator clock and finished by :func:`tick_characters` at its scheduled time, like a
generation. Its outcome is decided when it starts: a ``[fail]``, ``[moderate]`` or ``[timeout]``
marker in the name or an attribute value makes it fail with the matching ``error_message``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import TYPE_CHECKING, Any

from ._clock import format_timestamp
from ._errors import invalid_format, missing_field, out_of_range
from ._media import output_png, sniff_image
from ._validation import read_int, read_str

if TYPE_CHECKING:
    from ._core import Core
    from ._state import Team

__all__ = [
    "ATTRIBUTE_KEYS",
    "CHARACTERS",
    "EXTENSION_TYPES",
    "POSES",
    "SYNTH_POSES",
    "UPLOADS",
    "Character",
    "CharacterUpload",
    "Ref",
    "SynthesisRun",
    "classify",
    "finish_run",
    "read_attributes",
    "ref_bytes",
    "render_character",
    "start_run",
    "synthesis_outcome",
    "tick_characters",
]

CHARACTERS = "characters"
"""Team collection of :class:`Character` rows."""
UPLOADS = "character_uploads"
"""Team collection of :class:`CharacterUpload` tickets."""

POSES = ("portrait", "front", "side", "back", "other")
SYNTH_POSES = ("portrait", "front", "side", "back")
EXTENSION_TYPES = {
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}
ATTRIBUTE_KEYS = (
    "gender",
    "age",
    "ethnicity",
    "hair_color",
    "hair_style",
    "eye_color",
    "body_type",
    "additional_details",
)
UPLOAD_URL_TTL = 15 * 60.0
UPLOAD_TTL = 24 * 3600.0
REF_URL_TTL = 24 * 3600.0
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
_PENDING = "character_runs"
"""``core.extensions`` key: character id -> :class:`Character` with a run in progress."""

# Name/attribute markers that script a failed synthesis, and the error_message they produce.
FAILURE_MARKERS = {
    "[fail]": "synthesis_failed",
    "[moderate]": "output_moderation_rejected",
    "[timeout]": "provider_timeout",
}


@dataclasses.dataclass
class CharacterUpload:
    """An upload ticket and, once PUT, its bytes (and the classified pose)."""

    id: str
    team_id: str
    filename: str
    content_type: str
    created_at: float
    url_expires_at: float
    expires_at: float
    data: bytes | None = None
    pose: str | None = None
    confidence: float | None = None
    consumed: bool = False

    def usable(self, now: float) -> bool:
        """Not expired, not consumed, and holding a decodable image of the declared type."""
        if self.consumed or now >= self.expires_at or self.data is None:
            return False
        info = sniff_image(self.data)
        return info is not None and info.mime_type == self.content_type


@dataclasses.dataclass(frozen=True)
class Ref:
    """One reference image. ``data`` is None for synthesized refs (rendered on demand)."""

    pose: str
    key: str
    mime_type: str = "image/png"
    data: bytes | None = None


@dataclasses.dataclass
class SynthesisRun:
    """A synthesis in progress: all four poses (``pose`` None) or one regenerated pose."""

    pose: str | None
    finish_at: float
    error: str | None


@dataclasses.dataclass
class Character:
    """A character row. ``status`` is ``deleted`` once soft-deleted."""

    id: str
    team_id: str
    name: str
    status: str
    created_at: float
    updated_at: float
    attributes: dict[str, Any]
    client_reference_id: str | None
    aurous_version: str
    refs: list[Ref] = dataclasses.field(default_factory=list)
    error_message: str | None = None
    run: SynthesisRun | None = None
    archive: dict[str, Ref] = dataclasses.field(default_factory=dict)
    """Every ref ever made, by key, so URLs handed out earlier keep serving until they expire."""

    @property
    def deleted(self) -> bool:
        """Soft-deleted: hidden from list and GET, refused as ``character_id``."""
        return self.status == "deleted"

    def add_ref(self, ref: Ref) -> Ref:
        """Remember ``ref`` for its URL (the caller places it in ``refs``)."""
        self.archive[ref.key] = ref
        return ref


# ----------------------------------------------------------------------------- validation
def read_attributes(body: dict[str, Any], *, required: bool) -> dict[str, Any] | None:
    """``attributes``: fixed key whitelist (unknown key → ``invalid_format``), ``age`` an
    integer, the rest strings."""
    value = body.get("attributes")
    if value is None:
        if required:
            raise missing_field("attributes")
        return None
    if not isinstance(value, dict):
        raise invalid_format("attributes", "attributes must be an object.")
    for key in value:
        if key not in ATTRIBUTE_KEYS:
            raise invalid_format(
                f"attributes.{key}",
                f"Unknown attribute {key!r}. Allowed: {', '.join(ATTRIBUTE_KEYS)}.",
            )
    result: dict[str, Any] = {}
    for key, item in value.items():
        if item is None:  # null reads as "not given", like a missing key
            continue
        param = f"attributes.{key}"
        if key == "age":
            result[key] = read_int(value, key, lo=0, hi=150, param=param, required=True)
        else:
            result[key] = read_str(value, key, param=param, required=True, min_len=0)
    if required and not result:
        raise out_of_range("attributes", "attributes must have at least one key.")
    return result


def synthesis_outcome(name: str, attributes: dict[str, Any]) -> str | None:
    """The ``error_message`` a run will end with, or None when it will succeed."""
    texts = [name, *(str(v) for v in attributes.values() if isinstance(v, str))]
    lowered = " ".join(texts).lower()
    for marker, error in FAILURE_MARKERS.items():
        if marker in lowered:
            return error
    return None


def classify(data: bytes) -> tuple[str, float]:
    """Deterministic pose and confidence for uploaded bytes (an implementation detail)."""
    digest = hashlib.sha256(data).digest()
    pose = POSES[digest[0] % len(POSES)]
    confidence = round(0.55 + (digest[1] / 255) * 0.44, 2)
    return pose, confidence


# ----------------------------------------------------------------------------- rendering
def ref_path(character_id: str, key: str) -> str:
    """Path of a ref's proxy URL."""
    return f"/storage/characters/{character_id}/{key}"


def ref_url(core: Core, base_url: str, character_id: str, key: str, now: float) -> str:
    """An opaque signed URL serving a ref, valid :data:`REF_URL_TTL` seconds."""
    path = ref_path(character_id, key)
    expires = str(int(now + REF_URL_TTL))
    return f"{base_url}{path}?expires={expires}&signature={core.sign_path(path, expires)}"


def render_character(core: Core, char: Character, base_url: str, now: float) -> dict[str, Any]:
    """The character object (spec/openapi.yaml, schema ``Character``) with freshly signed ref
    URLs."""
    return {
        "id": char.id,
        "object": "character",
        "name": char.name,
        "status": char.status,
        "refs": [
            {"pose": ref.pose, "url": ref_url(core, base_url, char.id, ref.key, now)}
            for ref in char.refs
        ],
        "created_at": format_timestamp(char.created_at),
        "updated_at": format_timestamp(char.updated_at),
        "attributes": dict(char.attributes),
        "error_message": char.error_message,
        "client_reference_id": char.client_reference_id,
        "aurous_version": char.aurous_version,
    }


def ref_bytes(char: Character, ref: Ref, long_side: int) -> bytes:
    """What a ref URL serves: the uploaded bytes, or a deterministic portrait-shaped PNG."""
    if ref.data is not None:
        return ref.data
    seed = int.from_bytes(hashlib.sha256(ref.key.encode()).digest()[:4], "big")
    return output_png(f"{char.name}\x00{ref.pose}", seed, 0, 768, 1024, long_side)


# ----------------------------------------------------------------------------- lifecycle
def pending_runs(core: Core) -> dict[str, Character]:
    """Characters with a synthesis in progress, across teams."""
    runs: dict[str, Character] = core.extensions.setdefault(_PENDING, {})
    return runs


def start_run(core: Core, char: Character, pose: str | None, now: float) -> None:
    """Move ``char`` to ``synthesizing`` with a run ending after the configured duration."""
    config = core.config
    duration = 0.0 if config.instant else config.character_synthesis_seconds / config.speed
    char.run = SynthesisRun(pose, now + duration, synthesis_outcome(char.name, char.attributes))
    char.status = "synthesizing"
    char.error_message = None
    char.updated_at = now
    pending_runs(core)[char.id] = char


def cancel_run(core: Core, char: Character) -> None:
    """Forget a run (soft delete while synthesizing)."""
    char.run = None
    pending_runs(core).pop(char.id, None)


def _new_ref(core: Core, char: Character, pose: str) -> Ref:
    return char.add_ref(Ref(pose, f"{pose}-{core.ids.token(16)}.png"))


def finish_run(core: Core, team: Team, char: Character, at: float) -> None:
    """End the run at ``at``: ``ready`` with new refs (``character.completed``) or ``failed``
    (``character.failed``)."""
    run = char.run
    if run is None:
        return
    cancel_run(core, char)
    char.updated_at = at
    if run.error is not None:
        char.status = "failed"
        char.error_message = run.error
        event = "character.failed"
    else:
        if run.pose is None:
            char.refs = [_new_ref(core, char, pose) for pose in SYNTH_POSES]
        else:
            fresh = _new_ref(core, char, run.pose)
            slot = next((i for i, ref in enumerate(char.refs) if ref.pose == run.pose), None)
            kept = [ref for ref in char.refs if ref.pose != run.pose]
            if slot is None:
                kept.append(fresh)
            else:
                kept.insert(slot, fresh)
            char.refs = kept
        char.status = "ready"
        char.error_message = None
        event = "character.completed"
    core.emit_event(team, event, render_character(core, char, core.public_base_url, at), at)


def tick_characters(core: Core, now: float) -> None:
    """Finish every run due by ``now``, in time order, at its scheduled time."""
    runs = pending_runs(core)
    due = [c for c in runs.values() if c.run is not None and c.run.finish_at <= now]
    for char in sorted(due, key=lambda c: (c.run.finish_at if c.run else 0.0, c.id)):
        run = char.run
        if run is None:
            continue
        finish_run(core, core.state.teams[char.team_id], char, run.finish_at)
