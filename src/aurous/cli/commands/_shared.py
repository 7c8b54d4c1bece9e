"""Steps several commands share: waiting with a live status, downloading, uploading inputs."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ...types import Generation
from ...types.literals import FilePurpose
from .. import _format
from .._context import Context
from .._errors import CommandFailed, UsageError
from .._output import Table
from .._parser import positive_float
from .._progress import StatusDisplay, TransferDisplay

__all__ = [
    "Interrupted",
    "add_wait_options",
    "download",
    "generation_table",
    "namespace_for",
    "poll_intervals",
    "resolve_input",
    "wait_for",
]


class Interrupted(KeyboardInterrupt):
    """Ctrl-C with a one-line explanation of what was left running."""


def add_wait_options(parser: argparse.ArgumentParser) -> None:
    """``--timeout`` and ``--poll-interval``: how long and how often to check a generation."""
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=600.0,
        metavar="SECONDS",
        help="give up waiting after this many seconds (default: 600)",
    )
    parser.add_argument(
        "--poll-interval",
        type=positive_float,
        metavar="SECONDS",
        help="first delay between status checks, growing gently (default: 1, or 0.25 with "
        "--emulator)",
    )


def poll_intervals(ctx: Context, args: argparse.Namespace) -> tuple[float, float]:
    """First and longest delay between status checks."""
    first, longest = ctx.poll_interval
    if args.poll_interval is not None:
        first = args.poll_interval
    return first, max(first, longest)


def namespace_for(ctx: Context, generation_id: str) -> Any:
    """``client.videos`` for ``vid_…`` ids, else ``client.images`` (downloads differ by type)."""
    client = ctx.client()
    return client.videos if generation_id.startswith("vid_") else client.images


def _status_text(generation: Generation) -> str:
    return f"{generation.id} {generation.status}"


def wait_for(ctx: Context, args: argparse.Namespace, generation: Generation | str) -> Generation:
    """Wait until the generation is terminal, showing its status and the time spent.

    ``args`` carries the options of `add_wait_options`.
    """
    gid = generation if isinstance(generation, str) else generation.id
    namespace = namespace_for(ctx, gid)
    first, longest = poll_intervals(ctx, args)
    timeout = args.timeout
    display = StatusDisplay(ctx.out)
    try:
        with display:
            display.set(
                f"{gid} waiting" if isinstance(generation, str) else _status_text(generation)
            )
            final: Generation = namespace.wait(
                generation,
                timeout=timeout,
                poll_interval=first,
                max_poll_interval=longest,
                on_update=lambda g: display.set(_status_text(g)),
            )
            display.set(_status_text(final))
    except KeyboardInterrupt:
        hint = "" if ctx.emulated else f"; it keeps running: resume with 'aurous wait {gid}'"
        raise Interrupted(f"Interrupted while waiting for {gid}{hint}") from None
    return final


def ensure_succeeded(generation: Generation) -> None:
    """Raise `CommandFailed` (exit 1) unless the generation succeeded."""
    if generation.is_succeeded:
        return
    reason = f": {generation.error_message}" if generation.error_message else ""
    raise CommandFailed(
        f"generation {generation.id} ended {generation.status}{reason}"
        f" (request id {generation.creation_request_id})",
        details={
            "generation_id": generation.id,
            "status": generation.status,
            "error_message": generation.error_message,
            "request_id": generation.creation_request_id,
        },
    )


def download(
    ctx: Context, generation: Generation | str, dest: str, *, overwrite: bool = False
) -> list[Path]:
    """Stream every output of the generation into ``dest``, with a byte progress bar."""
    gid = generation if isinstance(generation, str) else generation.id
    namespace = namespace_for(ctx, gid)
    with TransferDisplay(ctx.out, f"downloading {gid}") as display:
        paths: list[Path] = namespace.download(
            generation, dest, overwrite=overwrite, on_progress=display.update
        )
    return paths


def resolve_input(ctx: Context, value: str, *, purpose: FilePurpose, option: str) -> str:
    """A ``file_…`` id or URL as given; a local image is uploaded first and its id returned."""
    if value.startswith(("https://", "http://")):
        return value
    path = Path(value).expanduser()
    if path.is_file():
        uploaded = ctx.client().files.create(file=path, purpose=purpose)
        ctx.out.info(f"Uploaded {path} as {uploaded.id} ({purpose})")
        return str(uploaded.id)
    if value.startswith("file_") and os.sep not in value:
        return value
    raise UsageError(f"{option}: no such file: {value} (give a local image, a file_… id or a URL)")


def generation_table(generation: Generation) -> Table:
    """Every meaningful field of a generation as a two-column table."""
    rows: list[tuple[str, Any]] = [
        ("id", generation.id),
        ("status", generation.status),
        ("type", f"{generation.kind or '-'} ({generation.inference_type})"),
        ("prompt", _format.shorten(generation.prompt, 80)),
    ]
    if generation.negative_prompt:
        rows.append(("negative prompt", _format.shorten(generation.negative_prompt, 80)))
    if generation.width and generation.height:
        preset = f" ({generation.size_preset})" if generation.size_preset else ""
        rows.append(("size", f"{generation.width}x{generation.height}{preset}"))
    if generation.image_count is not None:
        rows.append(("images", generation.image_count))
    if generation.video_duration is not None:
        rows.append(
            (
                "video",
                f"{generation.video_duration}s {generation.video_resolution}"
                f" {generation.video_ratio}",
            )
        )
    if generation.loras:
        rows.append(("loras", ", ".join(f"{lora.name} ({lora.id})" for lora in generation.loras)))
    if generation.seed is not None:
        rows.append(("seed", generation.seed))
    rows.append(("cost", _format.cost(generation.cost)))
    rows.append(("created", _format.timestamp(generation.created_at)))
    rows.append(("completed", _format.timestamp(generation.completed_at)))
    if generation.duration_ms is not None:
        rows.append(("duration", _format.elapsed(generation.duration_ms / 1000)))
    if generation.error_message:
        rows.append(("error", generation.error_message))
    for n, url in enumerate(generation.outputs):
        rows.append((f"output {n}", url))
    rows.append(("request id", generation.creation_request_id))
    return Table.pairs(None, rows)
