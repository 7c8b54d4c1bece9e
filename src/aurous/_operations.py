"""Every SDK method is written once, as an IO-free generator of steps; two drivers do the I/O.

A method body ``yield``s a `Call` (and gets back its parsed result), a `Sleep`, a `Now` (gets back a
monotonic reading) or a `ReadChunks`. `run_sync` performs the steps with blocking I/O and
`run_async` with ``await``. The `operation` descriptor gives each namespace method its typed form:
``Client.images.create(...) -> Generation`` and ``AsyncClient.images.create(...)`` as a coroutine,
from one definition (DESIGN.md principle 1).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator
from typing import TYPE_CHECKING, Any, Concatenate, Generic, TypeVar, overload

import httpx
from typing_extensions import ParamSpec, Self

from ._call import Call
from ._errors import APIConnectionError, APITimeoutError
from ._validation import argument_checker

if TYPE_CHECKING:
    from ._client import _BaseClient
    from ._pagination import AsyncPager, BasePage, SyncPage

__all__ = [
    "Async",
    "ModeT",
    "Namespace",
    "Now",
    "PageRequest",
    "ReadChunks",
    "Sleep",
    "Steps",
    "Sync",
    "operation",
    "page_request",
    "paginated",
    "run_async",
    "run_sync",
]

P = ParamSpec("P")
T = TypeVar("T")
M = TypeVar("M", bound="Mode")


class Mode:
    """Type-level marker: does a namespace belong to a sync or an async client?"""


ModeT = TypeVar("ModeT", bound=Mode)
"""The mode type parameter of a namespace class: ``class Images(Namespace[ModeT])``."""


class Sync(Mode):
    pass


class Async(Mode):
    pass


@dataclasses.dataclass(frozen=True)
class Sleep:
    """Wait this many seconds (on the client's clock)."""

    seconds: float


@dataclasses.dataclass(frozen=True)
class Now:
    """Ask for a monotonic time reading (on the client's clock)."""


@dataclasses.dataclass(frozen=True)
class ReadChunks:
    """Stream ``response``'s body into ``sink`` chunk by chunk, then close the response."""

    response: httpx.Response
    sink: Callable[[bytes], None]


Step = Call[Any] | Sleep | Now | ReadChunks
Steps = Generator[Step, Any, T]


class Namespace(Generic[M]):
    """A group of API methods (``client.images``, ``client.files`` …) bound to one client."""

    def __init__(self, client: _BaseClient[Any, Any]) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} namespace>"


class _Driver:
    """Performs steps with blocking I/O."""

    def __init__(self, transport: Any, clock: Any) -> None:
        self.transport = transport
        self.clock = clock

    def perform(self, step: Step) -> Any:
        if isinstance(step, Call):
            response = self.transport.send(step)
            return response if step.raw else step.read(response)
        if isinstance(step, Sleep):
            self.clock.sleep(step.seconds)
            return None
        if isinstance(step, Now):
            return self.clock.monotonic()
        try:
            for chunk in step.response.iter_bytes():
                step.sink(chunk)
        except httpx.TransportError as exc:
            raise _stream_error(exc, step.response) from exc
        finally:
            step.response.close()
        return None


class _AsyncDriver(_Driver):
    """Performs steps with ``await``."""

    async def aperform(self, step: Step) -> Any:
        if isinstance(step, Call):
            response = await self.transport.send(step)
            return response if step.raw else step.read(response)
        if isinstance(step, Sleep):
            await self.clock.asleep(step.seconds)
            return None
        if isinstance(step, Now):
            return self.clock.monotonic()
        try:
            async for chunk in step.response.aiter_bytes():
                step.sink(chunk)
        except httpx.TransportError as exc:
            raise _stream_error(exc, step.response) from exc
        finally:
            await step.response.aclose()
        return None


def _stream_error(exc: httpx.TransportError, response: httpx.Response) -> APIConnectionError:
    """A body that broke off mid-stream surfaces as the SDK's connection error, like a send."""
    request = response.request
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    return cls(
        f"reading the body of {request.method} {request.url.path} failed: {type(exc).__name__}",
        request=request,
    )


def run_sync(client: _BaseClient[Any, Any], steps: Steps[T]) -> T:
    """Drive ``steps`` to completion with blocking I/O and return the method's result."""
    driver = _Driver(client._transport, client._clock)
    try:
        step = next(steps)
        while True:
            try:
                value = driver.perform(step)
            except Exception as exc:
                step = steps.throw(exc)
            else:
                step = steps.send(value)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        # After Ctrl-C or task cancellation the method is still suspended: close it so its
        # clean-up (e.g. removing a partial download) runs now, not whenever it is collected.
        steps.close()


async def run_async(client: _BaseClient[Any, Any], steps: Steps[T]) -> T:
    """Drive ``steps`` to completion with ``await`` and return the method's result."""
    driver = _AsyncDriver(client._transport, client._clock)
    try:
        step = next(steps)
        while True:
            try:
                value = await driver.aperform(step)
            except Exception as exc:
                step = steps.throw(exc)
            else:
                step = steps.send(value)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        # After Ctrl-C or task cancellation the method is still suspended: close it so its
        # clean-up (e.g. removing a partial download) runs now, not whenever it is collected.
        steps.close()


class _Checked:
    _fn: Callable[..., Any]
    _check: Callable[..., None] | None = None

    def _checker(self) -> Callable[..., None]:
        # Built on first use: annotations refer to models that import this module.
        if self._check is None:
            self._check = argument_checker(self._fn)
        return self._check


class Operation(_Checked, Generic[P, T]):
    """Descriptor turning a step generator into a sync method or an async method."""

    def __init__(self, fn: Callable[Concatenate[Any, P], Steps[T]]) -> None:
        self._fn = fn
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    @overload
    def __get__(self, inst: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, inst: Namespace[Sync], owner: type[Any]) -> Callable[P, T]: ...
    @overload
    def __get__(
        self, inst: Namespace[Async], owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, inst: Namespace[Any] | None, owner: type[Any]) -> Any:
        if inst is None:
            return self
        fn = self._fn
        client = inst._client
        runner = client._runner
        check = self._checker()

        @functools.wraps(fn)
        def method(*args: Any, **kwargs: Any) -> Any:
            check(*args, **kwargs)
            return runner(client, fn(inst, *args, **kwargs))

        return method


def operation(fn: Callable[Concatenate[Any, P], Steps[T]]) -> Operation[P, T]:
    """Make ``fn`` (a generator of steps) a method of both the sync and the async client."""
    return Operation(fn)


PageT = TypeVar("PageT", bound="BasePage[Any]")


@dataclasses.dataclass(frozen=True)
class PageRequest(Generic[T]):
    """The first call of a list whose items are ``T`` (what a `paginated` method returns)."""

    call: Call[Any]


def page_request(
    path: str,
    *,
    page: type[BasePage[Any]],
    item: type[T],
    query: dict[str, Any],
    options: Any,
) -> PageRequest[T]:
    """Describe ``GET path`` returning ``page[item]`` envelopes; ``None`` query values are dropped."""
    parse = page[item].model_validate  # type: ignore[index]
    params = {k: v for k, v in query.items() if v is not None}
    return PageRequest(Call("GET", path, query=params, parse=parse, options=options))


class PagedOperation(_Checked, Generic[P, T]):
    """Descriptor for list methods: a lazily auto-paging page (sync) or pager (async)."""

    def __init__(self, fn: Callable[Concatenate[Any, P], PageRequest[T]]) -> None:
        self._fn = fn
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    @overload
    def __get__(self, inst: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, inst: Namespace[Sync], owner: type[Any]) -> Callable[P, SyncPage[T]]: ...
    @overload
    def __get__(self, inst: Namespace[Async], owner: type[Any]) -> Callable[P, AsyncPager[T]]: ...
    def __get__(self, inst: Namespace[Any] | None, owner: type[Any]) -> Any:
        if inst is None:
            return self
        from ._pagination import AsyncPager, SyncPage

        fn = self._fn
        client = inst._client
        check = self._checker()

        @functools.wraps(fn)
        def method(*args: Any, **kwargs: Any) -> Any:
            check(*args, **kwargs)
            first = fn(inst, *args, **kwargs).call
            if client._is_async:
                return AsyncPager(client, first)
            return SyncPage._fetch(client, first)

        return method


def paginated(fn: Callable[Concatenate[Any, P], PageRequest[T]]) -> PagedOperation[P, T]:
    """Make ``fn`` (which describes the first page's call) an auto-paging list method."""
    return PagedOperation(fn)


def single(call: Call[T]) -> Steps[T]:
    """The steps of a method that is exactly one API call."""
    result: T = yield call
    return result


def iterate_sync(client: _BaseClient[Any, Any], first: Call[Any]) -> Iterator[Any]:
    """Yield each page, fetching the next one only when asked (sync)."""
    call: Call[Any] | None = first
    while call is not None:
        page = run_sync(client, single(call))
        yield page
        call = page._next_call(call)


async def iterate_async(client: _BaseClient[Any, Any], first: Call[Any]) -> AsyncIterator[Any]:
    """Yield each page, fetching the next one only when asked (async)."""
    call: Call[Any] | None = first
    while call is not None:
        page = await run_async(client, single(call))
        yield page
        call = page._next_call(call)
