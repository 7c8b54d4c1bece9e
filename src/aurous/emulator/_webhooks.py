"""Webhook delivery: endpoints, the event envelope and the delivery engine.

Every event the core emits (``Core.emit_event``) becomes one envelope, serialised once, and one
*delivery* per active endpoint of the team that subscribes to its type. Per-request
``webhook_url`` callbacks (``Core.emit_callback``) become one unsigned delivery each. Deliveries
wait in a queue ordered by due time on the emulator clock.

How an attempt is made depends on the sender:

* a ``sender`` callable (in-memory receiver, for tests): called inline whenever the clock is
  consulted, with the attempt made at its scheduled time, so a manual clock gives an exact
  retry schedule;
* real HTTP (served mode, ``deliver=True`` or a ``transport``): due attempts are claimed under the
  core lock and POSTed by a worker thread with httpx *outside* the lock, so a receiver may call
  the emulator back while handling the delivery;
* neither: attempts are recorded only and count as acknowledged.

Every attempt is recorded as a :class:`DeliveryAttempt` (``emu.deliveries``).
"""

from __future__ import annotations

import dataclasses
import heapq
import ipaddress
import itertools
import json
import queue
import threading
import time
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import httpx

from ..types.literals import EventType
from ..webhooks import SIGNATURE_HEADER, sign
from ._clock import format_timestamp
from ._hooks import EventHooks
from ._http import API_VERSION, dumps

if TYPE_CHECKING:
    from ._core import Core
    from ._state import Team

__all__ = [
    "ENDPOINTS",
    "EVENT_TYPES",
    "DeliveryAttempt",
    "OutgoingWebhook",
    "Sender",
    "WebhookEndpoint",
    "WebhookEngine",
    "WebhookEvent",
    "WebhookSettings",
    "engine_of",
    "is_loopback_host",
    "render_endpoint",
    "secret_preview",
]

EVENT_TYPES: tuple[str, ...] = typing.get_args(EventType)  # the SDK's list is the one list
"""Every known event type, in the order ``"*"`` expands to."""

ENDPOINTS = "webhook_endpoints"
"""Name of the team collection holding :class:`WebhookEndpoint` rows."""

SECRET_PREFIX = "whsec_"


@dataclasses.dataclass(frozen=True)
class OutgoingWebhook:
    """One HTTP request the emulator makes to a receiver: ``POST url`` with ``headers`` and
    ``body`` (the exact bytes a signature covers)."""

    url: str
    headers: dict[str, str]
    body: bytes


Sender = Callable[[OutgoingWebhook], int]
"""An in-memory receiver: returns the HTTP status it answers with. Raising counts as a failed
attempt without a status (connection refused, timeout, ...)."""


@dataclasses.dataclass
class WebhookSettings:
    """How the emulator delivers webhooks. Every number of the retry schedule is configurable."""

    max_attempts: int = 8
    """Attempts per event and endpoint."""
    first_retry_delay: float = 10.0
    """Delay before attempt 2; attempt k+1 waits ``min(first × 2^(k−1), cap)`` seconds."""
    retry_cap: float = 3600.0
    timeout: float = 10.0
    """A receiver must answer 2xx within this many seconds (HTTP delivery only)."""
    disable_after_failures: int = 20
    """Auto-disable at this many consecutive failures ..."""
    disable_quiet_period: float = 24 * 3600.0
    """... when there was no success during this period."""
    callback_attempts: int = 3
    """Per-request ``webhook_url`` callbacks: attempts, ..."""
    callback_interval: float = 2.0
    """... and the fixed gap between them."""
    allow_http_loopback: bool = False
    """Accept ``http://`` endpoint URLs on loopback hosts (127.0.0.0/8, ::1, localhost), so a
    receiver on this machine can be registered. Off by default, as the API refuses every
    ``http://`` URL (``400 invalid_format``); ``Emulator(allow_http_webhooks=True)`` and
    ``--allow-http-webhooks`` turn it on for local testing. Other hosts always need
    ``https://``."""
    deliver: bool = False
    """In-process mode: also POST every attempt over real HTTP. Served mode always does."""
    sender: Sender | None = None
    """An in-memory receiver called inline instead of HTTP (takes precedence over HTTP)."""
    transport: httpx.BaseTransport | None = None
    """POST through this httpx transport (implies HTTP delivery)."""
    poll_interval: float = 0.05
    """How often (real seconds) the HTTP worker consults the clock for due retries."""

    def retry_delay(self, failed_attempt: int) -> float:
        """Seconds between failed attempt ``failed_attempt`` and the next one."""
        return float(min(self.first_retry_delay * 2 ** (failed_attempt - 1), self.retry_cap))


@dataclasses.dataclass
class WebhookEndpoint:
    """A registered endpoint (spec/openapi.yaml, schema ``WebhookEndpoint``)."""

    id: str
    team_id: str
    url: str
    events: list[str]
    secret: str
    created_at: float
    updated_at: float
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)
    description: str | None = None
    is_active: bool = True
    consecutive_failures: int = 0
    last_success_at: float | None = None
    last_failure_at: float | None = None


def secret_preview(secret: str) -> str:
    """``whsec_`` + first 3 + ``...`` + last 4 characters of the random part."""
    random_part = secret[len(SECRET_PREFIX) :]
    return f"{SECRET_PREFIX}{random_part[:3]}...{random_part[-4:]}"


def _ts(value: float | None) -> str | None:
    return None if value is None else format_timestamp(value)


def render_endpoint(endpoint: WebhookEndpoint, *, reveal: bool = False) -> dict[str, Any]:
    """The endpoint object; the plaintext secret only with ``reveal`` (create, rotate)."""
    return {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "url": endpoint.url,
        "events": list(endpoint.events),
        "secret_preview": secret_preview(endpoint.secret),
        "secret": endpoint.secret if reveal else None,
        "is_active": endpoint.is_active,
        "consecutive_failures": endpoint.consecutive_failures,
        "last_success_at": _ts(endpoint.last_success_at),
        "last_failure_at": _ts(endpoint.last_failure_at),
        "metadata": dict(endpoint.metadata),
        "description": endpoint.description,
        "created_at": format_timestamp(endpoint.created_at),
        "updated_at": format_timestamp(endpoint.updated_at),
    }


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a literal loopback address (127.0.0.0/8, ::1)."""
    host = host.lower().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclasses.dataclass(frozen=True)
class WebhookEvent:
    """One emitted event: its envelope, serialised once (``body``), and who it belongs to."""

    id: str
    type: str
    team_id: str
    created_at: float
    synthetic: bool
    body: bytes

    @property
    def envelope(self) -> dict[str, Any]:
        """The parsed envelope ``{id, object, type, created_at, api_version, synthetic, data}``."""
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def data(self) -> dict[str, Any]:
        """The resource the event carries."""
        data: dict[str, Any] = self.envelope["data"]
        return data


@dataclasses.dataclass(frozen=True)
class DeliveryAttempt:
    """One delivery attempt, as recorded by the emulator (``emu.deliveries``).

    ``kind`` is ``"event"`` for registered endpoints (signed envelope) and ``"callback"`` for a
    per-request ``webhook_url`` (unsigned ``{event, data}``). ``ok`` is the outcome used for
    retries and bookkeeping; ``sent`` is False when no receiver was configured (recorded only,
    counted as acknowledged); ``status`` is the receiver's HTTP status, ``error`` why there was
    none.
    """

    kind: Literal["event", "callback"]
    event_id: str | None
    event_type: str
    endpoint_id: str | None
    url: str
    attempt: int
    at: float
    headers: dict[str, str]
    body: bytes
    status: int | None
    error: str | None
    ok: bool
    sent: bool
    synthetic: bool

    def json(self) -> Any:
        """The parsed body."""
        return json.loads(self.body)

    @property
    def signature(self) -> str | None:
        """The ``Aurous-Webhook-Signature`` header sent, if any."""
        return self.headers.get(SIGNATURE_HEADER)


@dataclasses.dataclass(eq=False)
class _Delivery:
    """One event for one endpoint (or one callback), across its attempts."""

    seq: int
    team_id: str
    kind: Literal["event", "callback"]
    endpoint_id: str | None
    url: str
    event_id: str | None
    event_type: str
    body: bytes
    synthetic: bool
    max_attempts: int
    due_at: float
    attempts: int = 0
    dropped: bool = False


@dataclasses.dataclass(frozen=True)
class _Job:
    delivery: _Delivery
    request: OutgoingWebhook
    started: float


class WebhookEngine(EventHooks):
    """The emulator's :class:`EventHooks`: turns events into signed, retried deliveries.

    Reachable as ``emu.webhooks``. All state is guarded by the core lock.
    """

    def __init__(self, core: Core, settings: WebhookSettings) -> None:
        self._core = core
        self.settings = settings
        self.sender: Sender | None = settings.sender
        """The in-memory receiver (see :class:`WebhookSettings`); may be replaced at any time."""
        self._events: list[WebhookEvent] = []
        self._attempts: list[DeliveryAttempt] = []
        self._queue: list[tuple[float, int, _Delivery]] = []
        self._live: dict[int, _Delivery] = {}
        self._seq = itertools.count(1)
        self._draining = False
        self._serving = False
        self._worker: _Worker | None = None
        # The served emulator (``EmulatorServer``) points public_base_url at its real address
        # while it runs and restores it on stop: that is how served mode is recognised.
        self._in_process_base_url = core.public_base_url

    # ------------------------------------------------------------------------- inspection
    @property
    def events(self) -> list[WebhookEvent]:
        """Every event emitted so far (all teams), oldest first."""
        with self._core.lock:
            return list(self._events)

    @property
    def deliveries(self) -> list[DeliveryAttempt]:
        """Every delivery attempt made so far, in the order they completed."""
        with self._core.lock:
            return list(self._attempts)

    def pending(self) -> int:
        """Deliveries still waiting for an attempt or in flight."""
        with self._core.lock:
            return sum(1 for d in self._live.values() if not d.dropped)

    def clear(self) -> None:
        """Forget the recorded events and attempts (queued deliveries stay queued)."""
        with self._core.lock:
            self._events.clear()
            self._attempts.clear()

    # ------------------------------------------------------------------------- modes
    @property
    def uses_http(self) -> bool:
        """Whether attempts are POSTed over HTTP (by the worker thread, outside the lock)."""
        if self.sender is not None:
            return False
        return self.serving or self.settings.deliver or self.settings.transport is not None

    @property
    def serving(self) -> bool:
        """Whether the emulator is being served over HTTP (then every attempt is a real POST)."""
        return self._serving or self._core.public_base_url != self._in_process_base_url

    def set_serving(self, serving: bool) -> None:
        """Force served-mode delivery on or off (for cores served by other means)."""
        self._serving = serving

    def flush(self, timeout: float = 15.0) -> bool:
        """Make every attempt that is due now and wait until HTTP attempts in flight have
        finished. Returns False if ``timeout`` (real seconds) passed first."""
        deadline = time.monotonic() + timeout
        while True:
            self._core.tick()
            with self._core.lock:
                due = self._has_due(self._core.clock.now())
            worker = self._worker
            if not due and (worker is None or worker.idle()):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if worker is not None:
                worker.wait_idle(min(remaining, 0.05))
            else:
                time.sleep(min(remaining, 0.01))

    def close(self) -> None:
        """Stop the HTTP worker thread (queued deliveries stay queued)."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()

    # ------------------------------------------------------------------------- EventHooks
    def emit_event(self, team: Team, type: str, data: dict[str, Any], at: float) -> None:
        """Queue ``type`` for every active endpoint of ``team`` that subscribes to it."""
        event = self.record_event(team, type, data, at, synthetic=False)
        endpoints: dict[str, WebhookEndpoint] = team.collection(ENDPOINTS)
        for endpoint in sorted(endpoints.values(), key=lambda e: e.id):
            if endpoint.is_active and type in endpoint.events:
                self._enqueue_event(event, endpoint, at)
        self._drain(self._core.clock.now())

    def emit_callback(
        self, team: Team, url: str, event: str, data: dict[str, Any], at: float
    ) -> None:
        """Queue an unsigned ``{event, data}`` delivery to a per-request ``webhook_url``."""
        delivery = _Delivery(
            seq=next(self._seq),
            team_id=team.id,
            kind="callback",
            endpoint_id=None,
            url=url,
            event_id=None,
            event_type=event,
            body=dumps({"event": event, "data": data}),
            synthetic=False,
            max_attempts=self.settings.callback_attempts,
            due_at=at,
        )
        self._push(delivery)
        self._drain(self._core.clock.now())

    # ------------------------------------------------------------------------- API for routes
    def record_event(
        self, team: Team, type: str, data: dict[str, Any], at: float, *, synthetic: bool
    ) -> WebhookEvent:
        """Build (once) and remember the envelope of an event."""
        event_id = self._core.ids.prefixed("evt_", at)
        envelope = {
            "id": event_id,
            "object": "event",
            "type": type,
            "created_at": format_timestamp(at),
            "api_version": API_VERSION,
            "synthetic": synthetic,
            "data": data,
        }
        event = WebhookEvent(event_id, type, team.id, at, synthetic, dumps(envelope))
        self._events.append(event)
        return event

    def fire_test(
        self, team: Team, endpoint: WebhookEndpoint, type: str, data: dict[str, Any], at: float
    ) -> WebhookEvent:
        """A synthetic event delivered to ``endpoint`` only, even when it is inactive."""
        event = self.record_event(team, type, data, at, synthetic=True)
        self._enqueue_event(event, endpoint, at)
        self._drain(self._core.clock.now())
        return event

    def drop_endpoint(self, endpoint_id: str) -> None:
        """Drop every queued delivery of an endpoint (delete, auto-disable)."""
        for delivery in self._live.values():
            if delivery.endpoint_id == endpoint_id:
                delivery.dropped = True

    def tick(self, now: float) -> None:
        """Make every attempt due by ``now`` (called by the ticker, under the lock)."""
        self._drain(now)

    # ------------------------------------------------------------------------- queue
    def _enqueue_event(self, event: WebhookEvent, endpoint: WebhookEndpoint, at: float) -> None:
        self._push(
            _Delivery(
                seq=next(self._seq),
                team_id=event.team_id,
                kind="event",
                endpoint_id=endpoint.id,
                url=endpoint.url,
                event_id=event.id,
                event_type=event.type,
                body=event.body,
                synthetic=event.synthetic,
                max_attempts=self.settings.max_attempts,
                due_at=at,
            )
        )

    def _push(self, delivery: _Delivery) -> None:
        self._live[delivery.seq] = delivery
        heapq.heappush(self._queue, (delivery.due_at, delivery.seq, delivery))

    def _has_due(self, now: float) -> bool:
        return any(due <= now and not d.dropped for due, _, d in self._queue)

    def _drain(self, now: float) -> None:
        # Re-entrant calls (an auto-disable emitting endpoint_disabled, a sender calling the
        # emulator back) only queue; the outer loop picks their deliveries up.
        if self._draining:
            return
        self._draining = True
        try:
            while self._queue and self._queue[0][0] <= now:
                due, _, delivery = heapq.heappop(self._queue)
                if delivery.dropped:
                    self._live.pop(delivery.seq, None)
                    continue
                self._attempt(delivery, due, now)
        finally:
            self._draining = False

    def _attempt(self, delivery: _Delivery, due: float, now: float) -> None:
        headers = {"Content-Type": "application/json"}
        url = delivery.url
        http = self.uses_http
        # In-memory attempts happen at their scheduled time (lazy, like generation
        # transitions); HTTP attempts happen when they are really sent.
        at = now if http else due
        if delivery.kind == "event":
            endpoint = self._endpoint(delivery)
            if endpoint is None or (not endpoint.is_active and not delivery.synthetic):
                self._live.pop(delivery.seq, None)
                return
            url = endpoint.url
            # The SDK's own signer: deliveries verify with aurous.webhooks.verify by construction.
            headers[SIGNATURE_HEADER] = sign(delivery.body, endpoint.secret, timestamp=int(at))
        delivery.attempts += 1
        request = OutgoingWebhook(url, headers, delivery.body)
        if http:
            self._ensure_worker().submit(_Job(delivery, request, at))
            return
        status: int | None = None
        error: str | None = None
        sent = self.sender is not None
        if self.sender is not None:
            try:
                status = int(self.sender(request))
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
        ok = not sent or (status is not None and 200 <= status < 300)
        self._settle(delivery, request, at, at, status, error, ok=ok, sent=sent)

    def _endpoint(self, delivery: _Delivery) -> WebhookEndpoint | None:
        team = self._core.state.teams.get(delivery.team_id)
        if team is None or delivery.endpoint_id is None:
            return None
        endpoint: WebhookEndpoint | None = team.collection(ENDPOINTS).get(delivery.endpoint_id)
        return endpoint

    def _settle(
        self,
        delivery: _Delivery,
        request: OutgoingWebhook,
        started: float,
        finished: float,
        status: int | None,
        error: str | None,
        *,
        ok: bool,
        sent: bool,
    ) -> None:
        self._attempts.append(
            DeliveryAttempt(
                kind=delivery.kind,
                event_id=delivery.event_id,
                event_type=delivery.event_type,
                endpoint_id=delivery.endpoint_id,
                url=request.url,
                attempt=delivery.attempts,
                at=started,
                headers=dict(request.headers),
                body=request.body,
                status=status,
                error=error,
                ok=ok,
                sent=sent,
                synthetic=delivery.synthetic,
            )
        )
        if delivery.kind == "event":
            endpoint = self._endpoint(delivery)
            if endpoint is not None:
                self._bookkeep(endpoint, delivery, finished, ok=ok)
        if ok or delivery.dropped or delivery.attempts >= delivery.max_attempts:
            self._live.pop(delivery.seq, None)
            return
        if delivery.kind == "callback":
            delay = self.settings.callback_interval
        else:
            delay = self.settings.retry_delay(delivery.attempts)
        delivery.due_at = finished + delay
        heapq.heappush(self._queue, (delivery.due_at, delivery.seq, delivery))

    def _bookkeep(
        self, endpoint: WebhookEndpoint, delivery: _Delivery, at: float, *, ok: bool
    ) -> None:
        if ok:
            endpoint.consecutive_failures = 0
            endpoint.last_success_at = at
            return
        endpoint.consecutive_failures += 1
        endpoint.last_failure_at = at
        settings = self.settings
        quiet = (
            endpoint.last_success_at is None
            or at - endpoint.last_success_at > settings.disable_quiet_period
        )
        # Test fires count in the bookkeeping but never change is_active.
        if (
            endpoint.is_active
            and not delivery.synthetic
            and endpoint.consecutive_failures >= settings.disable_after_failures
            and quiet
        ):
            self._disable(endpoint, at)
            delivery.dropped = True

    def _disable(self, endpoint: WebhookEndpoint, at: float) -> None:
        endpoint.is_active = False
        endpoint.updated_at = at
        self.drop_endpoint(endpoint.id)
        team = self._core.state.teams[endpoint.team_id]
        self._core.emit_event(team, "webhook.endpoint_disabled", render_endpoint(endpoint), at)

    # ------------------------------------------------------------------------- HTTP worker
    def _ensure_worker(self) -> _Worker:
        if self._worker is None or not self._worker.is_alive():
            self._worker = _Worker(self)
            self._worker.start()
        return self._worker

    def _post(
        self, client: httpx.Client, request: OutgoingWebhook
    ) -> tuple[int | None, str | None]:
        """One HTTP attempt, outside the lock: ``(status, error)``."""
        started = time.monotonic()
        try:
            response = client.post(request.url, content=request.body, headers=request.headers)
        except httpx.TimeoutException:
            return None, "timeout"
        except Exception as exc:
            return None, f"{type(exc).__name__}: {exc}"
        if time.monotonic() - started > self.settings.timeout:
            return response.status_code, "timeout"
        return response.status_code, None

    def _run_job(self, client: httpx.Client, job: _Job) -> None:
        status, error = self._post(client, job.request)
        ok = error is None and status is not None and 200 <= status < 300
        with self._core.lock:
            finished = self._core.clock.now()
            self._settle(
                job.delivery, job.request, job.started, finished, status, error, ok=ok, sent=True
            )
            self._drain(finished)

    def _poll(self) -> None:
        """Idle worker: consult the clock when retries are waiting, so they get claimed."""
        with self._core.lock:
            waiting = bool(self._queue)
        if waiting:
            self._core.tick()

    def _http_client(self) -> httpx.Client:
        # Redirects are failures, never followed; proxies from the environment must not
        # intercept deliveries to local receivers.
        return httpx.Client(
            transport=self.settings.transport,
            timeout=self.settings.timeout,
            follow_redirects=False,
            trust_env=False,
        )


class _Worker(threading.Thread):
    """POSTs claimed attempts one at a time, outside the core lock."""

    def __init__(self, engine: WebhookEngine) -> None:
        super().__init__(name="aurous-emulator-webhooks", daemon=True)
        self._engine = engine
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._busy = 0
        self._cond = threading.Condition()
        self._stopped = threading.Event()

    def submit(self, job: _Job) -> None:
        with self._cond:
            self._busy += 1
        self._jobs.put(job)

    def idle(self) -> bool:
        with self._cond:
            return self._busy == 0

    def wait_idle(self, timeout: float) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._busy == 0, timeout)

    def stop(self) -> None:
        self._stopped.set()
        self._jobs.put(None)
        if threading.current_thread() is not self:
            self.join(timeout=self._engine.settings.timeout + 1)

    def run(self) -> None:
        with self._engine._http_client() as client:
            while not self._stopped.is_set():
                try:
                    job = self._jobs.get(timeout=self._engine.settings.poll_interval)
                except queue.Empty:
                    self._engine._poll()
                    continue
                if job is None:
                    break
                try:
                    self._engine._run_job(client, job)
                finally:
                    with self._cond:
                        self._busy -= 1
                        self._cond.notify_all()


def engine_of(core: Core) -> WebhookEngine:
    """The delivery engine installed on ``core`` (see ``routes/webhook_endpoints.py``)."""
    engine = core.extensions.get("webhooks")
    if not isinstance(engine, WebhookEngine):
        raise RuntimeError("the webhook delivery engine is not installed on this core")
    return engine
