"""A generation row, as the pacer's tests give it answers."""

from __future__ import annotations

from aurous.types import Generation


def generation(gid: str, status: str = "pending") -> Generation:
    """A minimal image generation ``gid`` in ``status``."""
    return Generation.model_validate(
        {
            "id": gid,
            "object": "inference",
            "status": status,
            "created_at": "2026-05-20T10:00:00Z",
            "inference_type": "t2i",
            "aurous_version": "2026-05-15",
            "creation_request_id": "req_1",
        }
    )
