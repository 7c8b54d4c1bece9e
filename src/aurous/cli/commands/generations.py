"""Commands on existing generations: ``wait``, ``download``, ``cancel``, ``get``, ``list``,
and ``estimate`` (pricing a generation without creating it)."""

from __future__ import annotations

import argparse
import itertools
from typing import Any, get_args

from ...types import Estimate, Generation
from ...types.literals import VideoResolution
from .. import _format
from .._context import Context
from .._errors import CommandFailed, UsageError
from .._output import Column, Table
from .._parser import bounded_int
from .._timings import add_timings_option, show_timings, start_timings, with_timings
from ._shared import (
    add_wait_options,
    download,
    ensure_succeeded,
    generation_table,
    namespace_for,
    wait_for,
)
from .generate import add_image_options, image_params

__all__ = ["register"]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``wait``, ``download``, ``cancel``, ``get``, ``list`` and ``estimate``."""
    p = sub.add_parser(
        "wait",
        parents=[common],
        help="wait for a generation to finish",
        description="Wait until a generation is terminal; exit 1 unless it succeeded.",
    )
    p.add_argument("id", help="generation id (img_… or vid_…)")
    add_wait_options(p)
    add_timings_option(p)
    p.set_defaults(handler=run_wait)

    p = sub.add_parser(
        "download",
        parents=[common],
        help="download a generation's outputs",
        description="Download every output of a succeeded generation.",
    )
    p.add_argument("id", help="generation id (img_… or vid_…)")
    p.add_argument(
        "--out",
        "-o",
        default=".",
        metavar="DIR",
        help="directory (or file name, for one output); default: current directory",
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing files")
    p.set_defaults(handler=run_download)

    p = sub.add_parser("cancel", parents=[common], help="cancel a running generation")
    p.add_argument("id", help="generation id (img_… or vid_…)")
    p.set_defaults(handler=run_cancel)

    p = sub.add_parser("get", parents=[common], help="show a generation")
    p.add_argument("id", help="generation id (img_… or vid_…)")
    p.set_defaults(handler=run_get)

    p = sub.add_parser("list", parents=[common], help="list recent generations, newest first")
    p.add_argument(
        "--limit",
        type=bounded_int(1),
        default=20,
        metavar="N",
        help="how many to show (default: 20)",
    )
    p.set_defaults(handler=run_list)

    p = sub.add_parser(
        "estimate",
        parents=[common],
        help="price a generation without creating it",
        description="Price an image generation (or a video one, with --video-lora) exactly as "
        "the API would charge it. Nothing is created, uploaded or held. A video's price depends "
        "only on its LoRA, resolution and duration, but the API accepts a video only with a "
        "PROMPT or a first frame, so give one of them.",
    )
    add_image_options(p, prompt_required=False)
    video = p.add_argument_group("video estimates")
    video.add_argument("--video-lora", metavar="ID", help="estimate a video with this video LoRA")
    video.add_argument("--resolution", choices=get_args(VideoResolution), help="video resolution")
    video.add_argument("--duration", type=bounded_int(2, 12), metavar="N", help="video seconds")
    video.add_argument(
        "--first-frame",
        metavar="FILE_ID|URL",
        help="the first frame, instead of or with a PROMPT: a file_… id or an https:// URL",
    )
    p.set_defaults(handler=run_estimate)


def _show(ctx: Context, generation: Generation) -> None:
    ctx.out.table(generation_table(generation))
    ctx.out.json(generation.to_dict())


def run_wait(ctx: Context, args: argparse.Namespace) -> int:
    """Wait for a generation; exit 1 unless it succeeded."""
    timings = start_timings(ctx, args)
    final = wait_for(ctx, args, args.id)
    ctx.out.result(_format.generation_summary(final))
    ctx.out.json(with_timings(final.to_dict(), timings))
    show_timings(ctx.out, timings)
    ensure_succeeded(final)
    return 0


def run_download(ctx: Context, args: argparse.Namespace) -> int:
    """Download the outputs and print their paths."""
    try:
        paths = download(ctx, args.id, args.out, overwrite=args.overwrite)
    except FileExistsError as exc:
        raise CommandFailed(
            f"{exc.filename or exc} already exists (add --overwrite to replace it)"
        ) from None
    for path in paths:
        ctx.out.result(str(path))
    ctx.out.json({"id": args.id, "paths": [str(path) for path in paths]})
    return 0


def run_cancel(ctx: Context, args: argparse.Namespace) -> int:
    """Cancel a generation and show its new state."""
    generation = namespace_for(ctx, args.id).cancel(args.id)
    ctx.out.result(_format.generation_summary(generation))
    ctx.out.json(generation.to_dict())
    return 0


def run_get(ctx: Context, args: argparse.Namespace) -> int:
    """Show one generation."""
    _show(ctx, namespace_for(ctx, args.id).retrieve(args.id))
    return 0


def run_list(ctx: Context, args: argparse.Namespace) -> int:
    """List the newest generations."""
    pager = ctx.client().images.list(limit=min(args.limit, 100))
    rows: list[Generation] = list(itertools.islice(pager, args.limit))
    table = Table(
        None,
        [
            Column("id"),
            Column("status"),
            Column("type"),
            Column("created"),
            Column("cost", numeric=True),
            Column("prompt"),
        ],
    )
    for g in rows:
        cost = _format.number(g.cost.amount) if g.cost is not None else "-"
        table.add(
            g.id,
            g.status,
            g.kind or "-",
            _format.timestamp(g.created_at),
            cost,
            _format.shorten(g.prompt, 40),
        )
    if rows:
        ctx.out.table(table)
    else:
        ctx.out.info("No generations yet.")
    ctx.out.json([g.to_dict() for g in rows])
    return 0


_IMAGE_ONLY = {"size": "--size", "count": "--count", "lora": "--lora", "negative": "--negative"}
_VIDEO_ONLY = {
    "resolution": "--resolution",
    "duration": "--duration",
    "first_frame": "--first-frame",
}


def _given(args: argparse.Namespace, options: dict[str, str]) -> str:
    return ", ".join(flag for dest, flag in options.items() if getattr(args, dest) is not None)


def _video_estimate(args: argparse.Namespace) -> dict[str, Any]:
    """The video estimate body; checked here so errors name the options, not the API fields."""
    if stray := _given(args, _IMAGE_ONLY):
        raise UsageError(f"{stray}: only for image estimates, not with --video-lora")
    if args.prompt is None and args.first_frame is None:
        raise UsageError(
            "a video estimate needs a PROMPT or --first-frame: the API accepts a video only "
            "with one of them (the price is the same either way)"
        )
    frame = args.first_frame
    if frame is not None and not frame.startswith(("file_", "https://", "http://")):
        raise UsageError(
            f"--first-frame {frame}: give a file_… id or an https:// URL (an estimate uploads "
            "nothing; 'aurous video' uploads local frames)"
        )
    body = {
        "video_lora_id": args.video_lora,
        "prompt": args.prompt,
        "first_frame_url": frame,
        "resolution": args.resolution,
        "duration": args.duration,
        "seed": args.seed,
        "enhance_prompt": args.enhance,
    }
    return {key: value for key, value in body.items() if value is not None}


def run_estimate(ctx: Context, args: argparse.Namespace) -> int:
    """Show what a generation would cost."""
    estimate: Estimate
    if args.video_lora is not None:
        body = _video_estimate(args)
        estimate = ctx.client().videos.estimate(**body)
    else:
        if stray := _given(args, _VIDEO_ONLY):
            raise UsageError(f"{stray}: only for video estimates, which need --video-lora ID")
        if args.prompt is None:
            raise UsageError("an image estimate needs a PROMPT (or add --video-lora ID)")
        estimate = ctx.client().images.estimate(**image_params(args))
    cost = estimate.estimated_cost
    rows: list[tuple[str, Any]] = [("estimated cost", _format.amount(cost.amount, cost.currency))]
    rows.extend((f"  {part}", _format.number(value)) for part, value in cost.breakdown.items())
    ctx.out.table(Table.pairs(None, rows))
    ctx.out.json(estimate.to_dict())
    return 0
