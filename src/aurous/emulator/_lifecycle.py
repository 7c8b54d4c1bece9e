"""Rendering generation rows and moving them through their lifecycle to a terminal status."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ._clock import format_timestamp
from ._pricing import cost_object
from ._state import Generation, Team

if TYPE_CHECKING:
    from ._core import Core

__all__ = ["MAX_SEED", "finalize", "render_generation", "tick_generations"]

MAX_SEED = 4294967295


def render_generation(gen: Generation, base_url: str) -> dict[str, Any]:
    """The generation resource exactly as ``GET /v1/images/{id}`` returns it: keys of the other
    media type left out, empty ``reference_image_urls`` / ``loras`` as ``null``."""
    if gen.status == "succeeded" or not gen.is_terminal:
        cost = cost_object(gen.cost_amount, gen.breakdown)
    else:
        cost = cost_object(Decimal(0), {key: Decimal(0) for key in gen.breakdown})
    row: dict[str, Any] = {
        "object": "inference",
        "id": gen.id,
        "status": gen.status,
        "prompt": gen.prompt,
        "created_at": format_timestamp(gen.created_at),
        "media_type": gen.media_type,
    }
    succeeded = gen.status == "succeeded"
    if gen.media_type == "video":
        row["output_video_url"] = (
            f"{base_url}/v1/videos/{gen.id}/output?token={gen.output_token}" if succeeded else None
        )
        row.update(error_message=gen.error_message, duration_ms=gen.duration_ms, cost=cost)
        row.update(
            inference_type=gen.inference_type,
            video_duration=gen.video_duration,
            video_resolution=gen.video_resolution,
            video_ratio=gen.video_ratio,
            video_camera_fixed=gen.video_camera_fixed,
        )
    else:
        row["negative_prompt"] = gen.negative_prompt
        row["output_urls"] = (
            [
                f"{base_url}/v1/images/{gen.id}/output/{n}?token={gen.output_token}"
                for n in range(gen.image_count)
            ]
            if succeeded
            else []
        )
        row.update(
            reference_image_urls=list(gen.reference_image_urls)
            if gen.reference_image_urls
            else None,
            error_message=gen.error_message,
            duration_ms=gen.duration_ms,
            cost=cost,
            width=gen.width,
            height=gen.height,
            image_count=gen.image_count,
            size_preset=gen.size_preset,
            inference_type=gen.inference_type,
        )
        if gen.cfg_rescale is not None:
            row["cfg_rescale"] = gen.cfg_rescale
        if gen.denoise_strength is not None:
            row["denoise_strength"] = gen.denoise_strength
        row["seed"] = gen.seed if succeeded else None
        row["character_id"] = gen.character_id
    row.update(
        loras=[dict(entry) for entry in gen.loras] if gen.loras else None,
        aurous_version=gen.aurous_version,
        creation_request_id=gen.creation_request_id,
        completed_at=format_timestamp(gen.completed_at) if gen.completed_at is not None else None,
    )
    return row


# ----------------------------------------------------------------------------- lifecycle
def _event_suffix(status: str) -> str:
    if status == "succeeded":
        return "completed"
    if status == "cancelled":
        return "cancelled"
    return "failed"  # failed, expired, moderation_rejected and unknown terminal values


def finalize(
    core: Core, team: Team, gen: Generation, status: str, error: str | None, at: float
) -> None:
    """Move ``gen`` to a terminal ``status`` at time ``at``: set the outcome fields, commit or
    release the hold, then emit the event and the ``webhook_url`` callback."""
    gen.status = status
    gen.error_message = error if status not in ("succeeded", "cancelled") else None
    gen.completed_at = at
    gen.duration_ms = max(0, round((at - gen.created_at) * 1000))
    if status == "succeeded":
        gen.seed = (
            gen.requested_seed
            if gen.requested_seed is not None
            else core.ids.randbelow(MAX_SEED + 1)
        )
        if gen.media_type == "video":
            gen.seed = None  # video rows have no seed
        team.commit(gen.held)
        if gen.held:
            core.after_debit(team, at)
    else:
        team.release(gen.held)
    core.state.pending.pop(gen.id, None)
    event = f"{gen.media_type}.{_event_suffix(status)}"
    data = render_generation(gen, core.public_base_url)
    core.emit_event(team, event, data, at)
    if gen.webhook_url and status != "cancelled":
        core.emit_callback(team, gen.webhook_url, event, data, at)


def tick_generations(core: Core, now: float) -> None:
    """Apply every transition due by ``now``, in time order, at its scheduled time."""
    state = core.state
    due = [gen for gen in state.pending.values() if gen.processing_at <= now]
    for gen in sorted(due, key=lambda g: (g.terminal_at, g.id)):
        if gen.is_terminal:
            continue
        if gen.status == "pending" and gen.processing_at <= now:
            gen.status = "processing"
        if gen.terminal_at <= now:
            team = state.teams[state.owners[gen.id]]
            forced = core.faults.take_forced_outcome(gen.id)
            status, error = (
                forced if forced is not None else (gen.planned_status, gen.planned_error)
            )
            finalize(core, team, gen, status, error, gen.terminal_at)
