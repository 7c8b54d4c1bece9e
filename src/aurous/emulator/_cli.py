"""``python -m aurous.emulator`` / ``aurous emulator serve``: run the emulator as a server."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from ._config import DEFAULT_BUCKETS
from ._emulator import Emulator
from ._faults import apply_fault_spec
from ._server import EmulatorServer, MissingExtraError

__all__ = ["build_parser", "main", "parse_rate_limit"]


def parse_rate_limit(value: str) -> tuple[str, tuple[int, int]]:
    """``BUCKET=CAPACITY,PER_MINUTE`` (``images_post=5,2``) as ``(bucket, (capacity, rate))``."""
    bucket, sep, numbers = value.partition("=")
    bucket = bucket.strip()
    if bucket not in DEFAULT_BUCKETS:
        known = ", ".join(DEFAULT_BUCKETS)
        raise argparse.ArgumentTypeError(f"unknown bucket {bucket!r}; known buckets: {known}")
    capacity_raw, comma, rate_raw = numbers.partition(",")
    try:
        if not (sep and comma):
            raise ValueError
        capacity, per_minute = int(capacity_raw), int(rate_raw)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected {bucket}=CAPACITY,PER_MINUTE with whole numbers, got {value!r}"
        ) from None
    if capacity < 1 or per_minute < 1:
        raise argparse.ArgumentTypeError(
            f"capacity and per-minute refill must be at least 1, got {value!r}"
        )
    return bucket, (capacity, per_minute)


def build_parser(prog: str = "python -m aurous.emulator") -> argparse.ArgumentParser:
    """The argument parser (shared with ``aurous emulator serve``)."""
    parser = argparse.ArgumentParser(
        prog=prog, description="Run a local emulator of the Aurous API over HTTP."
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = any free)")
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--speed", type=float, default=None, help="divide generation durations by X")
    pace.add_argument("--instant", action="store_true", help="generations finish on the next read")
    parser.add_argument("--seed", type=int, default=None, help="reproducible ids, tokens and key")
    parser.add_argument("--credits", default=None, help="starting credits (default 1000)")
    parser.add_argument("--exempt", action="store_true", help="billing_mode exempt")
    parser.add_argument("--concurrency-limit", type=int, default=None, help="default 10")
    limits = parser.add_mutually_exclusive_group()
    limits.add_argument("--no-rate-limits", action="store_true", help="disable rate limiting")
    limits.add_argument(
        "--rate-limit",
        action="append",
        type=parse_rate_limit,
        default=[],
        metavar="BUCKET=CAPACITY,PER_MINUTE",
        help=(
            "override one rate-limit bucket (repeatable): burst capacity and refill per minute, "
            f"e.g. images_post=5,2; buckets: {', '.join(DEFAULT_BUCKETS)}"
        ),
    )
    parser.add_argument("--api-key", default=None, help="use this string as the API key")
    parser.add_argument("--accept-any-key", action="store_true", help="accept every API key")
    parser.add_argument(
        "--blocked-term",
        action="append",
        default=None,
        help="prompt term refused with prompt_blocked (repeatable; default 'forbidden')",
    )
    parser.add_argument(
        "--allow-http-webhooks",
        action="store_true",
        help="also accept http:// webhook endpoint URLs on this machine (127.0.0.1, ::1, "
        "localhost), to test a local receiver; the API, and the emulator by default, accept "
        "https:// only (400 invalid_format)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help=(
            "inject a fault (repeatable): 'status=503,route=POST /v1/images,times=2', "
            "'drop,route=POST /v1/images,after_commit', 'latency=2.5,route=GET /v1/images/*', "
            "'fail_generation,times=1,error=output_moderation_rejected'"
        ),
    )
    return parser


def build_emulator(args: argparse.Namespace) -> Emulator:
    """An emulator configured from parsed arguments (faults applied)."""
    credits = None
    if args.credits is not None:
        try:
            credits = Decimal(args.credits)
        except InvalidOperation:
            raise ValueError(f"--credits must be a number, got {args.credits!r}") from None
    emu = Emulator(
        speed=args.speed,
        instant=args.instant or None,
        seed=args.seed,
        credits=credits,
        billing_mode="exempt" if args.exempt else None,
        concurrency_limit=args.concurrency_limit,
        rate_limits=dict(args.rate_limit) if args.rate_limit else not args.no_rate_limits,
        blocked_terms=args.blocked_term,
        accept_any_key=args.accept_any_key or None,
        api_key=args.api_key,
        allow_http_webhooks=args.allow_http_webhooks or None,
    )
    for spec in args.fault:
        apply_fault_spec(emu.faults, spec)
    return emu


def main(argv: Sequence[str] | None = None, *, prog: str = "python -m aurous.emulator") -> int:
    """Parse ``argv``, print the base URL and API key, and serve until interrupted."""
    parser = build_parser(prog)
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        emu = build_emulator(args)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        server = EmulatorServer(emu.core, args.host, args.port)
    except MissingExtraError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"Aurous emulator listening on {server.base_url}", flush=True)
    print(f"API key: {emu.api_key}", flush=True)
    print(f"  export AUROUS_BASE_URL={server.base_url}", flush=True)
    print(f"  export AUROUS_API_KEY={emu.api_key}", flush=True)
    if args.rate_limit:
        effective = " ".join(
            f"{name}={capacity},{per_minute}"
            for name, (capacity, per_minute) in dict(args.rate_limit).items()
        )
        print(f"Rate limits (capacity,per_minute): {effective}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0
