"""Typed dictionaries for nested request parameters."""

# No ``from __future__ import annotations`` here: TypedDict must see ``NotRequired`` itself to
# record which keys are optional.
from typing_extensions import NotRequired, Required, TypedDict

__all__ = ["CharacterAttributesParam", "LoraParam"]


class LoraParam(TypedDict):
    """One entry of ``loras`` on an image request: a LoRA and its weight."""

    lora: Required[str]
    """The LoRA's ``lora_…`` id, slug or legacy UUID."""
    weight: NotRequired[float]
    """How strongly to apply it, 0.0–2.0 (default 1.0)."""


class CharacterAttributesParam(TypedDict, total=False):
    """Attributes of a character, as sent on create or update. Every key is optional."""

    gender: str
    """Gender."""
    age: int
    """Age in years."""
    ethnicity: str
    """Ethnicity."""
    hair_color: str
    """Hair colour."""
    hair_style: str
    """Hair style."""
    eye_color: str
    """Eye colour."""
    body_type: str
    """Body type."""
    additional_details: str
    """Anything else worth keeping consistent (scars, glasses, clothing, …)."""
