"""What ``aurous batch`` prints: the preview of ``--dry-run``, the summary of a run, its JSON."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from ..._batch._files import result_row
from ..._errors import BudgetExceededError, InsufficientBalanceError
from .. import _format
from .._context import Context
from .._output import Column, Table

if TYPE_CHECKING:
    from ... import BatchEstimate, BatchResult

__all__ = [
    "Check",
    "Summary",
    "not_started_reason",
    "preview",
    "result_json",
    "spent_line",
    "summary",
]

Reason = Literal["budget", "balance", "other"]


def _decimal(value: float | int) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


@dataclasses.dataclass(frozen=True)
class Check:
    """Whether the batch the preview priced would run whole."""

    requests: int
    fits_balance: bool
    max_credits: float | None
    within_max_credits: int
    """Requests the cap covers as the batch admits them (all of them without a cap)."""

    @property
    def fits_max_credits(self) -> bool:
        return self.within_max_credits == self.requests

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "fits_balance": self.fits_balance,
            "max_credits": self.max_credits,
            "fits_max_credits": self.fits_max_credits,
            "within_max_credits": self.within_max_credits,
        }

    @property
    def ok(self) -> bool:
        return self.fits_balance and self.fits_max_credits


def _within(estimate: BatchEstimate, cap: float | None) -> int:
    """Requests ``cap`` covers, as the batch admits them: in order, each one that still fits
    (a request too dear for what is left is not started, a cheaper one after it may be)."""
    if cap is None or _decimal(estimate.total) <= _decimal(cap):
        return estimate.requests
    left = _decimal(cap)
    covered = 0
    for item in estimate.items:
        price = _decimal(item.estimated_cost.amount)
        if price <= left:
            left -= price
            covered += 1
    return covered


def _limits(estimate: BatchEstimate) -> list[tuple[str, str]]:
    limits = estimate.limits
    sources = limits.sources
    return [
        (
            "create rate",
            f"{limits.create_burst} at once, then {_format.number(limits.create_per_second)}/s"
            f" ({sources.get('create_rate', '-')})",
        ),
        (
            "read rate",
            f"{limits.reads_burst} at once, then {_format.number(limits.reads_per_second)}/s"
            f" ({sources.get('reads_rate', '-')})",
        ),
        (
            "generations at once",
            f"{min(limits.concurrency_limit, limits.concurrency)}: team limit "
            f"{limits.concurrency_limit} ({sources.get('concurrency_limit', '-')}), "
            f"--concurrency {limits.concurrency}",
        ),
    ]


def _generation_time(estimate: BatchEstimate) -> str:
    if estimate.generation_seconds is None:
        return "unknown (counted as 0)"
    source = {
        "given": "given",
        "usage": "your team's median over the last 7 days",
        "documented": "the documented lower end",
    }.get(estimate.generation_seconds_source or "", "-")
    return f"{_format.elapsed(estimate.generation_seconds)} each ({source})"


def preview(ctx: Context, estimate: BatchEstimate, cap: float | None) -> Check:
    """Print the ``--dry-run`` table; return what it means for the run."""
    balance = estimate.balance
    n = estimate.requests
    noun = "videos" if estimate.media == "video" else "images"
    exempt = balance.billing_mode != "metered"
    affordable = (
        f"all {n} requests" if estimate.fits_balance else f"{estimate.affordable} of {n} (in order)"
    )
    within = _within(estimate, cap)
    rows: list[tuple[str, Any]] = [
        ("requests", f"{n} ({estimate.distinct_requests} distinct)"),
        ("price classes", estimate.price_classes),
        ("outputs", f"{estimate.outputs} {noun}"),
        ("total", _format.amount(estimate.total, balance.currency)),
        (
            "balance",
            _format.amount(balance.available_credits, balance.currency)
            + (f" ({balance.billing_mode}: never blocked)" if exempt else " available"),
        ),
        ("balance after", _format.amount(estimate.balance_after, balance.currency)),
        ("balance covers", affordable),
    ]
    if cap is not None:
        covers = f"all {n} requests" if within == n else f"{within} of {n}"
        rows.append(("--max-credits", f"{_format.number(cap)}: covers {covers}"))
    rows += [
        ("minimum duration", f"{_format.elapsed(estimate.min_duration)} (a lower bound)"),
        ("generation time", _generation_time(estimate)),
        *_limits(estimate),
        (
            "API requests",
            f"about {estimate.api_requests} "
            f"({_format.number(round(estimate.requests_per_generation, 1))} per generation)",
        ),
        (
            "pricing",
            f"{estimate.estimate_calls} estimate call{'' if estimate.estimate_calls == 1 else 's'}"
            f", {estimate.priced_by_rate_card} requests priced from the rate card alone",
        ),
    ]
    title = f"Batch preview: {n} {estimate.media} requests (nothing was created)"
    ctx.out.table(Table.pairs(title, rows))
    return Check(n, estimate.fits_balance, cap, within)


# ---- a run -------------------------------------------------------------------------------------


def not_started_reason(result: BatchResult) -> Reason:
    """Why an item was not started: the budget (``--max-credits``), the balance (a 402), other."""
    error = result.error
    if isinstance(error, BudgetExceededError):
        return "budget"
    if isinstance(error, InsufficientBalanceError) or isinstance(
        getattr(error, "__cause__", None), InsufficientBalanceError
    ):
        return "balance"
    return "other"


@dataclasses.dataclass(frozen=True)
class Summary:
    """The counts of a finished run."""

    total: int
    succeeded: int
    skipped: int
    failed: int
    not_started: dict[Reason, int]
    files: int
    credits: float
    """Charged in this run (items taken from the manifest excluded)."""
    credits_all_runs: float
    """Charged for the whole batch: this run and the earlier runs of the same manifest."""

    @property
    def all_succeeded(self) -> bool:
        return self.succeeded == self.total

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "succeeded": self.succeeded,
            "skipped": self.skipped,
            "failed": self.failed,
            "not_started": sum(self.not_started.values()),
            "not_started_budget": self.not_started["budget"],
            "not_started_balance": self.not_started["balance"],
            "not_started_other": self.not_started["other"],
            "files": self.files,
            "credits": self.credits,
            "credits_all_runs": self.credits_all_runs,
        }


def _count(results: list[BatchResult]) -> Summary:
    not_started: dict[Reason, int] = {"budget": 0, "balance": 0, "other": 0}
    for result in results:
        if result.status == "not_started":
            not_started[not_started_reason(result)] += 1
    this_run = sum(
        (_decimal(r.credits) for r in results if r.credits is not None and not r.skipped),
        Decimal(0),
    )
    all_runs = sum((_decimal(r.credits) for r in results if r.credits is not None), Decimal(0))
    return Summary(
        total=len(results),
        succeeded=sum(1 for r in results if r.status == "succeeded"),
        skipped=sum(1 for r in results if r.ok and r.skipped),
        failed=sum(1 for r in results if r.status == "failed"),
        not_started=not_started,
        files=sum(len(r.paths) for r in results),
        credits=float(this_run),
        credits_all_runs=float(all_runs),
    )


def summary(ctx: Context, results: list[BatchResult], *, budgeted: bool) -> Summary:
    """Print the summary table and the failures; return the counts."""
    counts = _count(results)
    table = Table("Batch summary", [Column("result"), Column("count", numeric=True)])
    table.add("succeeded", counts.succeeded - counts.skipped)
    table.add("already done (resumed)", counts.skipped)
    table.add("failed", counts.failed)
    labels: dict[Reason, str] = {
        "budget": "not started (budget)",
        "balance": "not started (balance)",
        "other": "not started (other)",
    }
    for reason, label in labels.items():
        if counts.not_started[reason] or (reason == "budget" and budgeted):
            table.add(label, counts.not_started[reason])
    table.add("files downloaded", counts.files)
    table.add("credits (this run)", _format.number(counts.credits))
    if counts.skipped:
        table.add("credits (all runs)", _format.number(counts.credits_all_runs))
    ctx.out.table(table)
    failed = [r for r in results if r.status == "failed"]
    if failed:
        failures = Table(
            "Failures", [Column("index", numeric=True), Column("prompt"), Column("error")]
        )
        for result in failed:
            prompt = _format.shorten(str(result.request.get("prompt") or ""), 40)
            failures.add(result.index, prompt, _describe_error(result))
        ctx.out.table(failures)
    return counts


def spent_line(counts: Summary) -> str:
    """What the run spent, in one line (after the summary)."""
    text = f"Spent: {_format.amount(counts.credits)} this run"
    if counts.skipped:
        text += f" ({_format.amount(counts.credits_all_runs)} over all runs of the manifest)"
    if counts.failed:
        text += "; failed generations are not charged"
    return text + "."


def _describe_error(result: BatchResult) -> str:
    if result.error is not None:
        return str(result.error)
    generation = result.generation
    if generation is None:
        return "no generation"
    reason = f": {generation.error_message}" if generation.error_message else ""
    return f"{generation.id} {generation.status}{reason}"


def result_json(result: BatchResult) -> dict[str, Any]:
    """One result as ``--json`` prints it: the columns of ``aurous.write_results``, and ``ok``;
    the error also gives its code and request id."""
    row = result_row(result)
    if result.error is not None:
        row["error"] = {
            "class": type(result.error).__name__,
            "code": getattr(result.error, "code", None),
            "message": str(result.error),
            "request_id": getattr(result.error, "request_id", None),
        }
    return {"index": row.pop("index"), "status": row.pop("status"), "ok": result.ok, **row}
