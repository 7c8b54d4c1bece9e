"""Tracing and metrics through the OpenTelemetry API (the ``aurous[otel]`` extra).

Loaded by name (`aurous._observe.telemetry`) only when a program wants it: a client given a
``tracer_provider`` or ``meter_provider``, or a client created after the program imported
OpenTelemetry, which then reports to the global providers. Nothing else in the SDK imports
OpenTelemetry, so a program that never does pays nothing.

Per public call: one INTERNAL span named after the method (``"images.create_and_wait"``), one
CLIENT child span per HTTP request it sends (OpenTelemetry's HTTP client conventions, with a
``traceparent`` sent to the API), events for its retries, pacing waits, polls and download, and
as attributes the generation's identity and cost, the client copy's tags (``aurous.tag.<name>``)
and the time spent on a shared pacing store; and four metrics (`OtelObserver`), without tags.
Parents are passed explicitly, never attached to the current context: a call's steps run in
generator frames that may be suspended in one task while another runs, and an attached context
would leak into it.

Never recorded: request or response bodies (prompts, webhook secrets), headers (the API key),
query strings (a signed output URL carries its token there) and the user info of a URL; the
text of an error is recorded with the API key, URL queries and webhook secrets taken out.
"""

from __future__ import annotations

import collections
import json
import re
import threading
import time
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import httpx
from opentelemetry import metrics, propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from ._errors import APIStatusError
from ._steps import Exchange, Note, Shared, Sleep, UnreadBody, WaitFor
from ._version import __version__
from .types.generation import Generation

if TYPE_CHECKING:
    from opentelemetry.metrics import Histogram, MeterProvider
    from opentelemetry.trace import Span, TracerProvider
    from opentelemetry.util.types import AttributeValue

    from ._client import _BaseClient
    from ._observe import Watch

__all__ = ["OtelObserver", "observer", "redact"]

SCHEMA_URL = "https://opentelemetry.io/schemas/1.26.0"
"""The semantic conventions the HTTP attributes follow (stable HTTP conventions)."""
_MISSING = object()

_NO_TRACING: tuple[type[Any], ...] = (trace.ProxyTracerProvider, trace.NoOpTracerProvider)
_NO_METRICS: tuple[type[Any], ...] = (metrics.NoOpMeterProvider,)
try:
    # Private: where the API keeps the global meter provider (None until one is set).
    from opentelemetry.metrics import _internal as _metrics_state

    _NO_METRICS += (_metrics_state._ProxyMeterProvider,)
except (ImportError, AttributeError):  # pragma: no cover - an API laid out otherwise
    _metrics_state = None  # type: ignore[assignment]

# Called once now so that a provider named in the environment (OTEL_PYTHON_TRACER_PROVIDER …)
# is loaded into the globals read below.
trace.get_tracer_provider()
metrics.get_meter_provider()


def _tracing_configured() -> bool:
    """Whether a global tracer provider that records is set.

    Reads the API's global straight, as the getter costs a microsecond (an environment lookup)
    on every call of a program that imported OpenTelemetry without configuring it.
    """
    provider = getattr(trace, "_TRACER_PROVIDER", _MISSING)
    if provider is _MISSING:  # pragma: no cover - an API laid out otherwise
        provider = trace.get_tracer_provider()
    return provider is not None and not isinstance(provider, _NO_TRACING)


def _metrics_configured() -> bool:
    """Whether a global meter provider that records is set (read as `_tracing_configured`)."""
    provider = getattr(_metrics_state, "_METER_PROVIDER", _MISSING)
    if provider is _MISSING:  # pragma: no cover - an API laid out otherwise
        provider = metrics.get_meter_provider()
    return provider is not None and not isinstance(provider, _NO_METRICS)


_DEFAULT_PORTS = {"http": 80, "https": 443}
_WAITING = (".create_and_wait", ".wait", ".batch.item")
"""Calls that follow a generation to its end: they record its duration and what it charged."""
_CHARGED_MEMORY = 10_000
"""Generations remembered as counted in ``aurous.credits.charged`` (each is counted once)."""
_DURATION_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 3600)
_WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)

_QUERY = re.compile(r"([a-z][a-z0-9+.-]*://[^\s?#'\"<>]*)\?[^\s#'\"<>]*", re.IGNORECASE)
_USERINFO = re.compile(r"([a-z][a-z0-9+.-]*://)[^/\s@'\"<>]+@", re.IGNORECASE)
_WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9_\-+/=]+")


def redact(text: str, api_key: str | None = None) -> str:
    """``text`` without the API key, webhook secrets, URL query strings and URL user info."""
    if api_key:
        text = text.replace(api_key, "[redacted]")
    text = _WEBHOOK_SECRET.sub("whsec_[redacted]", text)
    text = _QUERY.sub(r"\1", text)
    return _USERINFO.sub(r"\1REDACTED:REDACTED@", text)


def _url_full(url: httpx.URL) -> str:
    """``url.full`` as the conventions want it, less the query (signed URLs carry tokens)."""
    path = url.raw_path.split(b"?", 1)[0].decode("ascii", "replace")
    userinfo = "REDACTED:REDACTED@" if url.userinfo else ""
    return f"{url.scheme}://{userinfo}{url.netloc.decode('ascii', 'replace')}{path}"


def _type_name(cls: type[BaseException]) -> str:
    """``error.type``: the exception's fully qualified class name (``aurous.RateLimitError``);
    ``cancelled`` for a call abandoned where it stood (a cancelled task, Ctrl-C)."""
    if issubclass(cls, GeneratorExit):
        return "cancelled"
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def _retry_reason(detail: Any) -> str:
    """Why a retry waits: ``"503 provider_unavailable"``, ``"APITimeoutError"`` …"""
    if isinstance(detail, APIStatusError):
        return f"{detail.status_code} {detail.code}" if detail.code else str(detail.status_code)
    if isinstance(detail, BaseException):
        return type(detail).__name__
    if isinstance(detail, type):
        return detail.__name__
    return "body_interrupted"  # a download resumes a body that broke off


def _histogram(meter: Any, name: str, description: str, boundaries: Sequence[float]) -> Histogram:
    try:
        made: Histogram = meter.create_histogram(
            name, unit="s", description=description, explicit_bucket_boundaries_advisory=boundaries
        )
    except TypeError:  # opentelemetry-api before 1.23: no advisory, the SDK's default buckets
        made = meter.create_histogram(name, unit="s", description=description)
    return made


class OtelObserver:
    """Reports a client's calls as spans to a tracer provider and as metrics to a meter provider.

    Without a provider of its own, each reports to OpenTelemetry's global one; while no global
    provider is configured, a call is skipped at the cost of two look-ups.
    """

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self.tracer = trace.get_tracer("aurous", __version__, tracer_provider, SCHEMA_URL)
        meter = metrics.get_meter("aurous", __version__, meter_provider, SCHEMA_URL)
        self.always_traced = tracer_provider is not None
        self.always_metered = meter_provider is not None
        self.generation_duration = _histogram(
            meter,
            "aurous.generation.duration",
            "From the create to the terminal status seen (create_and_wait, wait, batch items)",
            _DURATION_BUCKETS,
        )
        self.credits_charged = meter.create_counter(
            "aurous.credits.charged",
            unit="{credit}",
            description="Credits charged for the generations seen to succeed (each counted once)",
        )
        self.requests = meter.create_counter(
            "aurous.requests",
            unit="{request}",
            description="HTTP requests sent (attempts and redirects), by status code",
        )
        self.pacing_wait = _histogram(
            meter,
            "aurous.pacing.wait",
            "Time a call waited for a rate-limit bucket or a concurrency slot",
            _WAIT_BUCKETS,
        )
        self._charged: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._lock = threading.Lock()

    def watch(
        self, name: str, client: _BaseClient[Any, Any], parent: Watch | None = None
    ) -> Watch | None:
        traced = self.always_traced or _tracing_configured()
        metered = self.always_metered or _metrics_configured()
        if not (traced or metered):
            return None
        up = parent if isinstance(parent, _CallWatch) else None
        return _CallWatch(self, name, client, up, traced, metered)

    def charge(self, generation_id: str, amount: float, attributes: dict[str, Any]) -> None:
        """Count what ``generation_id`` charged, unless it was counted already."""
        with self._lock:
            if generation_id in self._charged:
                return
            self._charged[generation_id] = None
            if len(self._charged) > _CHARGED_MEMORY:
                self._charged.popitem(last=False)
        self.credits_charged.add(amount, attributes)


class _CallWatch:
    """One call's span and what it learned; its steps come one at a time."""

    __slots__ = (
        "api_key",
        "attempt",
        "call",
        "charged",
        "client",
        "clock",
        "context",
        "create",
        "generation_id",
        "held",
        "http",
        "index",
        "inference_type",
        "key",
        "media",
        "metered",
        "model",
        "name",
        "observer",
        "polled",
        "request_id",
        "span",
        "started",
        "status",
        "store_operations",
        "store_seconds",
        "store_since",
        "waiting_since",
        "waiting_since_ns",
    )

    def __init__(
        self,
        observer: OtelObserver,
        name: str,
        client: _BaseClient[Any, Any],
        parent: _CallWatch | None,
        traced: bool,
        metered: bool,
    ) -> None:
        self.observer = observer
        self.name = name
        self.client = client
        self.api_key: str = client._api_key
        self.clock = client._clock
        self.started: float = self.clock.monotonic()
        self.metered = metered
        self.span: Span | None = None
        self.context: Any = None
        if traced:
            up = None if parent is None else parent.context
            # Tags go on the span only, never on metrics: a tag such as a user id has unbounded
            # values, and each value would be a new time series.
            tags = client._tags
            attributes = {f"aurous.tag.{k}": v for k, v in tags.items()} if tags else None
            span = observer.tracer.start_span(name, up, SpanKind.INTERNAL, attributes)
            self.span = span
            # Kept even when the span is not sampled: its HTTP children and the traceparent
            # sent carry the decision on.
            self.context = trace.set_span_in_context(span)
        self.http: Span | None = None
        self.call: Any = None
        self.attempt = 0
        self.create: Any = None
        self.key: str | None = None
        self.request_id: str | None = None
        self.generation_id: str | None = None
        self.status: str | None = None
        self.media: str | None = None
        self.model: str | None = None
        self.inference_type: str | None = None
        self.held: float | None = None
        self.charged: float | None = None
        self.index: int | None = None
        self.polled = False
        self.waiting_since = 0.0
        self.waiting_since_ns = 0
        self.store_since = 0.0
        self.store_seconds = 0.0
        self.store_operations = 0

    # ---- the Watch protocol ----------------------------------------------------------------------
    def step(self, step: Any) -> Any:
        kind = type(step)
        if kind is Exchange:
            self._send(step)
        elif kind is Sleep:
            if step.reason != "poll":
                self._wait(step)
        elif kind is WaitFor and step.reason == "concurrency":  # (a poll's pause is no wait)
            self.waiting_since = self.clock.monotonic()
            self.waiting_since_ns = time.time_ns()
        elif kind is Shared:
            self.store_since = self.clock.monotonic()
        elif kind is Note:
            self._note(step)
        return step

    def stepped(self, step: Any, value: Any) -> None:
        kind = type(step)
        if kind is Exchange:
            self._answered(step, value)
        elif kind is WaitFor and step.reason == "concurrency":
            self._waited(step)
        elif kind is Shared:
            self._stored()

    def failed(self, step: Any, error: BaseException) -> None:
        kind = type(step)
        if kind is Exchange:
            self._broke(step, error)
        elif kind is WaitFor and step.reason == "concurrency":
            self._waited(step)
        elif kind is Shared:
            self._stored()

    def end(self, result: Any, error: BaseException | None) -> None:
        failure = error
        generation = result if isinstance(result, Generation) else None
        if error is not None:
            generation = getattr(error, "generation", None)
            request_id = getattr(error, "request_id", None)
            if isinstance(request_id, str):
                self.request_id = request_id
            key = getattr(error, "idempotency_key", None)
            if isinstance(key, str):
                self.key = key
        elif self.name.endswith(".batch.item"):
            # An item never raises: its outcome carries the generation and the error.
            generation = getattr(result, "generation", None)
            failure = getattr(result, "error", None)
        if isinstance(generation, Generation):
            self._learn(generation)
        if self.http is not None:  # cancelled or interrupted while a request was out
            self._end_http(None, "cancelled" if failure is None else _type_name(type(failure)))
        span = self.span
        if span is not None:
            if span.is_recording():
                span.set_attributes(self._attributes(result))
                if failure is not None:
                    self._fail(span, failure)
            span.end()
        if self.metered:
            self._measure()

    # ---- HTTP requests ---------------------------------------------------------------------------
    def _send(self, step: Exchange) -> None:
        call = step.call
        hop = call is self.call and step.attempt == self.attempt  # a redirect of the same attempt
        self.call = call
        self.attempt = step.attempt
        if call.idempotency_key is not None:
            self.key = call.idempotency_key
        if call.creates_generation and self.create is None:
            self.create = call
        if self.span is None:
            return
        request = step.request
        url = request.url
        port = url.port or _DEFAULT_PORTS.get(url.scheme)
        attributes: dict[str, AttributeValue] = {
            "http.request.method": request.method,
            "url.full": _url_full(url),
            "server.address": url.host,
        }
        if port is not None:
            attributes["server.port"] = port
        if not hop:  # a redirect goes somewhere the route does not describe
            attributes["url.template"] = call.route.partition(" ")[2]
        if step.resend_count:
            attributes["http.request.resend_count"] = step.resend_count
        name = request.method if hop else call.route
        http = self.observer.tracer.start_span(name, self.context, SpanKind.CLIENT, attributes)
        self.http = http
        # Trace context goes to the API only: storage behind a signed URL has no use for it.
        if (url.scheme, url.host, port) == self.client._transport._origin:
            propagate.inject(request.headers, trace.set_span_in_context(http))

    def _answered(self, step: Exchange, response: httpx.Response) -> None:
        status = response.status_code
        request_id = response.headers.get("aurous-request-id")
        if request_id is not None:
            self.request_id = request_id
        http = self.http
        if http is not None:
            self.http = None
            attributes: dict[str, AttributeValue] = {"http.response.status_code": status}
            if request_id is not None:
                attributes["aurous.request_id"] = request_id
            if status >= 400:
                attributes["error.type"] = str(status)
                http.set_status(Status(StatusCode.ERROR))
            http.set_attributes(attributes)
            http.end()
        if self.metered:
            self.observer.requests.add(
                1,
                {
                    "http.request.method": step.request.method,
                    "http.response.status_code": status,
                    "url.template": step.call.route.partition(" ")[2],
                },
            )
        if step.call.creates_generation and 200 <= status < 300 and not step.stream:
            self._created(response)

    def _broke(self, step: Exchange, error: BaseException) -> None:
        response = error.response if isinstance(error, UnreadBody) else None
        cause = error.error if isinstance(error, UnreadBody) else error
        error_type = _type_name(type(cause))
        self._end_http(response, error_type)
        if self.metered:
            attributes: dict[str, AttributeValue] = {
                "http.request.method": step.request.method,
                "url.template": step.call.route.partition(" ")[2],
                "error.type": error_type,
            }
            if response is not None:
                attributes["http.response.status_code"] = response.status_code
            self.observer.requests.add(1, attributes)

    def _end_http(self, response: httpx.Response | None, error_type: str) -> None:
        http = self.http
        if http is None:
            return
        self.http = None
        attributes: dict[str, AttributeValue] = {"error.type": error_type}
        if response is not None:
            attributes["http.response.status_code"] = response.status_code
        http.set_attributes(attributes)
        http.set_status(Status(StatusCode.ERROR, error_type))
        http.end()

    def _created(self, response: httpx.Response) -> None:
        """What the create's answer says: the generation's id and the credits it holds."""
        try:
            body = json.loads(response.content)
        except ValueError:
            return  # the flow reports the unreadable body
        if not isinstance(body, dict):
            return
        if isinstance(body.get("id"), str):
            self.generation_id = body["id"]
        if isinstance(body.get("status"), str):
            self.status = body["status"]
        cost = body.get("cost")
        amount = cost.get("amount") if isinstance(cost, dict) else None
        if isinstance(amount, (int, float)) and not isinstance(amount, bool):
            self.held = float(amount)

    # ---- waits and notes -------------------------------------------------------------------------
    def _wait(self, step: Sleep) -> None:
        span = self.span
        if step.reason == "backoff":
            if span is not None:
                attributes: dict[str, AttributeValue] = {
                    "aurous.retry.reason": _retry_reason(step.detail),
                    "aurous.retry.delay": step.seconds,
                }
                if step.detail is not None:
                    attributes["aurous.attempt"] = self.attempt + 1
                span.add_event("aurous.retry", attributes)
            return
        # A rate limit: the pacer's wait for a token (detail: the route), or a 429 waited out.
        if span is not None:
            detail = step.detail
            bucket = detail if isinstance(detail, str) else getattr(self.call, "route", "")
            attributes = {
                "aurous.wait.kind": step.reason,
                "aurous.wait.seconds": step.seconds,
                "aurous.wait.bucket": bucket,
            }
            if not isinstance(detail, str):
                attributes["http.response.status_code"] = 429
            span.add_event("aurous.pacing.wait", attributes)
        if self.metered:
            self.observer.pacing_wait.record(step.seconds, {"aurous.wait.kind": step.reason})

    def _waited(self, step: WaitFor) -> None:
        seconds = max(0.0, self.clock.monotonic() - self.waiting_since)
        if self.span is not None:
            self.span.add_event(
                "aurous.pacing.wait",
                {
                    "aurous.wait.kind": step.reason,
                    "aurous.wait.seconds": seconds,
                    "aurous.wait.gate": "concurrency",
                },
                self.waiting_since_ns,
            )
        if self.metered:
            self.observer.pacing_wait.record(seconds, {"aurous.wait.kind": step.reason})

    def _stored(self) -> None:
        # Added up, not an event each: a paced call makes several store operations (a token, a
        # ticket, settling both), and one attribute says what the shared store cost it.
        self.store_seconds += max(0.0, self.clock.monotonic() - self.store_since)
        self.store_operations += 1

    def _note(self, step: Note) -> None:
        facts = step.facts
        kind = step.kind
        if kind == "poll":
            self.polled = True
            self.status = facts.get("status")
            self.generation_id = facts.get("generation_id") or self.generation_id
            if self.span is not None and self.status is not None:
                self.span.add_event("aurous.poll", {"aurous.generation.status": self.status})
        elif kind == "download":
            self.generation_id = facts.get("generation_id") or self.generation_id
            if self.span is not None:
                self.span.add_event(
                    "aurous.download",
                    {
                        "aurous.download.bytes": int(facts.get("bytes", 0)),
                        "aurous.download.seconds": float(facts.get("seconds", 0.0)),
                        "aurous.download.files": int(facts.get("files", 0)),
                    },
                )
        elif kind == "batch_item":
            index = facts.get("index")
            self.index = index if isinstance(index, int) else None
            key = facts.get("idempotency_key")
            if isinstance(key, str):
                self.key = key

    # ---- the outcome -----------------------------------------------------------------------------
    def _learn(self, generation: Generation) -> None:
        self.generation_id = generation.id
        self.status = generation.status
        self.media = generation.kind
        self.inference_type = generation.inference_type
        model = getattr(generation, "model", None)  # the API may add it: unknown fields are kept
        if isinstance(model, str):
            self.model = model
        cost = generation.cost
        if cost is not None:
            amount = float(cost.amount)
            if not generation.is_terminal:
                self.held = amount
            else:
                # Succeeded: what was charged; any other end: the hold was released (0).
                self.charged = amount

    def _creation(self) -> None:
        """The media and model of the create this call sent (before the row says so)."""
        create = self.create
        if create is None:
            return
        if self.media is None:
            self.media = "video" if "/videos" in create.route else "image"
        if self.model is None:
            body = create.body_json()
            model = body.get("model") if isinstance(body, dict) else None
            if isinstance(model, str):
                self.model = model

    def _attributes(self, result: Any) -> dict[str, AttributeValue]:
        self._creation()
        attributes: dict[str, AttributeValue] = {}
        facts = (
            ("aurous.generation.id", self.generation_id),
            ("aurous.generation.status", self.status),
            ("aurous.media", self.media),
            ("aurous.model", self.model),
            ("aurous.inference_type", self.inference_type),
            ("aurous.idempotency_key", self.key),
            ("aurous.request_id", self.request_id),
            ("aurous.credits.held", self.held),
            ("aurous.credits.charged", self.charged),
            ("aurous.batch.index", self.index),
        )
        if self.store_operations:
            attributes["aurous.pacing.store_seconds"] = self.store_seconds
            attributes["aurous.pacing.store_operations"] = self.store_operations
        for name, value in facts:
            if value is not None:
                attributes[name] = value
        if self.name.endswith(".batch") and isinstance(result, list):
            attributes["aurous.batch.size"] = len(result)
            attributes["aurous.batch.failed"] = sum(
                1 for item in result if getattr(item, "error", None) is not None
            )
        return attributes

    def _fail(self, span: Span, error: BaseException) -> None:
        if isinstance(error, GeneratorExit):  # its driver stopped: nothing was raised here
            span.set_attribute("error.type", "cancelled")
            span.set_status(Status(StatusCode.ERROR, "the call was cancelled or interrupted"))
            return
        message = redact(str(error), self.api_key)
        stack = redact(
            "".join(traceback.format_exception(type(error), error, error.__traceback__)),
            self.api_key,
        )
        error_type = _type_name(type(error))
        span.set_attribute("error.type", error_type)
        # Recorded by hand, not with record_exception: the text must go through `redact`.
        span.add_event(
            "exception",
            {
                "exception.type": error_type,
                "exception.message": message,
                "exception.stacktrace": stack,
            },
        )
        span.set_status(Status(StatusCode.ERROR, message[:500]))

    def _measure(self) -> None:
        status = self.status
        generation_id = self.generation_id
        if status is None or generation_id is None:
            return
        if not (self.polled or self.name.endswith(_WAITING)):
            return
        if status in ("pending", "queued", "processing"):
            return  # not finished (a wait that timed out): no duration, nothing charged yet
        self._creation()
        attributes: dict[str, Any] = {"aurous.generation.status": status}
        if self.media is not None:
            attributes["aurous.media"] = self.media
        if self.model is not None:
            attributes["aurous.model"] = self.model
        self.observer.generation_duration.record(
            max(0.0, self.clock.monotonic() - self.started), attributes
        )
        if status == "succeeded" and self.charged:
            del attributes["aurous.generation.status"]
            self.observer.charge(generation_id, self.charged, attributes)


_global: OtelObserver | None = None
_global_lock = threading.Lock()


def observer(
    tracer_provider: TracerProvider | None = None, meter_provider: MeterProvider | None = None
) -> OtelObserver:
    """The observer for these providers; one shared by every client when neither is given."""
    global _global
    if tracer_provider is not None or meter_provider is not None:
        return OtelObserver(tracer_provider, meter_provider)
    if _global is None:
        with _global_lock:
            if _global is None:
                _global = OtelObserver()
    return _global
