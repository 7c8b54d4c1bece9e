"""Lists: the API's page envelopes and the auto-paging views a list method returns.

``client.images.list(...)`` returns a `SyncPage` (the first page; iterating it pages on lazily)
and ``aclient.images.list(...)`` an `AsyncPager` (``async for`` pages lazily, ``await`` gives the
first `AsyncPage`). Annotate with these names::

    from aurous.pagination import SyncPage

    page: SyncPage[aurous.Generation] = client.images.list(limit=50)

Three cursor schemes exist (spec/openapi.yaml, the list operations): ``starting_after`` /
``ending_before`` → ``next_cursor`` (images, characters, webhook endpoints), ``cursor`` →
``next_cursor`` (usage events) and ``page_token`` → ``next_page`` (usage buckets).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Generator, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from ._call import Call
from ._drivers import run_async, run_sync
from ._errors import APIResponseValidationError
from ._models import AurousModel
from ._response import ResponseInfo

if TYPE_CHECKING:
    from ._client import _BaseClient

__all__ = [
    "AsyncPage",
    "AsyncPager",
    "BasePage",
    "CursorPage",
    "EventPage",
    "SyncPage",
    "TokenPage",
]

T = TypeVar("T")


class BasePage(AurousModel, Generic[T]):
    """One page of a list as the API sent it: its items and how to ask for the next page."""

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
        query = dict(previous.query or {})
        param = self._cursor_param
        if query.get("ending_before") is not None:
            # Paging backwards: the cursor goes on as ``ending_before`` (never with
            # ``starting_after``: the API refuses the two together).
            param = "ending_before"
        query[param] = cursor
        return dataclasses.replace(previous, query=query)


class CursorPage(BasePage[T]):
    """``starting_after`` / ``ending_before`` → ``next_cursor`` (images, characters, endpoints)."""

    next_cursor: str | None = None

    def _cursor(self) -> str | None:
        return self.next_cursor


class EventPage(CursorPage[T]):
    """``cursor`` → ``next_cursor`` (usage events)."""

    _cursor_param: ClassVar[str] = "cursor"


class TokenPage(BasePage[T]):
    """``page_token`` → ``next_page`` (usage buckets)."""

    next_page: str | None = None
    _cursor_param: ClassVar[str] = "page_token"

    def _cursor(self) -> str | None:
        return self.next_page


_MAX_CURSOR_LENGTH = 2048
"""Longest cursor (or page token) followed: the API's are a few dozen characters, and a longer
one would push the next page's request line past what servers and proxies accept."""
_MAX_EMPTY_PAGES = 3
"""Empty pages in a row that may still say ``has_more``; one more and the list is refused."""


class _Cursors:
    """The cursors a list has followed, checked before the next page is asked for.

    A server that hands a cursor out twice, or keeps answering empty pages that say
    ``has_more``, would page forever; one whose cursor cannot be sent back would fail with an
    error about a query parameter the caller never set.
    """

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._empty = 0

    def check(self, page: BasePage[Any], call: Call[Any]) -> None:
        cursor = page._cursor() if page.has_more else None
        if cursor is None:
            return
        problem = None
        if cursor in self._seen:
            problem = f"returned cursor {cursor[:60]!r} a second time"
        elif len(cursor) > _MAX_CURSOR_LENGTH:
            problem = (
                f"returned a cursor of {len(cursor):,} characters (at most "
                f"{_MAX_CURSOR_LENGTH:,} are sent back)"
            )
        elif not _sendable(cursor):
            problem = f"returned a cursor that cannot be sent back ({cursor[:60]!r})"
        else:
            self._empty = self._empty + 1 if not page.data else 0
            if self._empty > _MAX_EMPTY_PAGES:
                problem = f"returned {self._empty} empty pages in a row that say has_more"
        if problem is not None:
            info = page._response
            raise APIResponseValidationError(
                f"GET {call.path} {problem}; stopping instead of paging on",
                response=None,
                request_id=info.request_id if info is not None else None,
            )
        self._seen.add(cursor)


def _sendable(cursor: str) -> bool:
    """Whether ``cursor`` can go back in a query string: UTF-8, so no lone surrogate."""
    if cursor.isascii():
        return True
    try:
        cursor.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _PageView(Generic[T]):
    def __init__(
        self, client: _BaseClient[Any, Any], call: Call[Any], page: BasePage[T], name: str = ""
    ) -> None:
        self._client = client
        self._call = call
        self._page = page
        self._name = name

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

    def iter_pages(self) -> Iterator[SyncPage[T]]:
        """Yield this page and each following page, fetching as you go."""
        cursors = _Cursors()
        page: SyncPage[T] = self
        while True:
            yield page
            cursors.check(page._page, page._call)
            call = page._page._next_call(page._call)
            if call is None:
                return
            fetched = run_sync(self._client, call.__iter__(), self._name)
            page = SyncPage(self._client, call, fetched, self._name)

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.data


class AsyncPage(_PageView[T]):
    """One fetched page of a list (async). ``async for`` over it yields every item of every page."""

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        """Yield this page and each following page, fetching as you go."""
        cursors = _Cursors()
        page: AsyncPage[T] = self
        while True:
            yield page
            cursors.check(page._page, page._call)
            call = page._page._next_call(page._call)
            if call is None:
                return
            fetched = await run_async(self._client, call.__iter__(), self._name)
            page = AsyncPage(self._client, call, fetched, self._name)

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item


class AsyncPager(Generic[T]):
    """An async list. ``async for item in aclient.images.list()`` pages lazily (no ``await``);
    ``await aclient.images.list()`` fetches the first page (`AsyncPage`: data, has_more, next_cursor).
    """

    def __init__(self, client: _BaseClient[Any, Any], call: Call[Any], name: str = "") -> None:
        self._client = client
        self._call = call
        self._name = name

    async def _first(self) -> AsyncPage[T]:
        page: BasePage[T] = await run_async(self._client, self._call.__iter__(), self._name)
        return AsyncPage(self._client, self._call, page, self._name)

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
