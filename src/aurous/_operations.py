"""Namespaces and their methods: one definition, a sync form on `Client` and a coroutine on `AsyncClient`.

A namespace method is written once, as a generator of steps (`aurous._steps`), and decorated with
`operation`. The descriptor gives it its two forms — ``client.images.create(...) -> Generation`` and
``await aclient.images.create(...)`` — and an honest face: each bound method carries the real
``__signature__`` (keyword parameters spelled out from the TypedDict, the model as return type)
and the docstring, so ``help()``, ``inspect.signature``, IPython and editors without a type
checker show the parameters. Arguments are checked against that signature before any step runs.
"""

from __future__ import annotations

import abc
import collections.abc
import functools
import importlib
import inspect
import types
import typing
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Concatenate,
    Generic,
    TypeVar,
    Union,
    get_args,
    get_origin,
    overload,
)

from typing_extensions import ParamSpec, Self

from ._drivers import run_async, run_sync
from ._response import APIResponse
from ._steps import Steps
from ._validation import argument_checker, public_signature
from .streams import AsyncStream, SyncStream

if TYPE_CHECKING:
    from ._client import _BaseClient

__all__ = [
    "Async",
    "Method",
    "ModeT",
    "Namespace",
    "NamespaceAttribute",
    "Operation",
    "RawAsync",
    "RawSync",
    "StreamOperation",
    "Sync",
    "namespace",
    "operation",
    "stream_operation",
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


class RawSync(Mode):
    """A sync client's ``with_raw_response`` view: methods return `aurous.APIResponse`."""


class RawAsync(Mode):
    """An async client's ``with_raw_response`` view."""


_UNIONS = (Union, types.UnionType)


class Namespace(Generic[M]):
    """A group of API methods (``client.images``, ``client.files`` …) bound to one client."""

    _path: ClassVar[str] = ""
    """Where the namespace sits on a client (``"images"``, ``"characters.uploads"``): error
    messages name methods as users call them."""

    def __init__(self, client: _BaseClient[Any, Any]) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} namespace>"


class NamespaceAttribute:
    """A namespace on a client (``client.images``) or on another namespace (``characters.uploads``).

    On the class it is the namespace class, so ``help(aurous.Client.images.create)`` works; on an
    instance it is that instance's namespace, built on first use (a client that never touches
    ``characters`` never builds it). ``cls`` may be a ``"module:Class"`` path: the module is then
    imported on first access, not when the client's module is.
    """

    def __init__(self, cls: type[Namespace[Any]] | str) -> None:
        self._target = cls
        if isinstance(cls, str):
            self._name = cls.rpartition(":")[2]
        else:
            self._name = cls.__name__
            self.__doc__ = cls.__doc__

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name

    @property
    def _cls(self) -> type[Namespace[Any]]:
        target = self._target
        if isinstance(target, str):
            module, _, name = target.partition(":")
            target = self._target = getattr(importlib.import_module(module), name)
            self.__doc__ = target.__doc__
        return target

    def __get__(self, inst: Any, owner: type[Any]) -> Any:
        if inst is None:
            return self._cls
        found = inst.__dict__.get(self._name)
        if found is None:
            client = inst._client if isinstance(inst, Namespace) else inst
            found = inst.__dict__[self._name] = self._cls(client)
        return found

    def __set__(self, inst: Any, value: Any) -> None:
        inst.__dict__[self._name] = value


def namespace(cls: type[Namespace[Any]] | str) -> Any:
    """Declare ``cls`` (a class or a ``"module:Class"`` path) as a namespace attribute (see
    `NamespaceAttribute`)."""
    return NamespaceAttribute(cls)


class Method(abc.ABC, Generic[P]):
    """Base of the method descriptors: the public signature, the argument check, binding.

    The signature and the check are built on first use (annotations name models whose modules
    import this one), then shared by every client. A bound method is built once per namespace
    instance and stored on it, so later lookups do not come back here. Subclasses say only how
    what the method's body returns is run: `Operation` runs steps, `PagedOperation` builds a
    page, `BatchOperation` runs a batch.
    """

    _fn: Callable[..., Any]
    _awaited = True
    """Whether the async form is a coroutine function (a list's `AsyncPager` is not)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn
        self._name = fn.__name__
        self._owner: type[Any] = object
        self._signature: inspect.Signature | None = None
        self._checks: dict[type[Any], Callable[..., None]] = {}
        self._callbacks: tuple[str, ...] | None = None
        functools.update_wrapper(self, fn)

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name
        self._owner = owner

    def _returns(self, returned: Any, is_async: bool) -> Any:
        """The public return annotation, given what ``fn`` is annotated to return."""
        return returned

    def signature(self) -> inspect.Signature:
        """The public signature (built once: annotations name models loaded on first use)."""
        if self._signature is None:
            hints = typing.get_type_hints(self._fn)
            self._signature = public_signature(
                self._fn, hints.get("return", inspect.Signature.empty)
            )
        return self._signature

    def checker(self, namespace: type[Any]) -> Callable[..., None]:
        """The argument check, naming the method as called on ``namespace`` (``images.create``)."""
        check = self._checks.get(namespace)
        if check is None:
            path = getattr(namespace, "_path", "") or namespace.__name__
            check = self._checks[namespace] = argument_checker(
                self.signature(), f"{path}.{self._name}"
            )
        return check

    def callbacks(self) -> tuple[str, ...]:
        """The parameters that take a callback (``on_update``, ``on_progress``)."""
        if self._callbacks is None:
            self._callbacks = tuple(
                p.name for p in self.signature().parameters.values() if _takes_callable(p)
            )
        return self._callbacks

    @property
    def __signature__(self) -> inspect.Signature:
        """The signature callers see (``help(aurous.Client.images.create)``)."""
        signature = self.signature()
        return signature.replace(
            return_annotation=self._returns(signature.return_annotation, is_async=False)
        )

    # ---- how the body's return value is run (one per kind of method) --------------------------
    @abc.abstractmethod
    def _run_sync(self, client: _BaseClient[Any, Any], made: Any, name: str) -> Any:
        """The sync method's result, given what ``fn`` returned; ``name`` is the call's
        (``"images.create"``), for whoever observes it."""

    @abc.abstractmethod
    def _run_async(self, client: _BaseClient[Any, Any], made: Any, name: str) -> Any:
        """The async method's result (awaited if `_awaited`), given what ``fn`` returned."""

    # ---- binding -------------------------------------------------------------------------------
    def _bind(self, inst: Namespace[Any]) -> Callable[..., Any]:
        """The method of ``inst``'s client: a function (sync) or a coroutine function (async)."""
        fn = self._fn
        client = inst._client
        check = self.checker(type(inst))
        name = f"{getattr(type(inst), '_path', '') or type(inst).__name__}.{self._name}"
        if client._is_async:
            run_async = self._run_async
            if self._awaited:

                async def amethod(*args: Any, **kwargs: Any) -> Any:
                    check(*args, **kwargs)
                    return await run_async(client, fn(inst, *args, **kwargs), name)

                return self._finish(amethod, inst)

            def pmethod(*args: Any, **kwargs: Any) -> Any:
                check(*args, **kwargs)
                return run_async(client, fn(inst, *args, **kwargs), name)

            return self._finish(pmethod, inst)

        run_sync = self._run_sync
        callbacks = self.callbacks()
        if callbacks:
            checked = check

            def check(*args: Any, **kwargs: Any) -> None:
                checked(*args, **kwargs)
                _refuse_coroutine_callbacks(kwargs, callbacks)

        def method(*args: Any, **kwargs: Any) -> Any:
            check(*args, **kwargs)
            return run_sync(client, fn(inst, *args, **kwargs), name)

        return self._finish(method, inst)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Reached through the class (``aurous.Client.images.create``): there is no client yet.
        path = getattr(self._owner, "_path", "")
        where = f"client.{path}.{self._name}" if path else f"client.images.{self._name}"
        raise TypeError(
            f"{self._fn.__qualname__} is a method of a client's namespace: call it as "
            f"{where}(...) on an aurous.Client or aurous.AsyncClient"
        )

    def _finish(self, method: Callable[..., Any], inst: Namespace[Any]) -> Callable[..., Any]:
        signature = self.signature()
        is_async = inst._client._is_async
        method.__name__ = self._name
        method.__qualname__ = f"{type(inst).__name__}.{self._name}"
        method.__doc__ = self._fn.__doc__
        method.__module__ = self._fn.__module__
        method.__signature__ = signature.replace(  # type: ignore[attr-defined]
            return_annotation=self._returns(signature.return_annotation, is_async)
        )
        inst.__dict__[self._name] = method
        return method


def _takes_callable(param: inspect.Parameter) -> bool:
    """Whether ``param``'s annotation is a callable (possibly optional, or a union of them)."""
    annotation = param.annotation
    options = get_args(annotation) if get_origin(annotation) in _UNIONS else (annotation,)
    return any(get_origin(option) is collections.abc.Callable for option in options)


def _refuse_coroutine_callbacks(kwargs: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        value = kwargs.get(name)
        if value is not None and _is_coroutine_function(value):
            raise TypeError(
                f"{name} is a coroutine function, which aurous.Client cannot await: pass a plain "
                "function, or use aurous.AsyncClient (which awaits it)"
            )


def _is_coroutine_function(value: Any) -> bool:
    return inspect.iscoroutinefunction(value) or inspect.iscoroutinefunction(
        getattr(value, "__call__", None)  # noqa: B004 - an object whose __call__ is async
    )


def _steps_result(returned: Any) -> Any:
    # ``Steps[T]`` is ``Generator[Step, Any, T]``: callers get the T.
    args = get_args(returned)
    return args[2] if len(args) == 3 else returned


class Operation(Method[P], Generic[P, T]):
    """Descriptor turning a step generator into a sync method or an async method."""

    def __init__(self, fn: Callable[Concatenate[Any, P], Steps[T]]) -> None:
        super().__init__(fn)

    def _returns(self, returned: Any, is_async: bool) -> Any:
        return _steps_result(returned)

    @overload
    def __get__(self, inst: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, inst: Namespace[Sync], owner: type[Any]) -> Callable[P, T]: ...
    @overload
    def __get__(
        self, inst: Namespace[Async], owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...
    @overload
    def __get__(
        self, inst: Namespace[RawSync], owner: type[Any]
    ) -> Callable[P, APIResponse[T]]: ...
    @overload
    def __get__(
        self, inst: Namespace[RawAsync], owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, APIResponse[T]]]: ...
    def __get__(self, inst: Namespace[Any] | None, owner: type[Any]) -> Any:
        if inst is None:
            return self
        return self._bind(inst)

    # The drivers' entry points themselves: one frame less in every traceback.
    _run_sync = staticmethod(run_sync)  # type: ignore[assignment]
    _run_async = staticmethod(run_async)  # type: ignore[assignment]


class StreamOperation(Method[P], Generic[P, T]):
    """Descriptor for a method whose steps `Emit` values: an iterator (sync) or an async
    iterator (async) of them (``client.images.watch``)."""

    _awaited = False  # ``async for g in aclient.images.watch(...)``: iterated, not awaited

    def __init__(self, fn: Callable[Concatenate[Any, P], Steps[T]]) -> None:
        super().__init__(fn)

    def _returns(self, returned: Any, is_async: bool) -> Any:
        # The steps emit values of the type they return (the last one).
        item = _steps_result(returned)
        return AsyncIterator[item] if is_async else Iterator[item]  # type: ignore[valid-type]

    @overload
    def __get__(self, inst: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, inst: Namespace[Sync], owner: type[Any]) -> Callable[P, SyncStream[T]]: ...
    @overload
    def __get__(self, inst: Namespace[Async], owner: type[Any]) -> Callable[P, AsyncStream[T]]: ...
    def __get__(self, inst: Namespace[Any] | None, owner: type[Any]) -> Any:
        if inst is None:
            return self
        return self._bind(inst)

    def _run_sync(self, client: _BaseClient[Any, Any], made: Any, name: str) -> Any:
        _refuse_raw_stream(client)
        return SyncStream(client, made, name)

    def _run_async(self, client: _BaseClient[Any, Any], made: Any, name: str) -> Any:
        _refuse_raw_stream(client)
        return AsyncStream(client, made, name)


def _refuse_raw_stream(client: _BaseClient[Any, Any]) -> None:
    if client._plain is not client:
        raise TypeError(
            "watch yields many states from many responses: call it on the client itself "
            "(each Generation it yields carries its response as ._response)"
        )


def stream_operation(fn: Callable[Concatenate[Any, P], Steps[T]]) -> StreamOperation[P, T]:
    """Make ``fn`` (steps that `Emit` values and return the last) an iterating method."""
    return StreamOperation(fn)


def operation(fn: Callable[Concatenate[Any, P], Steps[T]]) -> Operation[P, T]:
    """Make ``fn`` (a generator of steps) a method of both the sync and the async client."""
    return Operation(fn)
