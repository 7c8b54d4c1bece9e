"""The LoRA and video-LoRA catalogue, seeded from package data."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from ._clock import parse_timestamp

__all__ = ["Catalogue", "LoraEntry"]

_PRIVATE_KEYS = ("legacy_uuid", "private_to", "active", "kind")


class LoraEntry:
    """One catalogue row: the public fields plus visibility and kind."""

    def __init__(self, fields: dict[str, Any], kind: str, owner_team: str | None) -> None:
        self.fields = fields
        self.kind = kind  # "image" or "video"
        self.owner_team = owner_team
        self.legacy_uuid: str | None = fields.get("legacy_uuid")
        self.active: bool = bool(fields.get("active", True))

    @property
    def id(self) -> str:
        return str(self.fields["id"])

    @property
    def name(self) -> str:
        return str(self.fields["name"])

    @property
    def slug(self) -> str | None:
        slug = self.fields.get("slug")
        return None if slug is None else str(slug)

    @property
    def created_at(self) -> float:
        return parse_timestamp(str(self.fields["created_at"])) or 0.0

    def visible_to(self, team_id: str) -> bool:
        """Active, and public or delivered privately to ``team_id``."""
        return self.active and (self.owner_team is None or self.owner_team == team_id)

    def default(self, name: str) -> Any:
        """A ``default_*`` value (``None`` when the LoRA has none)."""
        return self.fields.get(name)

    def render(self) -> dict[str, Any]:
        """The API object (spec/openapi.yaml, operations loras_retrieve / video_loras_retrieve)."""
        return {key: value for key, value in self.fields.items() if key not in _PRIVATE_KEYS}


class Catalogue:
    """Every LoRA known to the emulator. Ids, slugs and legacy UUIDs all resolve."""

    def __init__(self, entries: list[LoraEntry]) -> None:
        self.entries = entries

    @classmethod
    def from_package(cls, default_team_id: str) -> Catalogue:
        """Load ``data/catalogue.json``; ``"private_to": "default"`` means the default team."""
        raw = json.loads(
            resources.files("aurous.emulator.data").joinpath("catalogue.json").read_text("utf-8")
        )
        entries = []
        for kind, key in (("image", "loras"), ("video", "video_loras")):
            for fields in raw[key]:
                owner = fields.get("private_to")
                entries.append(LoraEntry(dict(fields), kind, default_team_id if owner else None))
        return cls(entries)

    def add(self, fields: dict[str, Any], kind: str, owner_team: str | None) -> LoraEntry:
        """Add a LoRA (tests use this through ``Emulator.add_lora``)."""
        entry = LoraEntry(fields, kind, owner_team)
        self.entries.append(entry)
        return entry

    def find(self, ref: str) -> LoraEntry | None:
        """The entry whose id, slug or legacy UUID is ``ref`` (any kind, any visibility)."""
        lowered = ref.lower()
        for entry in self.entries:
            if ref == entry.id or ref == entry.slug or lowered == (entry.legacy_uuid or "").lower():
                return entry
        return None

    def visible(self, kind: str, team_id: str) -> list[LoraEntry]:
        """Entries of ``kind`` visible to the team, newest first."""
        rows = [e for e in self.entries if e.kind == kind and e.visible_to(team_id)]
        return sorted(rows, key=lambda e: (e.created_at, e.id), reverse=True)
