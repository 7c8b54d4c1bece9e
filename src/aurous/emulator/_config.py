"""Every tunable of the emulator in one place."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from ._webhooks import WebhookSettings

__all__ = ["DEFAULT_BUCKETS", "EmulatorConfig", "Phases"]

# The API's buckets: capacity (burst) and sustained refill per minute.
DEFAULT_BUCKETS: dict[str, tuple[int, int]] = {
    "images_post": (120, 60),
    "estimate_post": (240, 120),
    "reads": (1200, 600),
    "files_post": (60, 30),
    "webhook_endpoints_post": (10, 10),
    "webhooks_test": (30, 30),
    "characters_post": (60, 30),
    "characters_get": (240, 120),
    "characters_synthesize": (12, 6),
}


@dataclasses.dataclass(frozen=True)
class Phases:
    """How long a generation waits in ``pending`` and then runs in ``processing`` (seconds)."""

    pending: float
    processing: float

    def scaled(self, speed: float) -> Phases:
        """Durations divided by ``speed`` (``speed=10`` runs ten times faster)."""
        return Phases(self.pending / speed, self.processing / speed)


@dataclasses.dataclass
class EmulatorConfig:
    """Settings of an :class:`~aurous.emulator.Emulator`. All fields have working defaults."""

    image_phases: Phases = Phases(0.5, 1.5)
    video_phases: Phases = Phases(1.0, 4.0)
    speed: float = 1.0
    """Divides every generation duration."""
    instant: bool = False
    """Every duration is 0: a row is terminal on the first read after its create."""
    starting_credits: Decimal = Decimal(1000)
    billing_mode: str = "metered"
    concurrency_limit: int = 10
    rate_limits_enabled: bool = True
    buckets: dict[str, tuple[int, int]] = dataclasses.field(
        default_factory=lambda: dict(DEFAULT_BUCKETS)
    )
    blocked_terms: tuple[str, ...] = ("forbidden",)
    """Case-insensitive substrings that get a prompt (or reference URL) refused at create."""
    output_retention: float = 24 * 3600.0
    file_ttl: float = 24 * 3600.0
    file_url_ttl: float = 3600.0
    idempotency_window: float = 24 * 3600.0
    page_token_ttl: float = 24 * 3600.0
    accept_any_key: bool = False
    """Accept any API key string (each unknown key joins the default team with scope ``full``)."""
    image_output_long_side: int = 256
    """Long side of the PNGs served as image outputs; the aspect ratio follows the row."""
    low_balance_threshold: Decimal | None = None
    seed: int | None = None
    character_synthesis_seconds: float = 5.0
    """How long a character synthesis (create, resynthesize, regenerate) runs; ``speed`` and
    ``instant`` apply as for generations."""
    webhooks: WebhookSettings = dataclasses.field(default_factory=WebhookSettings)
    """Delivery of registered-endpoint events and ``webhook_url`` callbacks."""

    def phases_for(self, media_type: str) -> Phases:
        """Effective durations for ``media_type`` after ``instant`` and ``speed``."""
        if self.instant:
            return Phases(0.0, 0.0)
        base = self.video_phases if media_type == "video" else self.image_phases
        return base.scaled(self.speed) if self.speed != 1.0 else base
