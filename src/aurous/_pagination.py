"""List methods: the request of a list's first page, and the descriptor that makes it auto-page.

A list method is written once, returning the `PageRequest` of its first page; `paginated` turns it
into ``client.images.list(...) -> SyncPage[Generation]`` (fetches the first page, iterating pages
on lazily) and ``aclient.images.list(...) -> AsyncPager[Generation]``. The page classes are public,
in `aurous.pagination`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Concatenate, Generic, TypeVar, overload

from typing_extensions import ParamSpec, Self

from ._call import Call
from ._drivers import run_async, run_sync
from ._operations import Async, Method, Namespace, RawAsync, RawSync, Sync
from ._response import APIResponse
from ._types import RequestOptions
from .pagination import (
    AsyncPage,
    AsyncPager,
    BasePage,
    CursorPage,
    EventPage,
    SyncPage,
    TokenPage,
)

if TYPE_CHECKING:
    from ._client import _BaseClient

__all__ = [
    "CursorPage",
    "EventPage",
    "PageRequest",
    "PagedOperation",
    "TokenPage",
    "page_request",
    "paginated",
]

T = TypeVar("T")
P = ParamSpec("P")


@dataclasses.dataclass(frozen=True)
class PageRequest(Generic[T]):
    """The first call of a list whose items are ``T`` (what a `paginated` method returns)."""

    call: Call[Any]


def page_request(
    path: str,
    *,
    page: type[BasePage[Any]],
    item: type[T],
    query: Mapping[str, Any],
    options: RequestOptions,
) -> PageRequest[T]:
    """Describe ``GET path`` returning ``page[item]`` envelopes; ``None`` query values are dropped."""
    model = page[item]  # type: ignore[index]
    params = {k: v for k, v in query.items() if v is not None}
    call = Call(
        "GET",
        path,
        query=params,
        parse=model.model_validate,
        parse_json=model.model_validate_json,
        options=options,
    )
    return PageRequest(call)


class PagedOperation(Method[P], Generic[P, T]):
    """Descriptor for list methods: a lazily auto-paging page (sync) or pager (async)."""

    _awaited = False  # ``aclient.images.list()`` is iterated with ``async for``, not awaited

    def __init__(self, fn: Callable[Concatenate[Any, P], PageRequest[T]]) -> None:
        super().__init__(fn)

    def _returns(self, returned: Any, is_async: bool) -> Any:
        item = returned.__args__[0] if hasattr(returned, "__args__") else Any
        return AsyncPager[item] if is_async else SyncPage[item]  # type: ignore[valid-type]

    @overload
    def __get__(self, inst: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, inst: Namespace[Sync], owner: type[Any]) -> Callable[P, SyncPage[T]]: ...
    @overload
    def __get__(self, inst: Namespace[Async], owner: type[Any]) -> Callable[P, AsyncPager[T]]: ...
    @overload
    def __get__(
        self, inst: Namespace[RawSync], owner: type[Any]
    ) -> Callable[P, APIResponse[SyncPage[T]]]: ...
    @overload
    def __get__(
        self, inst: Namespace[RawAsync], owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, APIResponse[AsyncPage[T]]]]: ...
    def __get__(self, inst: Namespace[Any] | None, owner: type[Any]) -> Any:
        if inst is None:
            return self
        return self._bind(inst)

    def _run_sync(self, client: _BaseClient[Any, Any], made: PageRequest[T], name: str) -> Any:
        first = made.call
        fetched = run_sync(client, first.__iter__(), name)
        if isinstance(fetched, APIResponse):  # a ``with_raw_response`` view
            page = SyncPage(client._plain, first, fetched.parse(), name)
            return APIResponse(fetched.http_response, page, None)
        return SyncPage(client, first, fetched, name)

    def _run_async(self, client: _BaseClient[Any, Any], made: PageRequest[T], name: str) -> Any:
        if client._plain is not client:
            return _raw_first_page(client, made.call, name)
        return AsyncPager(client, made.call, name)


async def _raw_first_page(
    client: _BaseClient[Any, Any], call: Call[Any], name: str
) -> APIResponse[Any]:
    fetched: APIResponse[Any] = await run_async(client, call.__iter__(), name)
    page = AsyncPage(client._plain, call, fetched.parse(), name)
    return APIResponse(fetched.http_response, page, None)


def paginated(fn: Callable[Concatenate[Any, P], PageRequest[T]]) -> PagedOperation[P, T]:
    """Make ``fn`` (which describes the first page's call) an auto-paging list method."""
    return PagedOperation(fn)
