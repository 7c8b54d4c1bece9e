"""The file resource (``object: "file"``): an uploaded reference or frame image."""

from __future__ import annotations

from typing import Any

from .._models import AurousModel
from ._common import Timestamp
from .literals import FileMimeType, FilePurpose

__all__ = ["File"]


class File(AurousModel):
    """An uploaded image, usable for 24 hours as a reference image or a video frame by its id."""

    id: str
    """``file_…``: usable in ``reference_image_urls``, ``first_frame_url``, ``last_frame_url``."""
    object: str = "file"
    """Always ``"file"``."""
    purpose: FilePurpose | str
    """``"reference"``, ``"first_frame"`` or ``"last_frame"``, as uploaded."""
    mime_type: FileMimeType
    """Detected from the content: ``image/png``, ``image/jpeg`` or ``image/webp``."""
    size_bytes: int
    """Size of the file in bytes."""
    width_px: int
    """Width of the decoded image in pixels."""
    height_px: int
    """Height of the decoded image in pixels."""
    url: str
    """A signed URL to the bytes, valid about an hour; each retrieve mints a new one."""
    expires_at: Timestamp
    """When the file is purged (creation + 24 h)."""
    created_at: Timestamp
    """When the file was uploaded."""
    metadata: dict[str, Any]
    """The metadata sent at upload, or ``{}``."""
