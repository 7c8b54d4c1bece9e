"""The character resource (``object: "character"``) and the upload flow's results."""

from __future__ import annotations

from .._models import AurousModel
from ._common import Number, Timestamp
from .literals import CharacterStatus, Pose

__all__ = [
    "Character",
    "CharacterAttributes",
    "CharacterRef",
    "CharacterUpload",
    "UploadClassification",
]


class CharacterRef(AurousModel):
    """A reference image of a character."""

    pose: Pose | str
    """``portrait``, ``front``, ``side``, ``back`` or ``other``."""
    url: str
    """An opaque proxy URL, valid about 24 h; retrieve the character again for fresh URLs."""


class CharacterAttributes(AurousModel):
    """Descriptive attributes of a character. Every key may be missing; values are free-form."""

    gender: str | None = None
    """Gender."""
    age: int | None = None
    """Age in years."""
    ethnicity: str | None = None
    """Ethnicity."""
    hair_color: str | None = None
    """Hair colour."""
    hair_style: str | None = None
    """Hair style."""
    eye_color: str | None = None
    """Eye colour."""
    body_type: str | None = None
    """Body type."""
    additional_details: str | None = None
    """Anything else worth keeping consistent (scars, glasses, clothing, …)."""


class Character(AurousModel):
    """A reusable character: reference images plus attributes, usable as ``character_id``."""

    id: str
    """``char_…``."""
    object: str = "character"
    """Always ``"character"``."""
    name: str
    """The character's name (1–120 characters)."""
    status: CharacterStatus
    """``synthesizing``, ``reviewing``, ``ready``, ``failed`` or ``deleted``. Only ``ready``
    characters can be used in a generation. Unknown values are kept."""
    refs: list[CharacterRef]
    """The reference images; the first is the cover. ``[]`` while first being synthesized."""
    created_at: Timestamp
    """When the character was created."""
    updated_at: Timestamp
    """When the character last changed."""
    attributes: CharacterAttributes
    """The attributes given at creation or update (empty when none were given)."""
    error_message: str | None = None
    """A short code, safe to show customers, when ``status`` is ``failed``; else ``None``."""
    client_reference_id: str | None = None
    """Your own reference, echoed back (also on every character webhook)."""
    aurous_version: str
    """The API version the character was created under."""

    @property
    def is_ready(self) -> bool:
        """Whether the character can be used as ``character_id``."""
        return self.status == "ready"


class CharacterUpload(AurousModel):
    """An upload ticket: PUT one image's bytes to ``upload_url`` with ``upload_headers``."""

    upload_id: str
    """``upl_…``: valid for 24 h and usable in one character create."""
    upload_url: str
    """A signed PUT URL, valid for 15 minutes. Send no API key to it."""
    upload_headers: dict[str, str]
    """Headers the PUT must send, e.g. ``{"Content-Type": "image/jpeg"}``."""
    expires_at: Timestamp
    """When ``upload_url`` expires."""


class UploadClassification(AurousModel):
    """The pose detected in an uploaded image; the reference made from it gets this pose."""

    upload_id: str
    """``upl_…``: the classified upload."""
    pose: Pose | str
    """The detected pose."""
    confidence: Number
    """How sure the classifier is, from 0 to 1."""
