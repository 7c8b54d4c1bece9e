"""What a batch hands back: one `BatchResult` per request, `BatchProgress` snapshots, and the
`BatchEstimate` of ``estimate_batch`` (a batch's cost and duration, before anything is created)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .._errors import AurousError
from .estimate import Estimate
from .generation import Generation

if TYPE_CHECKING:
    # Only annotates `BatchEstimate.balance`, which ``estimate_batch`` fills: importing it here
    # built the five account models whenever ``client.images`` or ``client.videos`` was first
    # used, for programs that never read a balance.
    from .account import Balance

__all__ = ["BatchEstimate", "BatchLimits", "BatchProgress", "BatchResult", "BatchStatus"]

BatchStatus = Literal["succeeded", "failed", "not_started"]


@dataclasses.dataclass(frozen=True)
class BatchResult:
    """The outcome of one request of a batch (results come back in input order)."""

    index: int
    """Position of the request in the input."""
    request: dict[str, Any]
    """The create parameters (a plain prompt string becomes ``{"prompt": …}``)."""
    idempotency_key: str
    """The key its create was sent with (and resent with, on retries and resumed runs)."""
    generation: Generation | None = None
    """The generation, terminal unless waiting failed; ``None`` when it was never created."""
    error: AurousError | None = None
    """Why the item did not succeed: the API error, a `WaitTimeoutError`, a
    `GenerationFailedError` for a generation that ended failed/cancelled/expired/…, or, for an
    item not started, a `BudgetExceededError` or the reason the batch stopped starting items."""
    paths: list[Path] = dataclasses.field(default_factory=list)
    """Files written when the batch was given ``download_to``."""
    skipped: bool = False
    """True when a resumed run took the result from the manifest (already finished)."""
    not_started: bool = False
    """True when nothing was generated and running the batch again would start it: the budget
    (``max_credits``) did not cover it, or the team's balance ran out (the 402 that stopped the
    batch, and every item after it). Failed items, by contrast, would fail again."""

    @property
    def ok(self) -> bool:
        """Whether the generation succeeded (and its outputs were downloaded, if asked)."""
        return self.error is None and self.generation is not None and self.generation.is_succeeded

    @property
    def status(self) -> BatchStatus:
        """``"succeeded"`` (`ok`), ``"not_started"`` (`not_started`) or ``"failed"``."""
        if self.ok:
            return "succeeded"
        return "not_started" if self.not_started else "failed"

    @property
    def credits(self) -> float | None:
        """Credits this item was charged (or still holds, if it did not finish): the generation's
        ``cost.amount``, ``0`` once a hold was released; ``None`` when nothing was created."""
        generation = self.generation
        if generation is None or generation.cost is None:
            return None
        return generation.cost.amount


@dataclasses.dataclass(frozen=True)
class BatchProgress:
    """A snapshot passed to ``on_progress`` after each finished item and on rate-limit waits."""

    total: int | None
    """Number of requests, or ``None`` while a lazily read input is not exhausted."""
    done: int
    """Items finished (successfully or not, including skipped and not started ones)."""
    failed: int
    """Finished items that are not ``ok`` (not started ones included)."""
    in_flight: int
    """Items currently running."""
    rate_limit_waits: int
    """Times an item waited for a limit: a rate limit (a 429, or pacing that avoided one) or a
    free concurrency slot."""
    last: BatchResult | None
    """The item that just finished; ``None`` for a status tick."""
    waiting_for_rate_limit: float = 0.0
    """Seconds of the wait that just started (0 when this is not such a tick)."""
    not_started: int = 0
    """Finished items that were not started (budget or balance); also counted in ``failed``."""
    spent: float = 0.0
    """Credits the batch has committed or holds (its generations' costs, and the estimated price
    of creates not answered yet), earlier runs on the same manifest included."""
    waiting_for: Literal["rate_limit", "concurrency"] | None = None
    """What the wait that just started is for: ``"rate_limit"`` (a rate-limit bucket, or a
    429), ``"concurrency"`` (the team's generations in flight are at its limit: the item waits
    for one of them to finish), or ``None`` when this is not such a tick."""


@dataclasses.dataclass(frozen=True)
class BatchLimits:
    """The team limits a `BatchEstimate` assumed, and where each figure came from."""

    create_burst: int
    """Capacity of the rate-limit bucket of creates (requests that may go at once)."""
    create_per_second: float
    """Its refill rate: sustained creates per second."""
    reads_burst: int
    """Capacity of the bucket of reads (polls and downloads)."""
    reads_per_second: float
    """Its refill rate."""
    concurrency_limit: int
    """Generations the team may have unfinished at once."""
    concurrency: int
    """The batch's own ``concurrency`` (items in flight at once)."""
    sources: dict[str, str]
    """Per figure (``"create_rate"``, ``"reads_rate"``, ``"concurrency_limit"``): ``"observed"``
    (from the rate-limit headers this client has seen; for creates, only after it sent some —
    the refill rate is read from a whole-second ``Reset``, so it is coarse until the bucket was
    seen several seconds from full), ``"learned"`` (the concurrency limit this client's pacer
    found) or ``"documented"`` (the API's default tier, also used while a bucket seen at the
    default capacity has not shown its refill precisely: creates 120 burst + 1/s, reads 1200 +
    10/s, 10 unfinished generations)."""


@dataclasses.dataclass(frozen=True)
class BatchEstimate:
    """What a batch would cost and how long it would take at least; nothing was created.

    ``min_duration`` is a lower bound in seconds, the largest of three terms (N generations,
    ``D`` = ``generation_seconds``, ``L`` = min(concurrency limit, batch concurrency), a create
    bucket of capacity ``C`` refilling at ``r``/s holding ``T`` ≤ ``C`` tokens now, reads bucket
    ``C_r`` / ``r_r``, ``R`` = expected reads)::

        creates  (N − T) / r + D      the last create cannot go earlier, then it runs D seconds
        slots    ceil(N / L) × D      at most L generations run at once
        reads    (R − C_r) / r_r      every poll and download takes a read token

    (each term at least 0). Generation times the API does not know yet (a video without history)
    count as 0, so the bound stays a bound.
    """

    media: Literal["image", "video"]
    """Which create the requests are for."""
    total: float
    """Credits the whole batch would be charged (sum of ``items``)."""
    items: list[Estimate]
    """One price per request, in input order (identical price classes share one object)."""
    balance: Balance
    """The team's balance when the estimate was made."""
    balance_after: float
    """``balance.available_credits − total``; negative: the balance does not cover the batch (an
    ``exempt`` team is never blocked, see ``balance.billing_mode``)."""
    affordable: int
    """How many requests, taken in order, the available credits cover (all of them when
    ``balance_after >= 0`` or the team is exempt)."""
    min_duration: float
    """Lower bound on the batch's wall time, in seconds (see the class docstring)."""
    generation_seconds: float | None
    """The time one generation takes, as assumed: given, the team's median over the last 7 days
    (``GET /v1/usage``), or for images the low end of the documented 10–30 s; ``None`` when
    nothing is known (videos without history: counted as 0)."""
    generation_seconds_source: Literal["given", "usage", "documented"] | None
    """Where ``generation_seconds`` came from."""
    limits: BatchLimits
    """The limits ``min_duration`` assumed."""
    requests: int
    """Number of requests."""
    distinct_requests: int
    """Requests with distinct parameters (idempotency keys aside)."""
    outputs: int
    """Files the batch would produce: images (``count`` summed) or videos."""
    price_classes: int
    """Distinct combinations of the inputs that decide a price (see the pricing rules)."""
    estimate_calls: int
    """``POST …/estimate`` requests this preview made."""
    priced_by_rate_card: int
    """Requests priced from the rate card, without an estimate call of their own."""
    requests_per_generation: float
    """HTTP requests one item is expected to need: its create, its polls (with the batch's poll
    schedule and ``generation_seconds``) and its downloads (when ``download=True``)."""
    api_requests: int
    """HTTP requests the whole batch is expected to need (``requests_per_generation`` × N)."""

    @property
    def fits_balance(self) -> bool:
        """Whether the balance covers the whole batch (always for exempt teams)."""
        return self.affordable == self.requests

    def to_dict(self) -> dict[str, Any]:
        """The estimate as JSON-compatible data (each item as the API's estimate object)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["items"] = [item.to_dict() for item in self.items]
        data["balance"] = self.balance.to_dict()
        data["limits"] = dataclasses.asdict(self.limits)
        data["fits_balance"] = self.fits_balance
        return data
