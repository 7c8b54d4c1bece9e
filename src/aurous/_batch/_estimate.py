"""``estimate_batch``: what a batch would cost and how long it would take, before it runs.

Written as IO-free steps like every method. Every request is checked locally first (nothing is
sent if one is invalid), then priced with few calls (`_pricing`: the rate card, or one estimate
per price class), then the balance is read and the time is bounded from the limits the client
knows (`duration_lower_bound`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from .._errors import APIStatusError, RateLimitError
from .._pagination import page_request
from .._requests import check_image_body, check_video_body, estimate_call, request
from .._steps import Steps
from .._types import RequestOptions
from .._wait import BACKOFF_FACTOR, check_wait_args
from ..pagination import TokenPage
from ..types import Balance, Estimate, UsageBucket
from ..types.batch import BatchEstimate, BatchLimits
from ._files import RequestFileError, RequestList
from ._manifest import request_hash
from ._pricing import PriceBook, amount_of, decimal
from ._requests import Media, normalise, prepared_call

if TYPE_CHECKING:
    from .._client import _BaseClient

__all__ = ["duration_lower_bound", "estimate_batch_steps", "expected_polls"]

# The documented default tier (spec/openapi.yaml): creates share a bucket of 120 refilled at
# 60 per minute, reads (polls, downloads) one of 1200 at 600 per minute, and a team may have
# 10 generations unfinished at once.
DOCUMENTED_CREATE_BURST = 120
DOCUMENTED_CREATE_PER_SECOND = 1.0
DOCUMENTED_READS_BURST = 1200
DOCUMENTED_READS_PER_SECOND = 10.0
DOCUMENTED_CONCURRENCY_LIMIT = 10
DOCUMENTED_IMAGE_SECONDS = 10.0
"""The API documents that images typically take 10–30 s; a lower bound takes the low end. It
documents no video time."""
_USAGE_WINDOW = timedelta(days=7)
_USAGE_TYPES = {"image": frozenset({"t2i", "i2i"}), "video": frozenset({"t2v", "i2v"})}
_CREATE_ROUTES = {"image": ("POST /v1/images", "POST /v1/videos"),
                  "video": ("POST /v1/videos", "POST /v1/images")}  # fmt: skip
_READS_ROUTE = "GET /v1/balance"
_PRECISE_SPAN = 5.0


def expected_polls(seconds: float, poll_interval: float, max_poll_interval: float) -> int:
    """Polls a batch item makes until it sees a generation of ``seconds`` finished.

    The batch's schedule (``wait``): the first poll one ``poll_interval`` after the create, the
    next one ``poll_interval`` later, then each pause 1.5 times longer, up to
    ``max_poll_interval`` (jitter aside).
    """
    elapsed, pause, interval, polls = 0.0, poll_interval, poll_interval, 0
    while True:
        elapsed += pause
        polls += 1
        if elapsed >= seconds:
            return polls
        pause = interval
        interval = min(max_poll_interval, interval * BACKOFF_FACTOR)


def duration_lower_bound(
    *,
    generations: int,
    generation_seconds: float,
    create_burst: float,
    create_per_second: float,
    concurrency_limit: int,
    reads: int = 0,
    reads_burst: float = math.inf,
    reads_per_second: float = math.inf,
) -> float:
    """Fewest seconds ``generations`` can take within these limits (see `BatchEstimate`).

    ``create_burst`` is the create tokens available at the start (the bucket's capacity, or
    fewer if it is partly spent); ``concurrency_limit`` the generations that may run at once
    (the smaller of the team's limit and the batch's concurrency).
    """
    if generations <= 0:
        return 0.0
    creates = max(0.0, (generations - create_burst) / create_per_second) + generation_seconds
    slots = math.ceil(generations / max(1, concurrency_limit)) * generation_seconds
    polling = max(0.0, (reads - reads_burst) / reads_per_second) if reads else 0.0
    return max(creates, slots, polling)


_MAX_REPORTED = 20
"""Bad requests named in an error at most (``read_requests``' default); the rest are counted."""
_FREE_TEXT = frozenset({"prompt", "negative_prompt", "seed", "idempotency_key"})
"""Fields the local checks settle whole (lengths, ranges): requests that differ only in them
have the same *shape* for the API, which one estimate call checks for all of them."""


def _checked(media: Media, requests: Iterable[Any]) -> list[dict[str, Any]]:
    """Every request normalised and checked as its create would be; all bad ones are reported
    together (`_invalid`), before anything is sent."""
    checked: list[dict[str, Any]] = []
    problems: list[tuple[int, Exception]] = []
    for index, raw in enumerate(requests):
        try:
            request_ = normalise(index, raw)
        except TypeError as exc:
            problems.append((index, exc))
            continue
        try:
            prepared_call(media, request_)
        except (TypeError, ValueError) as exc:
            problems.append((index, type(exc)(f"batch request #{index}: {exc}")))
            continue
        checked.append(request_)
    if problems:
        raise _invalid(requests, problems)
    return checked


def _invalid(requests: Iterable[Any], problems: list[tuple[int, Exception]]) -> Exception:
    """One error naming every bad request: a `RequestFileError` with the file's line numbers
    for requests read by ``read_requests``, else the first problem's type, listing them all."""
    if isinstance(requests, RequestList):
        lines = requests.lines
        errors = [
            (lines[index] if index < len(lines) else 0, _bare(index, exc))
            for index, exc in problems[:_MAX_REPORTED]
        ]
        return RequestFileError(requests.path or "<requests>", errors, len(problems))
    first = problems[0][1]
    if len(problems) == 1:
        return first
    shown = "\n".join(f"  {exc}" for _, exc in problems[:_MAX_REPORTED])
    more = len(problems) - _MAX_REPORTED
    tail = f"\n  … and {more} more" if more > 0 else ""
    return type(first)(f"{len(problems)} bad batch requests:\n{shown}{tail}")


def _bare(index: int, exc: Exception) -> str:
    """``exc``'s message without the ``batch request #N`` its line number replaces."""
    text = str(exc)
    for prefix in (f"batch request #{index}: ", f"batch request #{index} "):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def _shape(request_: Mapping[str, Any]) -> str:
    body = {k: v for k, v in request_.items() if k not in _FREE_TEXT}
    try:
        return request_hash(body)
    except TypeError:
        return repr(sorted(body.items(), key=lambda item: item[0]))


_REFUSALS = frozenset({400, 404, 409, 422})
"""Statuses by which the estimate endpoint refuses a request's parameters."""


def _refusal(error: APIStatusError) -> str:
    where = f", {error.param}" if error.param else ""
    code = f" ({error.code}{where})" if error.code else ""
    return f"the API refuses it{code}: {error.message}"


def _check_remote(
    media: Media, requests: Iterable[Any], checked: list[dict[str, Any]], book: PriceBook
) -> Steps[None]:
    """Send each distinct request shape to the estimate endpoint, which validates as the create
    does (LoRAs, characters, files, sizes the SDK does not know…) and bills nothing; every
    request of a refused shape is reported, all together. Its prices serve the preview."""
    route, check = (
        ("/v1/videos/estimate", check_video_body)
        if media == "video"
        else ("/v1/images/estimate", check_image_body)
    )
    shapes: dict[str, list[int]] = {}
    for index, request_ in enumerate(checked):
        shapes.setdefault(_shape(request_), []).append(index)
    problems: list[tuple[int, Exception]] = []
    for indices in shapes.values():
        first = checked[indices[0]]
        call = estimate_call(
            route, {k: v for k, v in first.items() if k != "idempotency_key"}, check
        )
        call.max_rate_limit_wait = math.inf  # a preview of a batch waits as patiently as one
        try:
            estimate: Estimate = yield from call
        except APIStatusError as error:
            if isinstance(error, RateLimitError) or error.status_code not in _REFUSALS:
                raise  # not about the request (a key without access, an outage): no verdict
            problems += [
                (index, ValueError(f"batch request #{index}: {_refusal(error)}"))
                for index in indices
            ]
            continue
        finally:
            book.estimate_calls += 1
        book.prices.setdefault(book.key(first), estimate)
    if problems:
        problems.sort(key=lambda problem: problem[0])
        raise _invalid(requests, problems)


def _distinct(requests: list[dict[str, Any]]) -> int:
    seen: set[str] = set()
    for request_ in requests:
        body = {k: v for k, v in request_.items() if k != "idempotency_key"}
        try:
            seen.add(request_hash(body))
        except TypeError:
            seen.add(repr(sorted(body.items(), key=lambda item: item[0])))
    return len(seen)


def _outputs(media: Media, request_: Mapping[str, Any]) -> int:
    if media == "video":
        return 1
    count = request_.get("count")
    return 1 if count is None else int(count)


def _typical_seconds(client: _BaseClient[Any, Any], media: Media) -> Steps[float | None]:
    """The team's median generation time over the last week (``GET /v1/usage``), if any."""
    wall = client._pacer.store.wall() if client._pacer is not None else time.time()
    now = datetime.fromtimestamp(wall, tz=timezone.utc).replace(microsecond=0)
    query = {
        "start_time": now - _USAGE_WINDOW,
        "end_time": now,
        "bucket_width": "7d",
        "group_by": ["type"],
        "limit": 2,
    }
    call = page_request(
        "/v1/usage", page=TokenPage, item=UsageBucket, query=query, options=RequestOptions()
    ).call
    try:
        page: TokenPage[UsageBucket] = yield from call
    except APIStatusError:
        return None  # a key without access to usage, a server without it: estimate without
    weighted = 0.0
    finished = 0
    for bucket in page.data:
        for group in bucket.groups:
            if group.key.get("type") not in _USAGE_TYPES[media]:
                continue
            metrics = group.metrics
            done = metrics.successful_count + metrics.failed_count + metrics.cancelled_count
            if done and metrics.duration_ms_p50 > 0:
                weighted += metrics.duration_ms_p50 / 1000.0 * done
                finished += done
    return weighted / finished if finished else None


def _bucket(
    figures: tuple[int | None, float | None, float | None, float], documented: tuple[int, float]
) -> tuple[int, float, float, str] | None:
    """(capacity, refill per second, tokens now, source) of a bucket the client has seen."""
    capacity, rate, tokens, span = figures
    if capacity is None or capacity <= 0 or rate is None or rate <= 0:
        return None
    tokens = float(capacity) if tokens is None else tokens
    # The refill rate is read from a whole-second Reset: within 20 % once the bucket was seen
    # 5 s or more from full. Before that, a bucket of the documented size is taken to refill
    # at the documented rate.
    if span < _PRECISE_SPAN and capacity == documented[0]:
        return capacity, documented[1], tokens, "documented"
    return capacity, rate, tokens, "observed"


def _limits(
    client: _BaseClient[Any, Any], media: Media, concurrency: int
) -> tuple[BatchLimits, float]:
    """The limits the client knows (else the documented ones), and create tokens available now."""
    sources = {
        "create_rate": "documented",
        "reads_rate": "documented",
        "concurrency_limit": "documented",
    }
    create_burst, create_rate = DOCUMENTED_CREATE_BURST, DOCUMENTED_CREATE_PER_SECOND
    reads_burst, reads_rate = DOCUMENTED_READS_BURST, DOCUMENTED_READS_PER_SECOND
    limit = DOCUMENTED_CONCURRENCY_LIMIT
    tokens: float = create_burst
    create_documented = (DOCUMENTED_CREATE_BURST, DOCUMENTED_CREATE_PER_SECOND)
    reads_documented = (DOCUMENTED_READS_BURST, DOCUMENTED_READS_PER_SECOND)
    pacer = client._pacer
    if pacer is not None:
        now = client._flow.clock.monotonic()
        for route in _CREATE_ROUTES[media]:
            seen = _bucket(pacer.bucket(route).figures(now), create_documented)
            if seen is not None:
                create_burst, create_rate, tokens, sources["create_rate"] = seen
                break
        reads = _bucket(pacer.bucket(_READS_ROUTE).figures(now), reads_documented)
        if reads is not None:
            reads_burst, reads_rate, _, sources["reads_rate"] = reads
        if pacer.gate.limit:
            limit = pacer.gate.limit
            sources["concurrency_limit"] = "learned"
    limits = BatchLimits(
        create_burst=create_burst,
        create_per_second=create_rate,
        reads_burst=reads_burst,
        reads_per_second=reads_rate,
        concurrency_limit=limit,
        concurrency=concurrency,
        sources=sources,
    )
    return limits, tokens


def _affordable(items: list[Estimate], balance: Balance) -> int:
    # Only a metered team is ever refused for its balance; unknown modes do not block.
    if balance.billing_mode != "metered":
        return len(items)
    left = decimal(balance.available_credits)
    for count, item in enumerate(items):
        left -= amount_of(item)
        if left < 0:
            return count
    return len(items)


def estimate_batch_steps(
    client: _BaseClient[Any, Any],
    media: Media,
    requests: Iterable[Any],
    *,
    concurrency: int,
    download: bool,
    poll_interval: float,
    max_poll_interval: float,
    generation_seconds: float | None,
    use_rate_card: bool,
    check_remote: bool = False,
) -> Steps[BatchEstimate]:
    """The whole preview (see ``client.images.estimate_batch``)."""
    if isinstance(requests, (str, bytes, Mapping)):
        raise TypeError("requests must be an iterable of prompts or parameter dicts")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive int, got {concurrency!r}")
    check_wait_args(None, poll_interval, max_poll_interval)
    if generation_seconds is not None and not (
        math.isfinite(generation_seconds) and generation_seconds >= 0
    ):
        raise ValueError(
            f"generation_seconds must be a finite number >= 0, got {generation_seconds!r}"
        )
    checked = _checked(media, requests)

    book = PriceBook(media, use_rate_card=use_rate_card)
    if check_remote:
        yield from _check_remote(media, requests, checked, book)
    items: list[Estimate] = []
    for index, request_ in enumerate(checked):
        try:
            items.append(book.known(request_) or (yield from book.steps(request_)))
        except APIStatusError as error:
            # Keep the typed error; say which request the API refused.
            error.message = f"batch request #{index}: {error.message}"
            error.args = (error.message,)
            raise
    keys = [book.key(request_) for request_ in checked]
    by_card = sum(1 for key in keys if key in book.card_classes)
    total = sum((amount_of(item) for item in items), Decimal(0))

    balance: Balance = yield from request("GET", "/v1/balance", Balance, RequestOptions())

    source: Literal["given", "usage", "documented"] | None = None
    if generation_seconds is not None:
        seconds: float | None = float(generation_seconds)
        source = "given"
    else:
        seconds = yield from _typical_seconds(client, media)
        if seconds is not None:
            source = "usage"
        elif media == "image":
            seconds, source = DOCUMENTED_IMAGE_SECONDS, "documented"

    limits, tokens = _limits(client, media, concurrency)
    count = len(checked)
    outputs = sum(_outputs(media, request_) for request_ in checked)
    polls = expected_polls(seconds or 0.0, poll_interval, max_poll_interval)
    per_item = 1.0 + polls + (outputs / count if download and count else 0.0)
    reads = round(count * (per_item - 1))
    bound = duration_lower_bound(
        generations=count,
        generation_seconds=seconds or 0.0,
        create_burst=tokens,
        create_per_second=limits.create_per_second,
        concurrency_limit=min(limits.concurrency_limit, concurrency),
        reads=reads,
        reads_burst=limits.reads_burst,
        reads_per_second=limits.reads_per_second,
    )
    return BatchEstimate(
        media=media,
        total=_number(total),
        items=items,
        balance=balance,
        balance_after=_number(decimal(balance.available_credits) - total),
        affordable=_affordable(items, balance),
        min_duration=bound,
        generation_seconds=seconds,
        generation_seconds_source=source,
        limits=limits,
        requests=count,
        distinct_requests=_distinct(checked),
        outputs=outputs,
        price_classes=len(set(keys)),
        estimate_calls=book.estimate_calls,
        priced_by_rate_card=by_card,
        requests_per_generation=per_item,
        api_requests=round(count * per_item),
    )


def _number(value: Decimal) -> float:
    return float(value)
