"""The batch method descriptor: ``client.images.batch(...)`` returns results, ``await`` on async."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Concatenate, Generic, overload

from typing_extensions import ParamSpec, Self

from .._operations import Async, Method, Namespace, Sync
from ._types import BatchPlan, BatchResult

if TYPE_CHECKING:
    from .._client import _BaseClient

__all__ = ["BatchOperation", "batch_operation"]

P = ParamSpec("P")


def _engine() -> Any:
    # Deferred (down the layers): the engine — threads, the manifest, item steps — loads on the
    # first batch, not with ``import aurous``: most programs never run one.
    from . import _engine as engine

    return engine


class BatchOperation(Method[P], Generic[P]):
    """Descriptor: a batch method returning results (sync) or a coroutine of them (async)."""

    def __init__(self, fn: Callable[Concatenate[Any, P], BatchPlan]) -> None:
        super().__init__(fn)

    def _returns(self, returned: Any, is_async: bool) -> Any:
        return list[BatchResult]

    @overload
    def __get__(self, inst: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(
        self, inst: Namespace[Sync], owner: type[Any]
    ) -> Callable[P, list[BatchResult]]: ...
    @overload
    def __get__(
        self, inst: Namespace[Async], owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, list[BatchResult]]]: ...
    def __get__(self, inst: Namespace[Any] | None, owner: type[Any]) -> Any:
        if inst is None:
            return self
        return self._bind(inst)

    def _run_sync(self, client: _BaseClient[Any, Any], made: BatchPlan, name: str) -> Any:
        _refuse_raw(client)
        result: list[BatchResult] = _engine().run_batch_sync(client, made, name)
        return result

    async def _run_async(self, client: _BaseClient[Any, Any], made: BatchPlan, name: str) -> Any:
        _refuse_raw(client)
        result: list[BatchResult] = await _engine().run_batch_async(client, made, name)
        return result


def _refuse_raw(client: _BaseClient[Any, Any]) -> None:
    if client._plain is not client:
        raise TypeError(
            "a batch sends many requests and has no single HTTP response: call it on the client "
            "itself (each BatchResult's generation carries its response as ._response)"
        )


def batch_operation(fn: Callable[Concatenate[Any, P], BatchPlan]) -> BatchOperation[P]:
    """Make ``fn`` (which validates the arguments into a `BatchPlan`) a batch method."""
    return BatchOperation(fn)
