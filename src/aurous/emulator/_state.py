"""In-memory state: teams, keys, generations and files. Everything is team-scoped."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from ._catalogue import Catalogue
from ._errors import ApiError
from ._idempotency import IdempotencyStore
from ._ratelimit import TokenBucket

__all__ = [
    "ApiKey",
    "CallbackRecord",
    "EventRecord",
    "Generation",
    "State",
    "StoredFile",
    "Team",
    "format_credits",
]

SCOPES = ("read", "write", "full")


def format_credits(value: Decimal) -> str:
    """Credits as people write them: ``2``, ``1.5``, ``3.75`` (no trailing zeros)."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


@dataclasses.dataclass
class ApiKey:
    """An API key. ``key`` is the secret string; ``id`` is what usage rows show."""

    key: str
    id: str
    team_id: str
    scope: str
    user_id: str
    revoked: bool = False


@dataclasses.dataclass
class EventRecord:
    """A registered-endpoint event the core emitted (``type`` and rendered ``data``)."""

    type: str
    data: dict[str, Any]
    at: float


@dataclasses.dataclass
class CallbackRecord:
    """A per-request ``webhook_url`` callback: ``{"event": event, "data": data}`` for ``url``."""

    url: str
    event: str
    data: dict[str, Any]
    at: float


@dataclasses.dataclass
class Generation:
    """One image or video generation row plus the emulator's private schedule."""

    id: str
    media_type: str
    prompt: str | None
    created_at: float
    creation_request_id: str
    api_key_id: str
    user_id: str
    inference_type: str
    cost_amount: Decimal
    breakdown: dict[str, Decimal]
    held: Decimal
    output_token: str
    aurous_version: str
    processing_at: float
    terminal_at: float
    planned_status: str = "succeeded"
    planned_error: str | None = None
    status: str = "pending"
    error_message: str | None = None
    completed_at: float | None = None
    duration_ms: int | None = None
    loras: list[dict[str, str]] | None = None
    webhook_url: str | None = None
    # image fields
    negative_prompt: str | None = None
    reference_image_urls: list[str] | None = None
    width: int = 0
    height: int = 0
    image_count: int = 1
    size_preset: str | None = None
    cfg_rescale: float | None = None
    denoise_strength: float | None = None
    requested_seed: int | None = None
    seed: int | None = None
    character_id: str | None = None
    # video fields
    video_duration: int = 0
    video_resolution: str = ""
    video_ratio: str = ""
    video_camera_fixed: bool = False

    @property
    def is_terminal(self) -> bool:
        """Any status except pending / queued / processing."""
        return self.status not in ("pending", "queued", "processing")

    @property
    def lora_ids(self) -> list[str]:
        """Ids of the LoRAs applied (usage filters match on them)."""
        return [entry["id"] for entry in self.loras or []]


@dataclasses.dataclass
class StoredFile:
    """An uploaded file (``POST /v1/files``)."""

    id: str
    purpose: str
    mime_type: str
    data: bytes
    width: int
    height: int
    created_at: float
    expires_at: float
    metadata: dict[str, Any]


class Team:
    """A team: its balance, keys' shared buckets, resources and idempotency keys."""

    def __init__(
        self,
        id: str,
        name: str,
        created_at: float,
        *,
        credits: Decimal,
        billing_mode: str = "metered",
        billing_email: str | None = None,
    ) -> None:
        self.id = id
        self.name = name
        self.created_at = created_at
        self.credits = credits
        self.held = Decimal(0)
        self.billing_mode = billing_mode
        self.billing_email = billing_email
        self.generations: dict[str, Generation] = {}
        self.files: dict[str, StoredFile] = {}
        self.buckets: dict[str, TokenBucket] = {}
        self.idempotency = IdempotencyStore()
        self.events: list[EventRecord] = []
        self.callbacks: list[CallbackRecord] = []
        self.last_low_balance_at: float | None = None
        self._collections: dict[str, dict[str, Any]] = {}

    # ----------------------------------------------------------------- resources of new families
    def collection(self, name: str) -> dict[str, Any]:
        """A team-scoped ``id -> object`` store for a route family (created on first use)."""
        return self._collections.setdefault(name, {})

    # -------------------------------------------------------------------------------- balance
    @property
    def exempt(self) -> bool:
        """Only ``metered`` teams are charged and blocked; any other mode never is."""
        return self.billing_mode != "metered"

    @property
    def available(self) -> Decimal:
        """``credits - held``."""
        return self.credits - self.held

    def check_available(self, amount: Decimal) -> None:
        """Raise ``402 balance_too_low`` when a metered team cannot afford ``amount``."""
        if not self.exempt and self.available < amount:
            raise ApiError(
                402,
                "balance_too_low",
                f"Team available balance is {format_credits(self.available)} credits, "
                f"generation requires {format_credits(amount)}.",
            )

    def hold(self, amount: Decimal) -> Decimal:
        """Place a hold (after :meth:`check_available`); returns what was held (0 if exempt)."""
        if self.exempt:
            return Decimal(0)
        self.held += amount
        return amount

    def commit(self, held: Decimal) -> None:
        """A held amount becomes a charge."""
        self.held -= held
        self.credits -= held

    def release(self, held: Decimal) -> None:
        """A held amount goes back to ``available``."""
        self.held -= held

    def charge(self, amount: Decimal) -> Decimal:
        """Debit at once (character synthesis); returns what was debited (0 if exempt)."""
        self.check_available(amount)
        if self.exempt:
            return Decimal(0)
        self.credits -= amount
        return amount

    def balance(self) -> dict[str, Any]:
        """The balance object (spec/openapi.yaml, operation balance_retrieve)."""
        return {
            "credits": self.credits,
            "held_credits": self.held,
            "available_credits": self.available,
            "currency": "credit",
            "billing_mode": self.billing_mode,
        }

    def active_generations(self) -> int:
        """Non-terminal generations, for the concurrency limit."""
        return sum(1 for gen in self.generations.values() if not gen.is_terminal)


class State:
    """All teams and keys. Guarded by the core's lock."""

    def __init__(self) -> None:
        self.teams: dict[str, Team] = {}
        self.keys: dict[str, ApiKey] = {}
        self.default_team_id = ""
        self.default_key = ""
        self.pending: dict[str, Generation] = {}
        """Non-terminal generations of every team, for lifecycle ticking."""
        self.owners: dict[str, str] = {}
        """Resource id -> owning team id, for routes reached without an API key (tokens,
        signed URLs). Every family registers the ids it mints here."""
        self.catalogue = Catalogue([])

    @property
    def default_team(self) -> Team:
        """The team created with the emulator ("Acme Studio")."""
        return self.teams[self.default_team_id]

    def team_of_key(self, key: str) -> tuple[Team, ApiKey] | None:
        """The team and key record for ``key``, or ``None``."""
        record = self.keys.get(key)
        if record is None:
            return None
        return self.teams[record.team_id], record
