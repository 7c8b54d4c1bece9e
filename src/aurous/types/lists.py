"""`ModelList`: the result of endpoints that answer a bare JSON array (``client.loras.list()``)."""

from __future__ import annotations

from typing import Generic, TypeVar

from .._response import ResponseInfo

__all__ = ["ModelList"]

_T = TypeVar("_T")


class ModelList(list[_T], Generic[_T]):
    """A list of models that remembers the response it came from (``_response``, ``_request_id``).

    >>> loras: aurous.types.ModelList[aurous.types.Lora] = client.loras.list()
    """

    _response: ResponseInfo | None = None

    @property
    def _request_id(self) -> str | None:
        return self._response.request_id if self._response else None
