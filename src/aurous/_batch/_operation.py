"""The batch method descriptor: ``client.images.batch(...)`` returns results, ``await`` on async."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, Generic, overload

from typing_extensions import ParamSpec, Self

from .._operations import Async, Method, Namespace, Sync
from ._types import BatchPlan, BatchResult

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

    def _bind(self, inst: Namespace[Any]) -> Callable[..., Any]:
        fn = self._fn
        client = inst._client
        check = self.checker(type(inst))
        if client._is_async:

            async def amethod(*args: Any, **kwargs: Any) -> Any:
                check(*args, **kwargs)
                plan = fn(inst, *args, **kwargs)
                result: list[BatchResult] = await _engine().run_batch_async(client, plan)
                return result

            return self._finish(amethod, inst)

        def method(*args: Any, **kwargs: Any) -> Any:
            check(*args, **kwargs)
            plan = fn(inst, *args, **kwargs)
            result: list[BatchResult] = _engine().run_batch_sync(client, plan)
            return result

        return self._finish(method, inst)


def batch_operation(fn: Callable[Concatenate[Any, P], BatchPlan]) -> BatchOperation[P]:
    """Make ``fn`` (which validates the arguments into a `BatchPlan`) a batch method."""
    return BatchOperation(fn)
