"""Argument checks derived from each method's own annotations, run before anything is sent.

Only what is certain is checked: types (a ``Literal`` checks the type of its values, not the value,
so new server-side enum values keep working) and unknown keyword arguments. Ranges are the server's.
"""

from __future__ import annotations

import collections.abc
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, Union, get_args, get_origin

from typing_extensions import NotRequired, Required, Unpack, is_typeddict

from ._types import NotGiven

__all__ = ["argument_checker"]

Check = Callable[[Any], bool]


def _any(_: Any) -> bool:
    return True


def _describe(tp: Any) -> str:
    text = getattr(tp, "__name__", None) or repr(tp).replace("typing.", "")
    return str(text)


def _predicate(tp: Any) -> tuple[Check, str]:
    """A runtime test for values of annotation ``tp`` and a readable name of what it expects."""
    if tp is Any or isinstance(tp, typing.TypeVar):
        return _any, "any"
    if tp is type(None) or tp is None:
        return (lambda v: v is None), "None"
    if tp is bool:
        return (lambda v: isinstance(v, bool)), "bool"
    if tp is int:
        return (lambda v: isinstance(v, int) and not isinstance(v, bool)), "int"
    if tp is float:
        return (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)), "float"
    if tp is str:
        return (lambda v: isinstance(v, str)), "str"
    if tp is bytes:
        return (lambda v: isinstance(v, (bytes, bytearray, memoryview))), "bytes"
    origin = get_origin(tp)
    args = get_args(tp)
    if origin in (Required, NotRequired):
        return _predicate(args[0])
    if origin is Literal:
        kinds = tuple({type(a) for a in args})
        return (
            lambda v: isinstance(v, kinds) and not (bool not in kinds and isinstance(v, bool))
        ), (" | ".join(repr(a) for a in args[:6]) + (" | …" if len(args) > 6 else ""))
    if origin in (Union, types.UnionType):
        parts = [_predicate(a) for a in args]
        return (lambda v: any(p(v) for p, _ in parts)), " | ".join(n for _, n in parts)
    if is_typeddict(tp):
        return (lambda v: isinstance(v, collections.abc.Mapping)), f"{tp.__name__} (a dict)"
    if origin in (list, collections.abc.Sequence, tuple, collections.abc.Iterable):
        item = _predicate(args[0])[0] if args else _any
        name = f"a sequence of {_predicate(args[0])[1]}" if args else "a sequence"

        def seq(v: Any) -> bool:
            if isinstance(v, (str, bytes)) or not isinstance(v, collections.abc.Iterable):
                return False
            if isinstance(v, collections.abc.Sequence):
                return all(item(x) for x in v)
            return True

        return seq, name
    if origin in (dict, collections.abc.Mapping):
        return (lambda v: isinstance(v, collections.abc.Mapping)), "a mapping"
    if isinstance(tp, type):
        if tp is NotGiven:
            return (lambda v: isinstance(v, NotGiven)), "NOT_GIVEN"
        return (lambda v: isinstance(v, tp)), tp.__name__
    # Anything fancier (protocols, callables, path-likes) is left to the method itself.
    return _any, _describe(tp)


def argument_checker(fn: Callable[..., Any]) -> Callable[..., None]:
    """Build ``check(*args, **kwargs)`` for ``fn``; the first parameter (``self``) is skipped.

    Raises ``TypeError`` naming the parameter for a missing required argument, an unexpected
    keyword, or a value of the wrong type.
    """
    signature = inspect.signature(fn)
    hints = typing.get_type_hints(fn, include_extras=True)
    checks: dict[str, tuple[Check, str]] = {}
    option_checks: dict[str, tuple[Check, str]] | None = None
    required_options: frozenset[str] = frozenset()
    var_kw: str | None = None
    for name, param in list(signature.parameters.items())[1:]:
        hint = hints.get(name, Any)
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            var_kw = name
            if get_origin(hint) is Unpack:
                td = get_args(hint)[0]
                td_hints = typing.get_type_hints(td, include_extras=True)
                option_checks = {k: _predicate(v) for k, v in td_hints.items()}
                # Postponed annotations hide Required[...] from __required_keys__; read the hints.
                total = getattr(td, "__total__", True)
                required_options = frozenset(
                    k
                    for k, v in td_hints.items()
                    if get_origin(v) is Required or (total and get_origin(v) is not NotRequired)
                )
            continue
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        checks[name] = _predicate(hint)
    qualname = fn.__qualname__.replace("._fn", "")

    def check(*args: Any, **kwargs: Any) -> None:
        bound = signature.bind(None, *args, **kwargs)
        missing = required_options - kwargs.keys()
        if missing:
            names = ", ".join(repr(m) for m in sorted(missing))
            raise TypeError(f"{qualname}() missing required keyword argument(s): {names}")
        for name, value in bound.arguments.items():
            if name == var_kw:
                for key, opt in value.items():
                    if option_checks is None:
                        continue
                    if key not in option_checks:
                        raise TypeError(f"{qualname}() got an unexpected keyword argument {key!r}")
                    ok, expected = option_checks[key]
                    if not ok(opt):
                        raise TypeError(
                            f"{qualname}(): {key} must be {expected}, not {type(opt).__name__}"
                        )
                continue
            entry = checks.get(name)
            if entry is None:
                continue
            ok, expected = entry
            if not ok(value):
                raise TypeError(
                    f"{qualname}(): {name} must be {expected}, not {type(value).__name__} "
                    f"({value!r:.60})"
                )

    return check
