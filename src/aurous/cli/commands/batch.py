"""``aurous batch FILE``: many generations from a file, with a preview, a credit cap, progress,
resume, a results file and a summary; a thin layer over ``read_requests``, ``estimate_batch``,
``batch`` and ``write_results`` of the SDK."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._batch._files import RequestFileError, RequestList, _result_format, write_results
from ..._batch._requests import UNDOCUMENTED
from .._context import Context
from .._errors import EXIT_USAGE, CommandFailed, UsageError
from .._parser import bounded_int
from .._progress import BatchDisplay
from . import _batch_report as report
from ._batch_input import BadLines, Requests, check_name, load
from ._shared import Interrupted, add_wait_options, poll_intervals
from .generate import IMAGE_SIZES, VIDEO_RATIOS, VIDEO_RESOLUTIONS

if TYPE_CHECKING:
    from ... import BatchProgress, BatchResult

__all__ = ["EXIT_OVER_BUDGET", "register"]

EXIT_OVER_BUDGET = 3
"""``--dry-run``: the balance or ``--max-credits`` does not cover the whole batch."""

_DESCRIPTION = """\
Run one generation per request of FILE ('-' reads stdin), at most --concurrency at a time.

FILE is JSONL (one JSON object of create parameters per line), CSV (a header row of parameter
names, then one request per row) or text (one prompt per line; blank lines and lines starting
with '#' are skipped), told by its extension (.jsonl, .csv, .txt) or --format; stdin is text
unless --format says otherwise. Every line is checked before anything is sent: bad lines are
listed with their numbers (exit code 2).

--dry-run prices the batch and bounds its duration without creating anything (exit code 3 if
the balance or --max-credits does not cover it). It checks every line as the create would
(exit code 2 for bad lines) and names sizes, resolutions and ratios the API does not document;
with --check-remote it also sends each distinct request to the free estimate endpoint, which
refuses what the create would (unknown LoRAs, characters or files, values the API does not
take), so a dry run that says OK means the run will not be refused for its parameters.

--max-credits caps what the batch spends: requests beyond it are not started, and running the
same command again with a larger cap and the same --manifest starts them. With --manifest the run is resumable: after Ctrl-C or a crash,
run the same command again; finished items are skipped and interrupted ones resume without
being billed twice. Exit code 0 when every request succeeded, 1 when some failed or were not
started.

Requests are numbered by their index, from 0 (the first request is index 0), in the progress
lines, the summary, --results, the manifest and --name's {index}."""


def _credits(text: str) -> float:
    """An argparse type: a number of credits, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of credits, got {text!r}") from None
    if not (value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        choices=("jsonl", "csv", "text"),
        help="format of FILE (default: told by its extension; text for stdin)",
    )
    p.add_argument(
        "--video",
        action="store_true",
        help="the requests are videos (videos.create parameters; see the video defaults below)",
    )
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
        help="directory for the downloads (default: current directory)",
    )
    p.add_argument("--no-download", action="store_true", help="do not download the outputs")
    p.add_argument(
        "--name",
        metavar="TEMPLATE",
        help="file name of each download, from {index} (the request's position, from 0), {id} "
        "(the generation id) and {n} (the output's number), e.g. '{index:05d}-{n}'; the "
        "extension is added (default: '{id}-{n}')",
    )
    p.add_argument(
        "--manifest",
        metavar="PATH",
        help="JSONL manifest that makes the run resumable (e.g. run.jsonl)",
    )
    p.add_argument(
        "--max-credits",
        type=_credits,
        metavar="N",
        help="spend at most N credits on the batch (earlier runs of the --manifest included); "
        "requests beyond are not started",
    )
    p.add_argument(
        "--results",
        metavar="PATH",
        help="write one row per request to PATH (.csv or .jsonl): index, status, generation "
        "id, credits, files, error, ...; after Ctrl-C, the requests finished so far",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="check the file and show the price, the balance after and the minimum duration; "
        "create nothing",
    )
    p.add_argument(
        "--check-remote",
        action="store_true",
        help="with --dry-run: have the API check each distinct request (the free estimate "
        "endpoint; paced like any request)",
    )


def _add_defaults(p: argparse.ArgumentParser) -> None:
    image = p.add_argument_group("defaults for image requests that do not set them")
    image.add_argument("--size", choices=IMAGE_SIZES, metavar="PRESET", help="size preset")
    image.add_argument(
        "--count", "-n", type=bounded_int(1, 4), metavar="N", help="images per request, 1-4"
    )
    image.add_argument(
        "--lora",
        action="append",
        metavar="ID",
        help="LoRA (repeatable, ID:WEIGHT); with --video: the video LoRA",
    )
    video = p.add_argument_group("defaults for video requests (with --video)")
    video.add_argument("--video-lora", metavar="ID", help="video LoRA (model) id or slug")
    video.add_argument("--resolution", choices=VIDEO_RESOLUTIONS, help="video resolution")
    video.add_argument("--ratio", choices=VIDEO_RATIOS, help="aspect ratio")
    video.add_argument("--duration", type=bounded_int(2, 12), metavar="N", help="seconds, 2-12")
    video.add_argument(
        "--camera-fixed", action="store_true", default=None, help="keep the camera still"
    )


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``batch``."""
    p = sub.add_parser(
        "batch",
        parents=[common],
        help="generate many images or videos from a file of requests",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", help="requests: .jsonl, .csv or .txt (one prompt per line)")
    _add_run_options(p)
    _add_defaults(p)
    add_wait_options(p)
    p.set_defaults(handler=run_batch)


def _check_results_path(path: str | None) -> None:
    if path is None:
        return
    try:
        _result_format(Path(path), None)
    except ValueError:
        raise UsageError(f"--results {path}: the name must end in .csv or .jsonl") from None


def run_batch(ctx: Context, args: argparse.Namespace) -> int:
    """Check everything the command line names, then preview or run the batch."""
    check_name(args, None)  # a bad template is reported before the file is read
    _check_results_path(args.results)
    if args.check_remote and not args.dry_run:
        raise UsageError("--check-remote checks a batch before it runs: use it with --dry-run")
    try:
        requests = load(args)
    except BadLines as exc:
        return _bad_lines(ctx, exc)
    check_name(args, requests)
    if args.dry_run:
        return _dry_run(ctx, args, requests)
    return _run(ctx, args, requests)


def _bad_lines(ctx: Context, exc: BadLines) -> int:
    """Every bad line (up to the limit), as ``FILE:LINE: problem``; exit code 2."""
    ctx.out.error(f"Error: {exc}; nothing was sent")
    for line, message in exc.errors:
        ctx.out.error(f"{exc.path}:{line}: {message}" if line else f"{exc.path}: {message}")
    if exc.count > len(exc.errors):
        ctx.out.error(f"… and {exc.count - len(exc.errors)} more")
    if any(UNDOCUMENTED in message for _, message in exc.errors):
        ctx.out.error(_UNDOCUMENTED_HINT)
    ctx.out.json(
        {
            "error": {
                "type": "usage",
                "message": f"{exc}; nothing was sent",
                "path": exc.path,
                "count": exc.count,
                "lines": [{"line": line, "message": message} for line, message in exc.errors],
            }
        }
    )
    return EXIT_USAGE


def _namespace(ctx: Context, requests: Requests) -> Any:
    client = ctx.client()
    return client.videos if requests.media == "video" else client.images


_UNDOCUMENTED_HINT = (
    "The API refuses values it does not know. If it has added these since this version of "
    "aurous, 'aurous batch --dry-run --check-remote' asks it."
)
_SERVER_SIDE = (
    "lora_id",
    "loras",
    "video_lora_id",
    "character_id",
    "reference_image_urls",
    "first_frame_url",
    "last_frame_url",
)
"""Fields naming things only the API can check: LoRAs, characters, files and image URLs."""


def _dry_run(ctx: Context, args: argparse.Namespace, requests: Requests) -> int:
    first, longest = poll_intervals(ctx, args)
    listed = RequestList(requests.items, lines=requests.lines, path=requests.path)
    try:
        estimate = _namespace(ctx, requests).estimate_batch(
            listed,
            concurrency=args.concurrency,
            download=not args.no_download,
            poll_interval=first,
            max_poll_interval=longest,
            check_remote=args.check_remote,
        )
    except RequestFileError as exc:
        return _bad_lines(ctx, BadLines(exc.path, exc.errors, exc.count))
    check = report.preview(ctx, estimate, args.max_credits)
    unchecked = 0 if args.check_remote else _server_side(requests)
    ctx.out.json(
        {
            **estimate.to_dict(),
            "check": {**check.to_dict(), "remote": args.check_remote, "unchecked": unchecked},
        }
    )
    if check.ok:
        if args.check_remote:
            ctx.out.info(
                f"OK: {requests.path} is valid (the API accepted every distinct request) and the "
                "batch can run whole."
            )
        elif unchecked:
            ctx.out.info(
                f"OK: {requests.path} passes every local check and the batch can run whole; "
                f"{unchecked} of {len(requests.items)} requests name LoRAs, characters, files or "
                "image URLs only the API can check: add --check-remote to have it check them "
                "(free)."
            )
        else:
            ctx.out.info(f"OK: {requests.path} is valid and the batch can run whole.")
        return 0
    if not check.fits_max_credits:
        ctx.out.warn(
            f"Over budget: the batch needs {estimate.total:g} credits; --max-credits "
            f"{args.max_credits:g} covers {check.within_max_credits} of {estimate.requests} "
            "requests. A run would start those and leave the rest not started."
        )
    if not check.fits_balance:
        ctx.out.warn(
            f"Over budget: the balance covers {estimate.affordable} of {estimate.requests} "
            f"requests ({estimate.balance_after:g} credits after the batch). Top up, or cap the "
            "run with --max-credits."
        )
    return EXIT_OVER_BUDGET


def _server_side(requests: Requests) -> int:
    """Requests naming something only the API can check (a LoRA, a character, a file…)."""
    return sum(1 for item in requests.items if any(item.get(name) for name in _SERVER_SIDE))


def _run(ctx: Context, args: argparse.Namespace, requests: Requests) -> int:
    namespace = _namespace(ctx, requests)
    ctx.out.info(
        f"Batch of {len(requests.items)} {requests.media}s with concurrency {args.concurrency}"
        + (f", manifest {args.manifest}" if args.manifest else "")
        + (f", at most {args.max_credits:g} credits" if args.max_credits is not None else "")
    )
    first, longest = poll_intervals(ctx, args)
    display = BatchDisplay(ctx.out, len(requests.items))
    finished = _Finished(display)
    try:
        with display:
            results: list[BatchResult] = namespace.batch(
                requests.items,
                concurrency=args.concurrency,
                manifest=args.manifest,
                on_progress=finished.update,
                download_to=None if args.no_download else args.out,
                file_name=args.name,
                max_credits=args.max_credits,
                wait_timeout=args.timeout,
                poll_interval=first,
                max_poll_interval=longest,
            )
    except KeyboardInterrupt:
        saved = ""
        if args.results:
            # What finished is kept: the rows of an interrupted run are worth as much as those
            # of a complete one (the others are in flight or not started; a resume adds them).
            done = finished.results()
            written = write_results(done, args.results)
            saved = f"; the {len(done)} requests finished so far are in {written}"
        hint = (
            f"; run the same command again to resume from {args.manifest}"
            if args.manifest
            else "; add --manifest next time to make a run resumable"
        )
        raise Interrupted(f"Interrupted: batch stopped{saved}{hint}") from None
    if args.results:
        written = write_results(results, args.results)
        ctx.out.info(f"Results: {written}")
    counts = report.summary(ctx, results, budgeted=args.max_credits is not None)
    ctx.out.info(report.spent_line(counts))
    ctx.out.json(
        {
            "summary": counts.to_dict(),
            "results": [report.result_json(r) for r in results],
            "results_file": args.results,
        }
    )
    if counts.all_succeeded:
        return 0
    _resume_hints(ctx, args, counts)
    not_started = sum(counts.not_started.values())
    if not counts.failed:
        message = f"{not_started} of {counts.total} requests not started"
    else:
        message = f"{counts.failed} of {counts.total} generations failed" + (
            f", {not_started} not started" if not_started else ""
        )
    raise CommandFailed(message, details={"summary": counts.to_dict()})


class _Finished:
    """Every item reported finished, so that an interrupted run can still write ``--results``.

    ``on_progress`` is called from the batch's worker threads.
    """

    def __init__(self, display: BatchDisplay) -> None:
        self._display = display
        self._results: dict[int, BatchResult] = {}
        self._lock = threading.Lock()

    def update(self, progress: BatchProgress) -> None:
        if progress.last is not None:
            with self._lock:
                self._results[progress.last.index] = progress.last
        self._display.update(progress)

    def results(self) -> list[BatchResult]:
        """The finished items, in input order."""
        with self._lock:
            return [self._results[index] for index in sorted(self._results)]


def _resume_hints(ctx: Context, args: argparse.Namespace, counts: report.Summary) -> None:
    """How to run what was not started: the same command, with the same manifest."""
    same = (
        f"the same --manifest {args.manifest} (finished items are not run again)"
        if args.manifest
        else "--manifest FILE next time: without one, running again redoes every request"
    )
    if counts.not_started["budget"]:
        ctx.out.warn(
            f"{counts.not_started['budget']} not started: they would take the batch past "
            f"--max-credits {args.max_credits:g}. To run them, run the same command with a "
            f"larger --max-credits (it counts the whole batch, earlier runs included) and {same}."
        )
    if counts.not_started["balance"]:
        ctx.out.warn(
            f"{counts.not_started['balance']} not started: the team's balance ran out. Top up, "
            f"then run the same command again with {same}."
        )
    if counts.not_started["other"]:
        ctx.out.warn(
            f"{counts.not_started['other']} not started (the API could not price them): run the "
            f"same command again with {same}."
        )
