"""The public facade: ``Emulator``."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from ._asgi import AsgiApp
from ._catalogue import Catalogue
from ._clock import Clock, ManualClock, RealClock, SdkClock, WarpClock, WarpSdkClock
from ._config import EmulatorConfig, Phases
from ._core import Core
from ._faults import Faults
from ._hooks import EventHooks
from ._http import EmuRequest, EmuResponse
from ._server import EmulatorServer
from ._state import SCOPES, ApiKey, CallbackRecord, EventRecord, Generation, Team
from ._transport import AsyncEmulatorTransport, EmulatorTransport
from ._webhooks import DeliveryAttempt, Sender, WebhookEngine, engine_of
from .routes import default_routers

if TYPE_CHECKING:
    import aurous

__all__ = ["IN_PROCESS_BASE_URL", "Emulator"]

IN_PROCESS_BASE_URL = "http://aurous.emulator.local"


def _configure(config: EmulatorConfig | None, **overrides: Any) -> EmulatorConfig:
    """A copy of ``config`` (or the defaults) with every override that is not None applied."""
    cfg = dataclasses.replace(config) if config is not None else EmulatorConfig()
    cfg.buckets = dict(cfg.buckets)
    speed = overrides.get("speed")
    if speed is not None and speed <= 0:
        raise ValueError("speed must be positive")
    for name, value in overrides.items():
        if value is not None:
            setattr(cfg, name, value)
    return cfg


def _make_clock(
    clock: Literal["real", "manual"] | Clock, start_time: float | None, config: EmulatorConfig
) -> Clock:
    if clock == "manual":
        return ManualClock() if start_time is None else ManualClock(start_time)
    if clock == "real":
        # instant / speed > 1: the emulator's own clients also wait less between polls (see
        # WarpClock); otherwise their first poll, 2 s after the create, set the pace.
        factor = math.inf if config.instant else config.speed
        return WarpClock(factor) if factor > 1 else RealClock()
    if isinstance(clock, str):
        raise ValueError(f"clock must be 'real', 'manual' or a Clock, not {clock!r}")
    return clock


class Emulator:
    """A faithful, stateful emulator of the Aurous HTTP API.

    >>> emu = Emulator(clock="manual")
    >>> client = emu.client()                 # an aurous.Client wired in-process
    >>> g = client.images.create(prompt="a lighthouse at dusk")
    >>> emu.advance(5)                        # pending → processing → succeeded
    >>> client.images.retrieve(g.id).status
    'succeeded'

    Args:
        clock: ``"real"`` (default), ``"manual"`` (moves only with :meth:`advance`; SDK clients
            from :meth:`client` sleep by advancing it) or any object with ``now()``, ``sleep()``
            and ``asleep()``.
        speed: Divides every generation duration (``speed=10``: ten times faster). On the
            real clock, SDK clients from :meth:`client` also sleep ``speed`` times less between
            polls, so ``create_and_wait`` returns about ``speed`` times sooner.
        instant: Generations are terminal on the first read after their create. On the real
            clock, SDK clients from :meth:`client` do not sleep between polls (the emulator's
            clock is moved on instead), so ``create_and_wait`` returns at once.
        seed: Makes ids, tokens, seeds and the default API key reproducible.
        credits: Starting credits of the default team ("Acme Studio").
        billing_mode: ``"metered"`` or ``"exempt"`` for the default team.
        concurrency_limit: Non-terminal generations allowed per team (default 10).
        rate_limits: ``True`` (spec buckets), ``False`` (no rate limiting) or a mapping
            ``bucket -> (capacity, per_minute)`` overriding some buckets.
        blocked_terms: Prompt substrings refused with ``400 prompt_blocked``.
        image_phases: ``(pending_seconds, processing_seconds)`` of an image generation.
        video_phases: ``(pending_seconds, processing_seconds)`` of a video generation.
        output_retention: Seconds outputs stay downloadable after completion (default 24 h).
        accept_any_key: Accept every API key (unknown keys join the default team, scope full).
        api_key: Use this string as the default team's key instead of minting one.
        start_time: Unix time a manual clock starts at (default 2026-05-20T10:00:00Z).
        config: A complete :class:`EmulatorConfig` (the other arguments then override it).
        deliver_webhooks: In-process mode: also POST webhook deliveries over real HTTP (served
            mode always does). Attempts are recorded in :attr:`deliveries` either way.
        webhook_sender: An in-memory webhook receiver ``fn(OutgoingWebhook) -> status``, called
            instead of HTTP (see :attr:`webhooks`).
        allow_http_webhooks: Also accept ``http://`` webhook endpoint URLs on this machine
            (``127.0.0.0/8``, ``::1``, ``localhost``), to test a local receiver. Off by default:
            like the API, the emulator refuses ``http://`` with ``400 invalid_format``.
    """

    def __init__(
        self,
        *,
        clock: Literal["real", "manual"] | Clock = "real",
        speed: float | None = None,
        instant: bool | None = None,
        seed: int | None = None,
        credits: float | Decimal | str | None = None,
        billing_mode: str | None = None,
        concurrency_limit: int | None = None,
        rate_limits: bool | Mapping[str, tuple[int, int]] = True,
        blocked_terms: tuple[str, ...] | list[str] | None = None,
        image_phases: tuple[float, float] | None = None,
        video_phases: tuple[float, float] | None = None,
        output_retention: float | None = None,
        accept_any_key: bool | None = None,
        api_key: str | None = None,
        start_time: float | None = None,
        config: EmulatorConfig | None = None,
        deliver_webhooks: bool | None = None,
        webhook_sender: Sender | None = None,
        allow_http_webhooks: bool | None = None,
    ) -> None:
        cfg = _configure(
            config,
            speed=speed,
            instant=instant,
            seed=seed,
            starting_credits=None if credits is None else Decimal(str(credits)),
            billing_mode=billing_mode,
            concurrency_limit=concurrency_limit,
            blocked_terms=None if blocked_terms is None else tuple(blocked_terms),
            image_phases=None if image_phases is None else Phases(*image_phases),
            video_phases=None if video_phases is None else Phases(*video_phases),
            output_retention=output_retention,
            accept_any_key=accept_any_key,
        )
        if rate_limits is False:
            cfg.rate_limits_enabled = False
        elif isinstance(rate_limits, Mapping):
            cfg.buckets.update(rate_limits)
        webhook_options = (deliver_webhooks, webhook_sender, allow_http_webhooks)
        if any(option is not None for option in webhook_options):
            cfg.webhooks = dataclasses.replace(cfg.webhooks)
            if deliver_webhooks is not None:
                cfg.webhooks.deliver = deliver_webhooks
            if webhook_sender is not None:
                cfg.webhooks.sender = webhook_sender
            if allow_http_webhooks is not None:
                cfg.webhooks.allow_http_loopback = allow_http_webhooks
        self.config = cfg
        self.clock = _make_clock(clock, start_time, cfg)
        self.core = Core(cfg, self.clock, default_routers(), public_base_url=IN_PROCESS_BASE_URL)
        self.base_url = IN_PROCESS_BASE_URL
        """Where :attr:`transport` answers; SDK clients from :meth:`client` use it."""

        team = self.create_team("Acme Studio", billing_email="billing@acme.com")
        self.core.state.default_team_id = team.id
        self.core.state.catalogue = Catalogue.from_package(team.id)
        self.api_key: str = self.create_api_key(scope="write", team=team, key=api_key)
        """The default team's write-scope key."""
        self.core.state.default_key = self.api_key
        self._transport: EmulatorTransport | None = None
        self._async_transport: AsyncEmulatorTransport | None = None
        self._asgi: AsgiApp | None = None

    # ------------------------------------------------------------------------- plumbing
    @property
    def state(self) -> Any:
        """The core's :class:`~aurous.emulator._state.State` (teams, keys, catalogue)."""
        return self.core.state

    @property
    def faults(self) -> Faults:
        """Fault injection (``fail_next``, ``latency``, ``pause``, ``fail_generation``)."""
        return self.core.faults

    @property
    def hooks(self) -> EventHooks:
        """Receiver of emitted events (no-op by default)."""
        return self.core.hooks

    @hooks.setter
    def hooks(self, hooks: EventHooks) -> None:
        self.core.hooks = hooks

    @property
    def webhooks(self) -> WebhookEngine:
        """The webhook delivery engine: ``events``, ``deliveries``, ``sender``, ``flush()``."""
        return engine_of(self.core)

    @property
    def deliveries(self) -> list[DeliveryAttempt]:
        """Every webhook delivery attempt so far (signed events and ``webhook_url`` callbacks)."""
        return self.webhooks.deliveries

    @property
    def transport(self) -> EmulatorTransport:
        """``httpx.BaseTransport`` serving this emulator in-process."""
        if self._transport is None:
            self._transport = EmulatorTransport(self.core)
        return self._transport

    @property
    def async_transport(self) -> AsyncEmulatorTransport:
        """``httpx.AsyncBaseTransport`` serving this emulator in-process."""
        if self._async_transport is None:
            self._async_transport = AsyncEmulatorTransport(self.core)
        return self._async_transport

    @property
    def asgi_app(self) -> AsgiApp:
        """An ASGI 3 app serving this emulator (mount it in any ASGI server)."""
        if self._asgi is None:
            self._asgi = AsgiApp(self.core)
        return self._asgi

    @property
    def sdk_clock(self) -> SdkClock | WarpSdkClock | None:
        """The clock :meth:`client` gives SDK clients, if not the system's.

        On a manual clock, their sleeps advance the emulator's clock instead of waiting. On the
        real clock with ``instant`` (or ``speed`` above 1), they sleep not at all (or ``speed``
        times less) and move the emulator's clock on by the whole sleep, so polling, back-off
        and rate-limit waits keep up with the faster generations.
        """
        if isinstance(self.clock, ManualClock):
            return SdkClock(self.clock)
        if isinstance(self.clock, WarpClock):
            return WarpSdkClock(self.clock)
        return None

    def handle(self, request: EmuRequest) -> EmuResponse:
        """Process one request value (the IO-free core)."""
        return self.core.handle(request)

    # ------------------------------------------------------------------------- SDK clients
    def client(self, **options: Any) -> aurous.Client:
        """An ``aurous.Client`` wired to this emulator in-process (options pass through)."""
        import httpx

        import aurous

        http_client = httpx.Client(transport=self.transport, base_url=self.base_url)
        options.setdefault("api_key", self.api_key)
        options.setdefault("base_url", self.base_url)
        client = aurous.Client(http_client=http_client, **options)
        if self.sdk_clock is not None:
            client._set_clock(self.sdk_clock)
        return client

    def async_client(self, **options: Any) -> aurous.AsyncClient:
        """An ``aurous.AsyncClient`` wired to this emulator in-process."""
        import httpx

        import aurous

        http_client = httpx.AsyncClient(transport=self.async_transport, base_url=self.base_url)
        options.setdefault("api_key", self.api_key)
        options.setdefault("base_url", self.base_url)
        client = aurous.AsyncClient(http_client=http_client, **options)
        if self.sdk_clock is not None:
            client._set_clock(self.sdk_clock)
        return client

    def deliver_webhooks_to(
        self, receiver: Any, url: str = "https://receiver.example/webhooks"
    ) -> str:
        """Deliver this emulator's webhook events to ``receiver`` in-process, without a socket.

        ``receiver`` is an `aurous.webhooks.Receiver` (or anything with ``deliver(body,
        headers) -> status``). A webhook endpoint is registered for every generation event under
        ``url``, and its signing secret given to the receiver; the secret is returned. Events are
        delivered as the emulator's clock reaches them, and the receiver's handlers run before
        the delivery counts as answered. The receiver checks signature timestamps against the
        emulator's clock (a manual or sped-up clock is not the wall clock).
        """
        import aurous

        admin = aurous.Client(
            api_key=self.api_key,
            base_url=self.base_url,
            http_client=self._http_client(),
            pacing=False,
        )
        endpoint = admin.webhook_endpoints.create(
            url=url,
            events=[
                "image.completed",
                "image.failed",
                "image.cancelled",
                "video.completed",
                "video.failed",
                "video.cancelled",
            ],
        )
        admin.close()
        secret: str = endpoint.secret  # type: ignore[assignment]
        if hasattr(receiver, "secret"):
            receiver.secret = secret
        if hasattr(receiver, "clock"):
            receiver.clock = self.clock.now
        self.webhooks.sender = lambda request: int(receiver.deliver(request.body, request.headers))
        return secret

    def _http_client(self) -> Any:
        import httpx

        return httpx.Client(transport=self.transport, base_url=self.base_url)

    # ------------------------------------------------------------------------- served mode
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
        """Start a real HTTP server (uvicorn, background thread) and return it.

        Use as ``with emu.serve() as server: server.base_url``. While serving, URLs in
        emitted events use the server's address.
        """
        server = EmulatorServer(self.core, host, port)
        server.emulator = self
        return server.start()

    # ------------------------------------------------------------------------- time
    def advance(self, seconds: float) -> None:
        """Move a manual clock forward and apply every transition that became due."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs Emulator(clock='manual')")
        self.clock.advance(seconds)
        self.core.tick()

    def now(self) -> float:
        """The emulator's current time (Unix seconds)."""
        return self.clock.now()

    def wait_abandoned(self, timeout: float | None = 10.0) -> bool:
        """Wait until the server side has finished every request its client gave up on.

        A request whose read timeout ran out (or whose async task was cancelled) is still
        completed, after the rest of its injected latency and once its gate is released, as a
        real server would. On the real clock that happens in the background: this waits for it
        (``timeout`` in real seconds; False if it passed first). On a manual clock such requests
        finish when :meth:`advance` reaches them, so call this after advancing.
        """
        return self.core.wait_abandoned(timeout)

    # ------------------------------------------------------------------------- test helpers
    @property
    def team(self) -> Team:
        """The default team ("Acme Studio")."""
        return self.core.state.default_team

    def create_team(
        self,
        name: str,
        *,
        credits: float | Decimal | str | None = None,
        billing_mode: str | None = None,
        billing_email: str | None = None,
    ) -> Team:
        """Add a team (starting credits and billing mode default to the emulator's)."""
        with self.core.lock:
            now = self.clock.now()
            team = Team(
                self.core.ids.prefixed("team_", now),
                name,
                now,
                credits=self.config.starting_credits if credits is None else Decimal(str(credits)),
                billing_mode=billing_mode or self.config.billing_mode,
                billing_email=billing_email,
            )
            self.core.state.teams[team.id] = team
            return team

    def create_api_key(
        self, *, scope: str = "write", team: Team | str | None = None, key: str | None = None
    ) -> str:
        """Mint an ``al_live_…`` key (or register ``key``) for ``team`` (default team)."""
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}")
        with self.core.lock:
            team_id = (
                team.id if isinstance(team, Team) else (team or self.core.state.default_team_id)
            )
            if team_id not in self.core.state.teams:
                raise KeyError(f"unknown team {team_id!r}")
            now = self.clock.now()
            secret = key or self.core.ids.api_key()
            self.core.state.keys[secret] = ApiKey(
                key=secret,
                id=self.core.ids.prefixed("apikey_", now),
                team_id=team_id,
                scope=scope,
                user_id=self.core.ids.uuid4(),
            )
            return secret

    def revoke_api_key(self, key: str) -> None:
        """Revoke ``key``: it then gets ``401 revoked_api_key``."""
        with self.core.lock:
            self.core.state.keys[key].revoked = True

    def set_balance(self, credits: float | Decimal | str, team: Team | None = None) -> None:
        """Set a team's total credits (holds stay as they are)."""
        with self.core.lock:
            (team or self.team).credits = Decimal(str(credits))

    def generation(self, generation_id: str) -> Generation:
        """The stored row for ``generation_id`` (any team)."""
        with self.core.lock:
            self.core.tick()
            team_id = self.core.state.owners[generation_id]
            return self.core.state.teams[team_id].generations[generation_id]

    def events(self, team: Team | None = None) -> list[EventRecord]:
        """Registered-endpoint events emitted so far for ``team`` (default team)."""
        with self.core.lock:
            return list((team or self.team).events)

    def callbacks(self, team: Team | None = None) -> list[CallbackRecord]:
        """Per-request ``webhook_url`` callbacks emitted so far for ``team``."""
        with self.core.lock:
            return list((team or self.team).callbacks)

    def add_lora(
        self,
        name: str,
        *,
        video: bool = False,
        team: Team | None = None,
        slug: str | None = None,
        **fields: Any,
    ) -> str:
        """Add a LoRA to the catalogue (private to ``team`` when given); returns its id."""
        with self.core.lock:
            now = self.clock.now()
            lora_id = self.core.ids.prefixed("lora_", now)
            from ._clock import format_timestamp

            row: dict[str, Any] = {"id": lora_id, "name": name, "is_public": team is None}
            if video:
                row.update(default_resolution="720p", default_ratio="16:9", default_duration=5)
            row["created_at"] = format_timestamp(now)
            if slug is not None:
                row["slug"] = slug
            row.update(fields)
            self.core.state.catalogue.add(
                row, "video" if video else "image", team.id if team else None
            )
            return lora_id

    def close(self) -> None:
        """Release gates and scripted faults, and stop the webhook delivery thread."""
        self.core.faults.clear()
        self.webhooks.close()

    def __repr__(self) -> str:
        return f"<Emulator base_url={self.base_url!r} clock={type(self.clock).__name__}>"
