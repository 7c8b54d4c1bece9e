"""``aurous generate`` (images) and ``aurous video``: create, wait, download, report."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from ...types import Generation
from ...types.literals import ImageSize, VideoRatio, VideoResolution
from .. import _format
from .._context import Context
from .._errors import UsageError
from .._parser import bounded_int
from .._timings import add_timings_option, show_timings, start_timings, with_timings
from ._shared import add_wait_options, download, ensure_succeeded, resolve_input, wait_for

if TYPE_CHECKING:
    from ..._timings import Timings

__all__ = ["image_params", "lora_params", "register", "spent_line"]

IMAGE_SIZES = get_args(ImageSize)
VIDEO_RESOLUTIONS = get_args(VideoResolution)
VIDEO_RATIOS = get_args(VideoRatio)


def lora_params(values: list[str] | None) -> dict[str, Any]:
    """``--lora`` values as request fields: one plain id → ``lora_id``; else a ``loras`` stack.

    ``ID:WEIGHT`` sets a weight (0–2) and implies the stacked form.
    """
    if not values:
        return {}
    if len(values) == 1 and ":" not in values[0]:
        return {"lora_id": values[0]}
    stack: list[dict[str, Any]] = []
    for value in values:
        lora, sep, weight = value.rpartition(":") if ":" in value else (value, "", "")
        entry: dict[str, Any] = {"lora": lora}
        if sep:
            try:
                entry["weight"] = float(weight)
            except ValueError:
                raise UsageError(f"--lora {value}: the weight after ':' must be a number") from None
        stack.append(entry)
    return {"loras": stack}


def add_image_options(parser: argparse.ArgumentParser, *, prompt_required: bool = True) -> None:
    """Options shared by ``generate`` and ``estimate`` (the image create body).

    ``estimate`` makes the prompt optional: a video can be priced from a first frame alone.
    """
    if prompt_required:
        parser.add_argument("prompt", help="what to generate")
    else:
        parser.add_argument(
            "prompt", nargs="?", help="what to generate (a video may give --first-frame instead)"
        )
    parser.add_argument(
        "--size",
        choices=IMAGE_SIZES,
        metavar="PRESET",
        help="size preset: " + ", ".join(IMAGE_SIZES) + " (default 2k_1_1)",
    )
    parser.add_argument(
        "--count",
        "-n",
        type=bounded_int(1, 4),
        metavar="N",
        help="number of images, 1-4 (default 1)",
    )
    parser.add_argument(
        "--lora",
        action="append",
        metavar="ID",
        help="LoRA id or slug; repeat to stack, ID:WEIGHT to weight it",
    )
    parser.add_argument("--seed", type=bounded_int(0, 4294967295), metavar="N", help="seed")
    parser.add_argument("--negative", metavar="TEXT", help="negative prompt: what to avoid")
    parser.add_argument(
        "--enhance",
        action="store_true",
        default=None,
        help="let the API rewrite the prompt (costs more)",
    )


def image_params(args: argparse.Namespace) -> dict[str, Any]:
    """The image create/estimate body from parsed options (unset options are left out)."""
    params: dict[str, Any] = {
        "prompt": args.prompt,
        "size": args.size,
        "count": args.count,
        "seed": args.seed,
        "negative_prompt": args.negative,
        "enhance_prompt": args.enhance,
        **lora_params(args.lora),
    }
    return {key: value for key, value in params.items() if value is not None}


def _register_generate(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "generate",
        parents=[common],
        help="generate images and download them",
        description="Create an image generation, wait for it with a live status, download the "
        "images to --out and print their paths, the cost and the request id.",
    )
    add_image_options(parser)
    parser.add_argument(
        "--reference",
        action="append",
        metavar="FILE|URL",
        help="reference image: a local file (uploaded), a file_… id or a URL; repeatable",
    )
    parser.add_argument(
        "--out",
        "-o",
        default=".",
        metavar="DIR",
        help="directory for the images (default: current directory)",
    )
    parser.add_argument(
        "--no-wait", action="store_true", help="print the generation id and exit without waiting"
    )
    add_wait_options(parser)
    add_timings_option(parser)
    parser.set_defaults(handler=run_generate)


def _register_video(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "video",
        parents=[common],
        help="generate a video and download it",
        description="Create a video generation (text-to-video, or image-to-video with "
        "--first-frame), wait for it and download the MP4 to --out.",
    )
    parser.add_argument("prompt", nargs="?", help="what to generate (optional with --first-frame)")
    parser.add_argument(
        "--lora",
        required=True,
        metavar="ID",
        help="video LoRA (model) id or slug, see 'aurous loras --video'",
    )
    parser.add_argument("--resolution", choices=VIDEO_RESOLUTIONS, help="default: the model's")
    parser.add_argument("--ratio", choices=VIDEO_RATIOS, help="aspect ratio; default: the model's")
    parser.add_argument(
        "--duration",
        type=bounded_int(2, 12),
        metavar="N",
        help="seconds, 2-12; default: the model's",
    )
    parser.add_argument("--seed", type=bounded_int(-1, 4294967295), metavar="N", help="seed")
    parser.add_argument(
        "--camera-fixed", action="store_true", default=None, help="keep the camera still"
    )
    parser.add_argument(
        "--first-frame",
        metavar="FILE|URL",
        help="first frame: a local image (uploaded), a file_… id or a URL",
    )
    parser.add_argument(
        "--last-frame",
        metavar="FILE|URL",
        help="last frame to interpolate to (needs --first-frame)",
    )
    parser.add_argument(
        "--out",
        "-o",
        default=".",
        metavar="DIR",
        help="directory for the video (default: current directory)",
    )
    parser.add_argument(
        "--no-wait", action="store_true", help="print the generation id and exit without waiting"
    )
    add_wait_options(parser)
    add_timings_option(parser)
    parser.set_defaults(handler=run_video)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``generate`` and ``video``."""
    _register_generate(sub, common)
    _register_video(sub, common)


def _finish(
    ctx: Context, args: argparse.Namespace, created: Generation, timings: Timings | None
) -> int:
    """Report the created row, then (unless ``--no-wait``) wait, download and summarise."""
    out = ctx.out
    started = time.monotonic()
    request_id = created._request_id or created.creation_request_id
    out.info(
        f"Created {created.id} ({created.status}, {_format.cost(created.cost)} held)"
        f" request id {request_id}"
    )
    if args.no_wait:
        out.result(created.id)
        out.json(with_timings({"generation": created.to_dict(), "request_id": request_id}, timings))
        show_timings(out, timings)
        return 0
    final = wait_for(ctx, args, created)
    if not final.is_succeeded:
        out.info(spent_line(created, final))
        show_timings(out, timings)
    ensure_succeeded(final)
    paths = download(ctx, final, args.out)
    for path in paths:
        out.result(str(path))
    took = _format.elapsed(time.monotonic() - started)
    noun = "file" if len(paths) == 1 else "files"
    out.info(
        f"Done in {took}: {len(paths)} {noun} in {Path(args.out)}"
        f" · cost {_format.cost(final.cost)} · request id {request_id}"
    )
    out.info(spent_line(created, final))
    out.json(
        with_timings(
            {
                "generation": final.to_dict(),
                "paths": [str(path) for path in paths],
                "cost": final.cost.to_dict() if final.cost is not None else None,
                "spent": final.cost.amount if final.cost is not None else None,
                "request_id": request_id,
            },
            timings,
        )
    )
    show_timings(out, timings)
    return 0


def spent_line(created: Generation, final: Generation) -> str:
    """What a generation cost, once it ended: its charge, or the hold given back."""
    unit = final.cost.currency if final.cost is not None else None
    if final.is_succeeded:
        return f"Spent: {_format.amount(final.cost.amount if final.cost else None, unit)}."
    held = created.cost.amount if created.cost is not None else None
    given_back = f"; its hold of {_format.amount(held, unit)} was released" if held else ""
    return f"Spent: {_format.amount(0, unit)} (the generation ended {final.status}{given_back})."


def run_generate(ctx: Context, args: argparse.Namespace) -> int:
    """Create an image generation, wait for it and download the images."""
    params = image_params(args)
    timings = start_timings(ctx, args)  # before any upload: it is the command's time too
    if args.reference:
        params["reference_image_urls"] = [
            resolve_input(ctx, ref, purpose="reference", option="--reference")
            for ref in args.reference
        ]
    created = ctx.client().images.create(**params)
    return _finish(ctx, args, created, timings)


def run_video(ctx: Context, args: argparse.Namespace) -> int:
    """Create a video generation (uploading local frames first), wait and download it."""
    if args.prompt is None and args.first_frame is None:
        raise UsageError("a video needs a PROMPT, --first-frame, or both")
    if args.last_frame is not None and args.first_frame is None:
        raise UsageError("--last-frame needs --first-frame")
    params: dict[str, Any] = {
        "video_lora_id": args.lora,
        "prompt": args.prompt,
        "resolution": args.resolution,
        "ratio": args.ratio,
        "duration": args.duration,
        "seed": args.seed,
        "camera_fixed": args.camera_fixed,
    }
    timings = start_timings(ctx, args)
    if args.first_frame is not None:
        params["first_frame_url"] = resolve_input(
            ctx, args.first_frame, purpose="first_frame", option="--first-frame"
        )
    if args.last_frame is not None:
        params["last_frame_url"] = resolve_input(
            ctx, args.last_frame, purpose="last_frame", option="--last-frame"
        )
    body = {key: value for key, value in params.items() if value is not None}
    created = ctx.client().videos.create(**body)
    return _finish(ctx, args, created, timings)
