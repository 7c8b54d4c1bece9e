"""The IO-free core: request value in, response value out.

A request is evaluated in a fixed order, the first failing step deciding the response: route,
authentication, ``Aurous-Version``, scope, rate limit, idempotency lookup (``begin``), then
validation, referenced resources, moderation, concurrency, balance and the action (``finish``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import email.utils
import logging
import re
import threading
import time
from typing import Any

from ._clock import Clock, RealClock
from ._config import EmulatorConfig
from ._context import RequestContext, path_digest
from ._errors import ApiError, envelope
from ._faults import Faults, Gate, ScriptedFailure
from ._hooks import EventHooks
from ._http import API_VERSION, EmuRequest, EmuResponse, canonical_json, dumps
from ._idempotency import Outcome
from ._ids import IdMint
from ._ratelimit import BucketDecision, TokenBucket
from ._router import Route, Router
from ._state import ApiKey, CallbackRecord, EventRecord, State, Team

__all__ = ["API_VERSION", "Core", "Pending"]

_VERSION_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_log = logging.getLogger("aurous.emulator")


@dataclasses.dataclass
class Pending:
    """A request past steps 1-6, waiting for its latency / gate, then :meth:`Core.finish`.

    ``response`` is already set when the request was decided early (error, replay, redirect).
    """

    request: EmuRequest
    request_id: str
    started: float = 0.0
    """Emulator time at :meth:`Core.begin`; the latency runs from here."""
    delay: float = 0.0
    gate: Gate | None = None
    response: EmuResponse | None = None
    context: RequestContext | None = None
    route: Route | None = None
    failure: ScriptedFailure | None = None
    decision: BucketDecision | None = None


class Core:
    """The emulator state machine. Thread-safe: every state change happens under one lock."""

    def __init__(
        self,
        config: EmulatorConfig,
        clock: Clock,
        routers: list[Router],
        *,
        state: State | None = None,
        public_base_url: str = "http://aurous.emulator.local",
    ) -> None:
        self.config = config
        self.clock = clock
        self.routers = routers
        self.state = state or State()
        self.ids = IdMint(config.seed)
        self.faults = Faults()
        self.hooks = EventHooks()
        self.public_base_url = public_base_url
        self.lock = threading.RLock()
        self._signing_secret = self.ids.hex(64).encode()
        self.extensions: dict[str, Any] = {}
        """Cross-family services installed by ``Router.setup`` (e.g. ``character_resolver``)."""
        self._abandoned: list[Pending] = []
        self._settled = threading.Condition(self.lock)
        self._ticked_to = float("-inf")
        for router in routers:
            for setup in router.setups:
                setup(self)

    # ------------------------------------------------------------------------- entry points
    def handle(self, request: EmuRequest) -> EmuResponse:
        """Process a request synchronously (latency is spent on the emulator clock)."""
        pending = self.begin(request)
        if pending.delay:
            self.clock.sleep(pending.delay)
        if pending.gate is not None:
            pending.gate.block()
        return self.finish(pending)

    async def ahandle(self, request: EmuRequest) -> EmuResponse:
        """Async form of :meth:`handle`."""
        pending = self.begin(request)
        try:
            if pending.delay:
                await self.clock.asleep(pending.delay)
            if pending.gate is not None:
                await pending.gate.ablock()
        except BaseException:
            # Cancelled (the client went away): the server side still completes the request.
            self.abandon(pending)
            raise
        return self.finish(pending)

    def tick(self) -> None:
        """Advance every time-driven process to the clock's current time."""
        with self.lock:
            self._tick(self.clock.now())

    # ------------------------------------------------------------------------- steps 1-6
    def begin(self, request: EmuRequest) -> Pending:
        """Routing, auth, version, scope, rate limit and idempotency lookup."""
        with self.lock:
            now = self.clock.now()
            self._tick(now)
            request_id = "req_" + self.ids.ulid(now)
            pending = Pending(request, request_id, started=now)
            try:
                self._begin(pending, now)
            except ApiError as error:
                pending.response = self._error_response(error, request_id, pending.decision)
                self._abandon_key(pending)
            if pending.response is not None:
                # Decided already (an error, a replay, a redirect): an after-commit fault hits
                # this response as it would a freshly computed one.
                response = self._after_commit(pending, pending.response)
                pending.response = self._finalise(response, request_id)
            return pending

    def _begin(self, pending: Pending, now: float) -> None:
        request = pending.request
        route, params = self._match(request)
        template = route.template if route else None
        pending.delay = self.faults.latency_for(request.method, request.path, template)
        failure = self.faults.take_failure(request.method, request.path, template)
        if failure is not None and not failure.after_commit:
            pending.response = self._failure_response(failure, pending.request_id)
            return
        pending.failure = failure
        if route is None:
            raise ApiError(
                404,
                "resource_not_found",
                f"Unknown route: {request.method} {request.path}.",
            )
        pending.route = route
        if route.early:
            ctx = self._context(pending, route, params, now, self.state.default_team, None)
            pending.response = route.handler(ctx)
            return
        team, key = self._authenticate(request, route, params)
        version = self._resolve_version(request)
        if key is not None and route.scope == "write" and key.scope not in ("write", "full"):
            raise ApiError(
                403,
                "missing_scope",
                f"This API key has scope '{key.scope}'; {request.method} {request.path} "
                f"requires scope '{route.scope}'.",
            )
        ctx = self._context(pending, route, params, now, team, key)
        ctx.version = version
        pending.context = ctx
        if route.bucket is not None and self.config.rate_limits_enabled:
            pending.decision = self._count(team, route.bucket, now)
            if not pending.decision.allowed:
                raise ApiError(
                    429,
                    "too_many_requests",
                    f"Rate limit exceeded for {route.bucket}. "
                    f"Retry after {pending.decision.retry_after}s.",
                    headers=[("Retry-After", str(pending.decision.retry_after))],
                )
        if route.idempotent:
            self._idempotency_lookup(pending, ctx, route, now)
        if pending.response is None:
            pending.gate = self.faults.gate_for(request.method, request.path, route.template)

    def _match(self, request: EmuRequest) -> tuple[Route | None, dict[str, str]]:
        for router in self.routers:
            for route in router.routes:
                if route.method != request.method:
                    continue
                params = route.match(request.path)
                if params is not None:
                    return route, params
        return None, {}

    def _authenticate(
        self, request: EmuRequest, route: Route, params: dict[str, str]
    ) -> tuple[Team, ApiKey | None]:
        if route.auth == "none":
            return self.state.default_team, None
        key = request.headers.get("x-api-key")
        if key is None:
            authorization = request.headers.get("authorization", "")
            scheme, _, credential = authorization.partition(" ")
            if scheme.lower() == "bearer" and credential.strip():
                key = credential.strip()
        token = None
        if route.auth == "token_or_key":
            token = next((v for k, v in request.query if k == "token"), None)
            if token is not None and route.token_auth is not None:
                owner = route.token_auth(self.state, params, token)
                if owner is not None:
                    return owner, None
        if key is None or key == "":
            if token is not None:
                raise ApiError(401, "invalid_api_key", "The output token provided is not valid.")
            raise ApiError(
                401, "missing_api_key", "No API key provided. Send it in the X-Api-Key header."
            )
        found = self.state.team_of_key(key)
        if found is None and self.config.accept_any_key:
            found = self._adopt_key(key)
        if found is None:
            raise ApiError(401, "invalid_api_key", "The API key provided is not valid.")
        team, record = found
        if record.revoked:
            raise ApiError(401, "revoked_api_key", "The API key provided has been revoked.")
        return team, record

    def _adopt_key(self, key: str) -> tuple[Team, ApiKey]:
        now = self.clock.now()
        record = ApiKey(
            key=key,
            id=self.ids.prefixed("apikey_", now),
            team_id=self.state.default_team_id,
            scope="full",
            user_id=self.ids.uuid4(),
        )
        self.state.keys[key] = record
        return self.state.default_team, record

    def _resolve_version(self, request: EmuRequest) -> str:
        raw = request.headers.get("aurous-version")
        if raw is None:
            return API_VERSION
        value = raw.strip()
        valid = False
        if _VERSION_SHAPE.match(value):
            try:
                valid = _dt.date.fromisoformat(value) <= _dt.date(2026, 5, 15)
            except ValueError:
                valid = False
        if not valid:
            raise ApiError(
                400,
                "unknown_version",
                f"Unknown Aurous-Version '{raw}'. Known versions: {API_VERSION}.",
                param="Aurous-Version",
            )
        return API_VERSION

    def _count(self, team: Team, bucket_name: str, now: float) -> BucketDecision:
        bucket = team.buckets.get(bucket_name)
        if bucket is None:
            capacity, per_minute = self.config.buckets.get(bucket_name, (1200, 600))
            bucket = team.buckets[bucket_name] = TokenBucket(capacity, per_minute, now)
        return bucket.take(now)

    def _idempotency_lookup(
        self, pending: Pending, ctx: RequestContext, route: Route, now: float
    ) -> None:
        headers = pending.request.headers
        key = headers.get("idempotency-key")
        if key is None:
            key = headers.get("aurous-idempotent-key")
        if key is None:
            return
        if not 1 <= len(key) <= 256:
            raise ApiError(
                400,
                "value_out_of_range",
                "Idempotency-Key must be between 1 and 256 characters.",
                param="Idempotency-Key",
            )
        fingerprint = self._fingerprint(ctx, route)
        route_key = f"{pending.request.method} {pending.request.path}"
        outcome, record = ctx.team.idempotency.lookup(
            key, route_key, fingerprint, now, self.config.idempotency_window
        )
        if outcome is Outcome.CONFLICT:
            raise ApiError(
                409,
                "idempotency_key_in_use",
                "Idempotency-Key has already been used with a different request body or route, "
                "or the original request is still in flight.",
            )
        if outcome is Outcome.REPLAY and record is not None:
            pending.response = EmuResponse(
                record.status,
                [("Content-Type", record.content_type), ("Aurous-Idempotent-Replayed", "true")],
                record.body,
            )
            if pending.decision is not None:
                pending.response.headers.extend(pending.decision.headers())
            return
        ctx.idempotency_key = key

    def _fingerprint(self, ctx: RequestContext, route: Route) -> str:
        if route.fingerprint is not None:
            try:
                return canonical_json(route.fingerprint(ctx))
            except ApiError:
                # Unparseable input is rejected later by validation; compare it byte for byte.
                return "raw:" + ctx.request.body.hex()
        try:
            return canonical_json(ctx.json_body())
        except ApiError:
            return "raw:" + ctx.request.body.hex()

    # ------------------------------------------------------------------------- steps 7-12
    def finish(self, pending: Pending) -> EmuResponse:
        """Run the handler (unless decided already) and apply after-commit faults."""
        if pending.response is not None:
            return pending.response
        with self.lock:
            now = self.clock.now()
            self._tick(now)
            return self._finish_locked(pending, now)

    def _finish_locked(self, pending: Pending, now: float) -> EmuResponse:
        """Steps 7-12 at emulator time ``now``; the caller holds the lock."""
        ctx, route = pending.context, pending.route
        assert ctx is not None
        assert route is not None
        ctx.now = now
        try:
            response = route.handler(ctx)
        except ApiError as error:
            response = self._error_response(error, pending.request_id, None)
        except Exception:
            _log.exception("emulator handler failed: %s %s", ctx.request.method, ctx.request.path)
            response = self._error_response(
                ApiError(
                    500,
                    "internal_error",
                    "An internal error occurred. Retry with the same Idempotency-Key.",
                ),
                pending.request_id,
                None,
            )
        if ctx.idempotency_key is not None:
            ctx.team.idempotency.complete(
                ctx.idempotency_key,
                response.status,
                response.body,
                response.header("Content-Type") or "application/json",
                now,
            )
        if pending.decision is not None:
            response.headers.extend(pending.decision.headers())
        response = self._after_commit(pending, response)
        pending.response = self._finalise(response, pending.request_id)
        return pending.response

    # ------------------------------------------------------------------------- abandoned requests
    # A client that stops waiting (read timeout, cancellation) does not stop a real server: the
    # request still runs once its latency is over and its gate is open. Rather than a thread
    # that sleeps and then finishes it, the request joins ``_abandoned`` and is finished by
    # ``_tick`` when the clock passes its due time. That keeps the core's rules: the handler
    # runs under the lock, on whichever thread moves or reads the clock, like every other
    # time-driven transition, and on a manual clock it happens exactly when a test advances
    # past it (a background sleep would advance a manual clock on its own schedule instead).
    # On the real clock nobody else may read the clock, so a daemon thread wakes the core at
    # the due time; a gate's release wakes it too.
    def abandon(self, pending: Pending) -> None:
        """The client stopped waiting for ``pending``: finish it server-side when it is due."""
        if pending.response is not None:
            return
        with self.lock:
            self._abandoned.append(pending)
            now = self.clock.now()
            self._tick(now)
        if pending.gate is not None:
            pending.gate.on_release(self.tick)
        due = pending.started + pending.delay
        if isinstance(self.clock, RealClock) and due > now:
            threading.Thread(
                target=self._wake_at, args=(due,), name="aurous-emulator-abandoned", daemon=True
            ).start()

    def wait_abandoned(self, timeout: float | None = None) -> bool:
        """Wait (real seconds) until every abandoned request has been finished; False on timeout.

        On a manual clock they finish when the clock is advanced past their latency.
        """
        with self._settled:
            return self._settled.wait_for(lambda: not self._abandoned, timeout)

    def _wake_at(self, due: float) -> None:
        while (remaining := due - self.clock.now()) > 0:
            time.sleep(remaining)
        self.tick()

    def _finish_abandoned(self, now: float) -> None:
        finished = False
        # Re-evaluated after each one: a handler may release a gate or abandon another request,
        # and re-entrant ticks (same thread, RLock) may finish entries of this list.
        while True:
            ready = [
                p
                for p in self._abandoned
                if p.started + p.delay <= now and (p.gate is None or p.gate.released)
            ]
            if not ready:
                break
            pending = min(ready, key=lambda p: p.started + p.delay)
            self._abandoned.remove(pending)
            # Late observation does not make late work: the request ran when its latency was
            # over (never before time already ticked), or, if gated, when it was released.
            at = (
                now
                if pending.gate is not None
                else max(pending.started + pending.delay, self._ticked_to)
            )
            self._run_tickers(at)
            self._finish_locked(pending, at)
            finished = True
        for pending in self._abandoned:
            if pending.gate is not None and pending.started + pending.delay <= now:
                pending.gate.arrive()
        if finished:
            self._settled.notify_all()

    # ------------------------------------------------------------------------- helpers
    def _context(
        self,
        pending: Pending,
        route: Route,
        params: dict[str, str],
        now: float,
        team: Team,
        key: ApiKey | None,
    ) -> RequestContext:
        return RequestContext(
            self, pending.request, route, params, pending.request_id, now, team, key, API_VERSION
        )

    def _abandon_key(self, pending: Pending) -> None:
        ctx = pending.context
        if ctx is not None and ctx.idempotency_key is not None:
            ctx.team.idempotency.abandon(ctx.idempotency_key)

    def _error_response(
        self, error: ApiError, request_id: str, decision: BucketDecision | None
    ) -> EmuResponse:
        response = EmuResponse(
            error.status,
            [("Content-Type", "application/json"), *error.headers],
            dumps(error.body(request_id)),
        )
        if decision is not None:
            response.headers.extend(decision.headers())
        return response

    def _failure_response(self, failure: ScriptedFailure, request_id: str) -> EmuResponse:
        if failure.drop_connection:
            return EmuResponse(502, [], b"", drop_connection=True)
        error = ApiError(failure.status, failure.code, failure.message)
        headers = [("Retry-After", "1")] if failure.status == 429 else []
        body = envelope(error.type, error.code, error.message, None, request_id)
        return EmuResponse(
            failure.status, [("Content-Type", "application/json"), *headers], dumps(body)
        )

    def _finalise(self, response: EmuResponse, request_id: str) -> EmuResponse:
        # Date on the emulator's own clock, as a real server sends it: clients read rate-limit
        # resets (Unix times) against it, not against a local clock that may be off.
        date = email.utils.formatdate(self.clock.now(), usegmt=True)
        response.headers[:0] = [
            ("Aurous-Request-Id", request_id),
            ("Aurous-Version", API_VERSION),
            ("Date", date),
        ]
        if response.header("Content-Length") is None:
            response.headers.append(("Content-Length", str(len(response.body))))
        return response

    def _after_commit(self, pending: Pending, response: EmuResponse) -> EmuResponse:
        failure = pending.failure
        if failure is None:
            return response
        if failure.drop_connection:
            response.drop_connection = True
            return response
        replaced = self._failure_response(failure, pending.request_id)
        if pending.decision is not None:
            replaced.headers.extend(pending.decision.headers())
        return replaced

    def _tick(self, now: float) -> None:
        if self._abandoned:
            self._finish_abandoned(now)
        self._run_tickers(now)

    def _run_tickers(self, now: float) -> None:
        self._ticked_to = max(self._ticked_to, now)
        for router in self.routers:
            for ticker in router.tickers:
                ticker(self, now)

    # ------------------------------------------------------------------------- events & money
    def emit_event(self, team: Team, type: str, data: dict[str, Any], at: float) -> None:
        """Record a registered-endpoint event and hand it to :attr:`hooks`."""
        team.events.append(EventRecord(type, data, at))
        self.hooks.emit_event(team, type, data, at)

    def emit_callback(
        self, team: Team, url: str, event: str, data: dict[str, Any], at: float
    ) -> None:
        """Record a per-request ``webhook_url`` callback and hand it to :attr:`hooks`."""
        team.callbacks.append(CallbackRecord(url, event, data, at))
        self.hooks.emit_callback(team, url, event, data, at)

    def after_debit(self, team: Team, now: float) -> None:
        """Fire ``usage.balance_low`` when a debit crossed the threshold (at most hourly)."""
        threshold = self.config.low_balance_threshold
        if threshold is None or team.exempt or team.credits > threshold:
            return
        if team.last_low_balance_at is not None and now - team.last_low_balance_at < 3600:
            return
        team.last_low_balance_at = now
        self.emit_event(team, "usage.balance_low", team.balance(), now)

    def sign_path(self, path: str, expires: str) -> str:
        """Signature for signed storage URLs (see :meth:`RequestContext.signed_url`)."""
        return path_digest(self._signing_secret, path, expires)
