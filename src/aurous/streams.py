"""Streams: what ``client.images.watch`` (and ``videos.watch``) returns.

``client.images.watch(...)`` returns a `SyncStream` (iterate it with ``for``) and
``aclient.images.watch(...)`` an `AsyncStream` (``async for``). Annotate with these names::

    from aurous.streams import SyncStream

    states: SyncStream[aurous.Generation] = client.images.watch(generation)

A stream sends nothing before its first item is asked for, and stops — its clean-up included —
when it ends, when it is closed, or when a ``for`` loop over it is left early (or use it as a
context manager).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from ._drivers import AsyncDriver, SyncDriver, prepare
from ._steps import Driven, Emit, Steps

if TYPE_CHECKING:
    from ._client import _BaseClient

__all__ = ["AsyncStream", "SyncStream"]

T = TypeVar("T")


class _Stream:
    """What both streams keep: the steps, where they stand, whether to resume them."""

    def __init__(self, client: _BaseClient[Any, Any], steps: Steps[Any], name: str) -> None:
        self._steps: Steps[Any] | None = prepare(client, steps, name)
        self._driven: Driven[Any] | None = None
        self._resume = False

    def _next_steps(self) -> Driven[Any] | None:
        """The steps, moved past the last value handed out (None once the stream is over)."""
        driven = self._driven
        if driven is None:
            if self._steps is None:
                return None
            driven = self._driven = Driven(self._steps)
        elif self._resume:
            self._resume = False
            driven.advance(None)
        return driven

    def _emitted(self, step: Any) -> bool:
        if type(step) is Emit:
            self._resume = True
            return True
        return False

    def _close(self) -> None:
        if self._driven is not None:
            self._driven.close()
        elif self._steps is not None:
            self._steps.close()
        self._steps = None


class SyncStream(_Stream, Iterator[T]):
    """The values a method's steps `Emit`, as an iterator (``client.images.watch``).

    The steps run as the iterator is advanced: nothing is sent before the first ``next()``, and
    closing the iterator (or leaving a ``for`` loop early) stops them, their clean-up included.
    """

    def __init__(self, client: _BaseClient[Any, Any], steps: Steps[Any], name: str) -> None:
        super().__init__(client, steps, name)
        self._driver: SyncDriver = client._driver

    def __iter__(self) -> SyncStream[T]:
        return self

    def __next__(self) -> T:
        driven = self._next_steps()
        perform = self._driver.perform
        while driven is not None and not driven.done:
            step = driven.step
            if self._emitted(step):
                return step.value  # type: ignore[no-any-return]
            try:
                value = perform(step)
            except Exception as exc:
                driven.advance(None, exc)
            else:
                driven.advance(value)
        self.close()
        raise StopIteration

    def close(self) -> None:
        """Stop the steps (the clean-up they hold runs now)."""
        self._close()

    def __enter__(self) -> SyncStream[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncStream(_Stream, AsyncIterator[T]):
    """`SyncStream` for `AsyncClient`: ``async for`` over the values the steps `Emit`."""

    def __init__(self, client: _BaseClient[Any, Any], steps: Steps[Any], name: str) -> None:
        super().__init__(client, steps, name)
        self._driver: AsyncDriver = client._driver

    def __aiter__(self) -> AsyncStream[T]:
        return self

    async def __anext__(self) -> T:
        driven = self._next_steps()
        perform = self._driver.perform
        while driven is not None and not driven.done:
            step = driven.step
            if self._emitted(step):
                return step.value  # type: ignore[no-any-return]
            try:
                value = await perform(step)
            except Exception as exc:
                driven.advance(None, exc)
            else:
                driven.advance(value)
        await self.aclose()
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop the steps (the clean-up they hold runs now)."""
        self._close()

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
