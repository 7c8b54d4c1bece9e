"""``aurous batch FILE``: many generations from a file, with progress, resume and a summary."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _format
from .._context import Context
from .._errors import CommandFailed, UsageError
from .._output import Column, Table
from .._parser import bounded_int
from .._progress import BatchDisplay
from ._shared import Interrupted, add_wait_options, poll_intervals
from .generate import IMAGE_SIZES, lora_params

if TYPE_CHECKING:
    from ... import BatchResult

__all__ = ["read_requests", "register"]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``batch``."""
    p = sub.add_parser(
        "batch",
        parents=[common],
        help="generate many images from a file of prompts",
        description="Run one image generation per line of FILE ('-' reads stdin). A line is "
        "either a prompt or a JSON object of create parameters, e.g. "
        '{"prompt": "a fox", "size": "2k_16_9", "count": 2}. Empty lines and lines starting '
        "with '#' are skipped. With --manifest the run is resumable: run the same command "
        "again and finished items are skipped while interrupted ones resume without being "
        "billed twice.",
    )
    p.add_argument("file", help="prompts, one per line, or JSONL create parameters")
    p.add_argument(
        "--concurrency",
        "-c",
        type=bounded_int(1, 64),
        default=8,
        metavar="N",
        help="generations in flight at once (default: 8)",
    )
    p.add_argument(
        "--out",
        "-o",
        default=".",
        metavar="DIR",
        help="directory for the images (default: current directory)",
    )
    p.add_argument("--no-download", action="store_true", help="do not download the outputs")
    p.add_argument(
        "--manifest",
        metavar="PATH",
        help="JSONL manifest that makes the run resumable (e.g. run.jsonl)",
    )
    p.add_argument(
        "--size",
        choices=IMAGE_SIZES,
        metavar="PRESET",
        help="default size preset for lines that set none",
    )
    p.add_argument(
        "--count",
        "-n",
        type=bounded_int(1, 4),
        metavar="N",
        help="default number of images per line",
    )
    p.add_argument(
        "--lora",
        action="append",
        metavar="ID",
        help="default LoRA for lines that set none (repeatable, ID:WEIGHT)",
    )
    add_wait_options(p)
    p.set_defaults(handler=run_batch)


def read_requests(lines: Sequence[str], source: str) -> list[str | dict[str, Any]]:
    """Parse the batch file: a prompt per line, or a JSON object (detected per line).

    Raises `UsageError` naming the line of the first malformed entry.
    """
    requests: list[str | dict[str, Any]] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("{"):
            requests.append(line)
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise UsageError(f"{source}:{number}: not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise UsageError(f"{source}:{number}: a JSON line must be an object")
        if not isinstance(value.get("prompt"), str) or not value["prompt"].strip():
            raise UsageError(f'{source}:{number}: the JSON object needs a non-empty "prompt"')
        requests.append(value)
    return requests


def _load(path: str) -> list[str | dict[str, Any]]:
    if path == "-":
        return read_requests(sys.stdin.read().splitlines(), "<stdin>")
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a UTF-8 text file") from None
    return read_requests(text.splitlines(), path)


def _with_defaults(
    requests: list[str | dict[str, Any]], args: argparse.Namespace
) -> list[str | dict[str, Any]]:
    defaults: dict[str, Any] = {"size": args.size, "count": args.count}
    defaults = {key: value for key, value in defaults.items() if value is not None}
    defaults.update(lora_params(args.lora))
    if not defaults:
        return requests
    merged: list[str | dict[str, Any]] = []
    for request in requests:
        body = {"prompt": request} if isinstance(request, str) else dict(request)
        for key, value in defaults.items():
            # A line that sets its own LoRA (either form) keeps it.
            if key in ("lora_id", "loras") and ("lora_id" in body or "loras" in body):
                continue
            body.setdefault(key, value)
        merged.append(body)
    return merged


def _describe_error(result: BatchResult) -> str:
    if result.error is not None:
        return str(result.error)
    generation = result.generation
    if generation is None:
        return "no generation"
    reason = f": {generation.error_message}" if generation.error_message else ""
    return f"{generation.id} {generation.status}{reason}"


def _result_json(result: BatchResult) -> dict[str, Any]:
    generation = result.generation
    error: dict[str, Any] | None = None
    if result.error is not None:
        error = {
            "type": type(result.error).__name__,
            "code": getattr(result.error, "code", None),
            "message": str(result.error),
            "request_id": getattr(result.error, "request_id", None),
        }
    return {
        "index": result.index,
        "ok": result.ok,
        "skipped": result.skipped,
        "request": result.request,
        "idempotency_key": result.idempotency_key,
        "id": generation.id if generation is not None else None,
        "status": generation.status if generation is not None else None,
        "cost": generation.cost.to_dict() if generation and generation.cost else None,
        "paths": [str(path) for path in result.paths],
        "error": error,
    }


def _summary(ctx: Context, results: list[BatchResult]) -> dict[str, Any]:
    ok = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    skipped = sum(1 for r in ok if r.skipped)
    credits = sum(
        float(r.generation.cost.amount)
        for r in ok
        if not r.skipped and r.generation is not None and r.generation.cost is not None
    )
    files = sum(len(r.paths) for r in results)
    summary = {
        "total": len(results),
        "succeeded": len(ok),
        "failed": len(failed),
        "skipped": skipped,
        "files": files,
        "credits": credits,
    }
    table = Table("Batch summary", [Column("result"), Column("count", numeric=True)])
    table.add("succeeded", len(ok) - skipped)
    table.add("already done (resumed)", skipped)
    table.add("failed", len(failed))
    table.add("files downloaded", files)
    table.add("credits charged (this run)", _format.number(credits))
    ctx.out.table(table)
    if failed:
        failures = Table("Failures", [Column("#", numeric=True), Column("prompt"), Column("error")])
        for result in failed:
            prompt = _format.shorten(str(result.request.get("prompt") or ""), 40)
            failures.add(result.index + 1, prompt, _describe_error(result))
        ctx.out.table(failures)
    return summary


def run_batch(ctx: Context, args: argparse.Namespace) -> int:
    """Run the batch and print the summary; exit 1 if any item failed."""
    requests = _with_defaults(_load(args.file), args)
    if not requests:
        raise UsageError(f"{args.file} holds no prompts")
    client = ctx.client()
    ctx.out.info(
        f"Batch of {len(requests)} with concurrency {args.concurrency}"
        + (f", manifest {args.manifest}" if args.manifest else "")
    )
    first, longest = poll_intervals(ctx, args)
    display = BatchDisplay(ctx.out, len(requests))
    try:
        with display:
            results: list[BatchResult] = client.images.batch(
                requests,
                concurrency=args.concurrency,
                manifest=args.manifest,
                on_progress=display.update,
                download_to=None if args.no_download else args.out,
                wait_timeout=args.timeout,
                poll_interval=first,
                max_poll_interval=longest,
            )
    except KeyboardInterrupt:
        hint = (
            f"; run the same command again to resume from {args.manifest}"
            if args.manifest
            else "; add --manifest next time to make a run resumable"
        )
        raise Interrupted(f"Interrupted: batch stopped{hint}") from None
    summary = _summary(ctx, results)
    ctx.out.json({"summary": summary, "results": [_result_json(r) for r in results]})
    if summary["failed"]:
        raise CommandFailed(
            f"{summary['failed']} of {summary['total']} generations failed",
            details={"summary": summary},
        )
    return 0
