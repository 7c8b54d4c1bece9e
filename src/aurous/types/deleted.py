"""Results of delete calls: ``{"id", "object", "deleted"}``."""

from __future__ import annotations

from .._models import AurousModel

__all__ = ["CharacterDeleted", "DeletedObject", "FileDeleted", "WebhookEndpointDeleted"]


class DeletedObject(AurousModel):
    """The result of a delete call."""

    id: str
    """The id that was named in the call."""
    object: str
    """The type of object, e.g. ``"file"``."""
    deleted: bool
    """``True`` if the object was deleted (or was already deleted but still known);
    ``False`` if nothing matched."""


class FileDeleted(DeletedObject):
    """The result of deleting a file."""

    object: str = "file"
    """Always ``"file"``."""


class WebhookEndpointDeleted(DeletedObject):
    """The result of deleting a webhook endpoint."""

    object: str = "webhook_endpoint"
    """Always ``"webhook_endpoint"``."""


class CharacterDeleted(DeletedObject):
    """The result of deleting a character."""

    object: str = "character"
    """Always ``"character"``."""
