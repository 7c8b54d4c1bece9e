"""Helpers shared by the namespaces: splitting arguments, path ids, result parsers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from .._call import Call
from .._models import AurousModel, ModelList
from .._operations import Steps, single
from .._types import RequestOptions

T = TypeVar("T")

_OPTION_KEYS = frozenset(RequestOptions.__annotations__)


def split_args(
    args: Mapping[str, Any],
) -> tuple[dict[str, Any], RequestOptions, str | None]:
    """Split keyword arguments into (body fields that were set, per-call options, idempotency key)."""
    body: dict[str, Any] = {}
    options: dict[str, Any] = {}
    key: str | None = None
    for name, value in args.items():
        if name == "idempotency_key":
            key = value
        elif name in _OPTION_KEYS:
            options[name] = value
        elif value is not None:
            body[name] = list(value) if isinstance(value, tuple) else value
    return body, RequestOptions(**options), key  # type: ignore[typeddict-item]


def path_id(name: str, value: str) -> str:
    """A path segment from an id, refusing empty values and escaping anything unsafe."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name} must be a non-empty id")
    return quote(value, safe="")


def exclusive(body: Mapping[str, Any], first: str, *others: str) -> None:
    """Refuse a body that sets ``first`` together with any of ``others``."""
    if body.get(first) is None:
        return
    clash = [o for o in others if body.get(o) is not None]
    if clash:
        raise ValueError(
            f"{first} cannot be combined with {' / '.join(clash)}; pass one or the other"
        )


def model_parser(model: type[Any]) -> Callable[[Any], Any]:
    return model.model_validate  # type: ignore[no-any-return]


def list_parser(model: type[T]) -> Callable[[Any], ModelList[T]]:
    def parse(body: Any) -> ModelList[T]:
        return ModelList(model.model_validate(item) for item in body)  # type: ignore[attr-defined]

    return parse


ModelT = TypeVar("ModelT", bound=AurousModel)


def request(
    method: str, path: str, model: type[ModelT], options: RequestOptions, **fields: Any
) -> Steps[ModelT]:
    """The steps of one API call whose JSON answer is a ``model`` (one line per endpoint)."""
    return single(Call(method, path, parse=model.model_validate, options=options, **fields))
