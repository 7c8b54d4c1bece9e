"""Base classes for the API's resources: forward compatible, typed, and aware of their response."""

from __future__ import annotations

from typing import Any, TypeVar

import pydantic

from ._response import ResponseInfo

__all__ = ["AurousModel", "attach_response"]

_T = TypeVar("_T")


class AurousModel(pydantic.BaseModel):
    """Base class of every resource model.

    Unknown fields sent by newer servers are kept (readable as attributes and in ``to_dict()``).
    ``_response`` and ``_request_id`` describe the HTTP response the object came from.
    """

    model_config = pydantic.ConfigDict(
        extra="allow", populate_by_name=True, protected_namespaces=()
    )

    _response_info: ResponseInfo | None = pydantic.PrivateAttr(default=None)

    @property
    def _response(self) -> ResponseInfo | None:
        """Status, headers, request id and rate-limit figures of the response (None if parsed locally)."""
        return self._response_info

    @property
    def _request_id(self) -> str | None:
        """The ``Aurous-Request-Id`` of the response this object came from."""
        return self._response_info.request_id if self._response_info else None

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON-compatible data, as the API sent it (unknown fields included)."""
        return self.model_dump(mode="json", exclude_unset=True)

    def to_json(self, *, indent: int | None = None) -> str:
        """The object as a JSON string (unknown fields included)."""
        return self.model_dump_json(exclude_unset=True, indent=indent)


def attach_response(obj: _T, info: ResponseInfo) -> _T:
    """Record ``info`` on a result (models and model lists); other values are returned unchanged."""
    if isinstance(obj, AurousModel):
        obj._response_info = info
    elif isinstance(obj, list) and hasattr(type(obj), "_response"):
        obj._response = info  # type: ignore[attr-defined]  # an aurous.types.ModelList
    return obj
