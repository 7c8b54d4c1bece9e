"""The API's list envelopes and the auto-paging wrappers around them (conventions.md §8)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Generator, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from ._call import Call
from ._models import AurousModel
from ._operations import iterate_async, iterate_sync, run_async, single
from ._response import ResponseInfo

if TYPE_CHECKING:
    from ._client import _BaseClient

__all__ = ["AsyncPager", "BasePage", "CursorPage", "EventPage", "SyncPage", "TokenPage"]

T = TypeVar("T")


class BasePage(AurousModel, Generic[T]):
    """One page of a list: its items and how to ask for the next page."""

    object: str = "list"
    data: list[T]
    has_more: bool = False

    _cursor_param: ClassVar[str] = "starting_after"

    def _cursor(self) -> str | None:
        return None

    def _next_call(self, previous: Call[Any]) -> Call[Any] | None:
        cursor = self._cursor()
        if not self.has_more or not cursor:
            return None
        query = {**(previous.query or {}), self._cursor_param: cursor}
        return dataclasses.replace(previous, query=query)


class CursorPage(BasePage[T]):
    """Scheme A: ``starting_after`` → ``next_cursor`` (images, characters, webhook endpoints)."""

    next_cursor: str | None = None

    def _cursor(self) -> str | None:
        return self.next_cursor


class EventPage(CursorPage[T]):
    """Scheme C: ``cursor`` → ``next_cursor`` (usage events)."""

    _cursor_param: ClassVar[str] = "cursor"


class TokenPage(BasePage[T]):
    """Scheme B: ``page_token`` → ``next_page`` (usage buckets)."""

    next_page: str | None = None
    _cursor_param: ClassVar[str] = "page_token"

    def _cursor(self) -> str | None:
        return self.next_page


class _PageView(Generic[T]):
    def __init__(self, client: _BaseClient[Any, Any], call: Call[Any], page: BasePage[T]) -> None:
        self._client = client
        self._call = call
        self._page = page

    @property
    def data(self) -> list[T]:
        """The items of this page."""
        return self._page.data

    @property
    def has_more(self) -> bool:
        """Whether more pages follow this one."""
        return self._page.has_more

    @property
    def next_cursor(self) -> str | None:
        """The cursor (or page token) that fetches the next page; None on the last page."""
        return self._page._cursor() if self._page.has_more else None

    @property
    def page(self) -> BasePage[T]:
        """The raw page envelope (with unknown fields kept)."""
        return self._page

    @property
    def _response(self) -> ResponseInfo | None:
        return self._page._response

    @property
    def _request_id(self) -> str | None:
        return self._page._request_id

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} items={len(self.data)} has_more={self.has_more} "
            f"next_cursor={self.next_cursor!r}>"
        )


class SyncPage(_PageView[T]):
    """The first page of a list. Iterating it yields every item of every page, fetched lazily.

    >>> for generation in client.images.list(limit=50):
    ...     print(generation.id)
    """

    @classmethod
    def _fetch(cls, client: _BaseClient[Any, Any], call: Call[Any]) -> SyncPage[T]:
        from ._operations import run_sync

        page: BasePage[T] = run_sync(client, single(call))
        return cls(client, call, page)

    def iter_pages(self) -> Iterator[SyncPage[T]]:
        """Yield this page and each following page, fetching as you go."""
        yield self
        call = self._page._next_call(self._call)
        if call is None:
            return
        for page in iterate_sync(self._client, call):
            yield SyncPage(self._client, call, page)
            call = page._next_call(call)

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.data


class AsyncPage(_PageView[T]):
    """One fetched page of a list (async). ``async for`` over it yields every item of every page."""

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        """Yield this page and each following page, fetching as you go."""
        yield self
        call = self._page._next_call(self._call)
        if call is None:
            return
        async for page in iterate_async(self._client, call):
            yield AsyncPage(self._client, call, page)
            call = page._next_call(call)

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item


class AsyncPager(Generic[T]):
    """An async list. ``async for item in aclient.images.list()`` pages lazily (no ``await``);
    ``await aclient.images.list()`` fetches the first page (`AsyncPage`: data, has_more, next_cursor).
    """

    def __init__(self, client: _BaseClient[Any, Any], call: Call[Any]) -> None:
        self._client = client
        self._call = call

    async def _first(self) -> AsyncPage[T]:
        page: BasePage[T] = await run_async(self._client, single(self._call))
        return AsyncPage(self._client, self._call, page)

    def __await__(self) -> Generator[Any, None, AsyncPage[T]]:
        return self._first().__await__()

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        """Yield each page, fetching as you go."""
        first = await self._first()
        async for page in first.iter_pages():
            yield page

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item
