"""Generate an image for every request of a file: preview, budget, progress, results, resume.

    python examples/batch_from_file.py prompts.txt --out out/ --max-credits 200

The requests file is a ``.txt`` (one prompt per line), ``.jsonl`` (one JSON object of
``images.create`` parameters per line) or ``.csv`` (a header of parameter names). The batch is
priced first; it runs only if the balance covers it and the price is within ``--max-credits``
(``--yes`` runs the part that fits, the rest is left for later). Results go to a CSV or JSONL
table, the images to ``--out``.

Interrupted (Ctrl-C, a crash, a reboot)? Run the same command again: the manifest makes the run
resume where it stopped, and nothing is generated or charged twice. Items left out by the budget
run when the same command is given a larger ``--max-credits``.

It uses ``AUROUS_API_KEY`` (and bills your team); ``--emulator`` runs it on the built-in
emulator instead: no key, no network, nothing billed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import aurous

EXIT_OVER_BUDGET = 3


def make_client(emulator: bool) -> aurous.Client:
    if not emulator:
        return aurous.Client()
    from aurous.emulator import Emulator

    print("--emulator: using the local emulator (nothing is billed).", file=sys.stderr)
    return Emulator(speed=20).client()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("requests", type=Path, help="prompts.txt, requests.jsonl or .csv")
    parser.add_argument("--out", type=Path, default=Path("out"), help="where images go")
    parser.add_argument(
        "--manifest",
        type=Path,
        help="the file that makes the run resumable (default: OUT/manifest.jsonl)",
    )
    parser.add_argument(
        "--results", type=Path, help="results table, .csv or .jsonl (default: OUT/results.csv)"
    )
    parser.add_argument("--max-credits", type=float, help="spend at most this on the batch")
    parser.add_argument("--yes", action="store_true", help="run what fits if not everything does")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--poll-interval", type=float, default=2.0, help="seconds between status checks"
    )
    parser.add_argument("--emulator", action="store_true", help="run on the built-in emulator")
    return parser.parse_args(argv)


def preview(estimate: aurous.BatchEstimate, max_credits: float | None) -> bool:
    """Print what the batch would cost; return whether all of it can run."""
    print(
        f"{estimate.requests} requests, {estimate.outputs} images: {estimate.total:g} credits "
        f"(balance {estimate.balance.available_credits:g}, after: {estimate.balance_after:g}); "
        f"at least {estimate.min_duration:.0f}s"
    )
    fits = estimate.fits_balance
    if not fits:
        print(f"the balance covers only {estimate.affordable} of {estimate.requests} requests")
    if max_credits is not None and estimate.total > max_credits:
        print(f"that is more than --max-credits {max_credits:g}")
        fits = False
    return fits


class Progress:
    """Prints each finished item and keeps it, so that Ctrl-C still leaves a results table."""

    def __init__(self) -> None:
        self.finished: dict[int, aurous.BatchResult] = {}

    def __call__(self, progress: aurous.BatchProgress) -> None:
        item = progress.last
        if item is None:
            return  # a rate-limit wait: the batch paces itself
        self.finished[item.index] = item
        prompt = str(item.request.get("prompt", ""))[:40]
        what = item.generation.id if item.ok and item.generation else item.status.replace("_", " ")
        if item.skipped:
            what += " (done in an earlier run)"
        # Items are numbered by index, from 0: as in the results table and the file names.
        print(f"[{progress.done}/{progress.total}] #{item.index} {what}: {prompt}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.emulator and not os.environ.get("AUROUS_API_KEY"):
        print("set AUROUS_API_KEY, or pass --emulator to try the emulator", file=sys.stderr)
        return 2
    manifest = args.manifest or args.out / "manifest.jsonl"
    results_path = args.results or args.out / "results.csv"
    try:
        requests = aurous.read_requests(args.requests)
    except aurous.RequestFileError as exc:
        print(exc, file=sys.stderr)  # every bad line, with its number
        return 2
    except (OSError, ValueError) as exc:
        print(f"cannot read {args.requests}: {exc}", file=sys.stderr)
        return 2

    with make_client(args.emulator) as client:
        estimate = client.images.estimate_batch(
            requests, concurrency=args.concurrency, download=True
        )
        if not preview(estimate, args.max_credits) and not args.yes:
            print("not started: add --yes to run the part that fits", file=sys.stderr)
            return EXIT_OVER_BUDGET
        show = Progress()
        try:
            results = client.images.batch(
                requests,
                concurrency=args.concurrency,
                manifest=manifest,
                download_to=args.out,
                file_name="{index:05d}-{n}",
                max_credits=args.max_credits,
                on_progress=show,
                poll_interval=args.poll_interval,
            )
        except KeyboardInterrupt:
            done = [show.finished[index] for index in sorted(show.finished)]
            aurous.write_results(done, results_path)
            print(
                f"interrupted: {len(done)} finished requests in {results_path}; run the same "
                "command again to resume",
                file=sys.stderr,
            )
            return 130

    aurous.write_results(results, results_path)
    succeeded = sum(r.ok for r in results)
    earlier = sum(r.skipped for r in results if r.ok)
    failed = [r for r in results if r.status == "failed"]
    not_started = [r for r in results if r.not_started]
    charged = sum(r.credits or 0 for r in results if not r.skipped)
    print(
        f"{succeeded} of {len(results)} succeeded ({earlier} in earlier runs), "
        f"{len(failed)} failed, {len(not_started)} not started; "
        f"{charged:g} credits this run; results in {results_path}"
    )
    for result in failed:
        print(f"  #{result.index} failed: {result.error}", file=sys.stderr)
    if not_started:
        print(
            "to run the requests not started, top up or raise --max-credits and run the same "
            "command again",
            file=sys.stderr,
        )
    return 0 if succeeded == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
