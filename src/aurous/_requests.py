"""Call builders: what each endpoint sends, below the namespaces and the helpers that share them.

`request` is the one way an endpoint is declared: method, path template, result type, options
and body fields, in one line. The generation calls (create, estimate, retrieve, cancel) are
built here too, because `client.images`, `client.videos`, the wait and download helpers and the
batch all send them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, get_args, get_origin
from urllib.parse import quote

from ._call import Call
from ._params import ImageCreateArgs, VideoCreateArgs
from ._types import RequestOptions
from ._validation import typeddict_checker
from .types import Estimate, Generation
from .types.lists import ModelList

__all__ = [
    "cancel_call",
    "check_image_request",
    "check_video_request",
    "create_call",
    "estimate_call",
    "exclusive",
    "image_create_call",
    "path_id",
    "request",
    "retrieve_call",
    "split_args",
    "video_create_call",
]

T = TypeVar("T")

_OPTION_KEYS = frozenset(RequestOptions.__annotations__)


# ---- the one way to declare an endpoint ----------------------------------------------------------


def request(
    method: str,
    route: str,
    result: type[T] | None,
    options: RequestOptions,
    *,
    path: Mapping[str, str] | None = None,
    **fields: Any,
) -> Call[T]:
    """The call of ``method route`` answering a ``result`` (a model, ``ModelList[Model]``, or None).

    ``route`` is the path template (``"/v1/loras/{lora_id}"``); ``path`` fills it, each value
    checked and escaped as an id. ``fields`` are `Call` fields (``json=``, ``query=``, …).

    >>> return (yield from request("GET", "/v1/loras/{lora_id}", Lora, options, path={"lora_id": x}))
    """
    url = route.format_map({k: path_id(k, v) for k, v in path.items()}) if path else route
    parse: Callable[[Any], T] = parser(result)  # type: ignore[arg-type]
    return Call(
        method,
        url,
        parse=parse,
        parse_json=json_parser(result),  # type: ignore[arg-type]
        options=options,
        route=f"{method} {route}",
        **fields,
    )


@functools.cache
def parser(result: Any) -> Callable[[Any], Any]:
    """How a JSON body becomes ``result`` (built once per result type)."""
    if result is None:
        return _nothing
    if get_origin(result) in (list, ModelList):
        validate_item: Callable[[Any], Any] = get_args(result)[0].model_validate

        def parse_list(body: Any) -> Any:
            if not isinstance(body, list):
                raise TypeError(f"expected a JSON array, got {type(body).__name__}")
            return ModelList(validate_item(entry) for entry in body)

        return parse_list
    validate: Callable[[Any], Any] = result.model_validate
    return validate


@functools.cache
def json_parser(result: Any) -> Callable[[bytes], Any] | None:
    """How a body's bytes become ``result`` in one pass, for a model (None: use `parser`)."""
    if isinstance(result, type) and hasattr(result, "model_validate_json"):
        validate: Callable[[bytes], Any] = result.model_validate_json
        return validate
    return None


def _nothing(body: Any) -> None:
    return None


def path_id(name: str, value: str) -> str:
    """A path segment from an id, refusing empty values and dot segments, escaping the rest."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name} must be a non-empty id")
    if value in (".", ".."):
        # URLs resolve dot segments: "/v1/images/.." would be sent as "/v1" (another route).
        raise ValueError(f"{name} cannot be {value!r}: a path of dots is not an id")
    try:
        return quote(value, safe="")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{name} contains a lone surrogate ({value[exc.start]!r} at position {exc.start}), "
            "which is not valid UTF-8"
        ) from None


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


def exclusive(body: Mapping[str, Any], first: str, *others: str) -> None:
    """Refuse a body that sets ``first`` together with any of ``others``."""
    if body.get(first) is None:
        return
    clash = [o for o in others if body.get(o) is not None]
    if clash:
        raise ValueError(
            f"{first} cannot be combined with {' / '.join(clash)}; pass one or the other"
        )


# ---- generations ------------------------------------------------------------------------------


def retrieve_call(generation_id: str, options: RequestOptions) -> Call[Generation]:
    """``GET /v1/images/{id}``: images and videos alike are read through the image route."""
    return request(
        "GET",
        "/v1/images/{generation_id}",
        Generation,
        options,
        path={"generation_id": generation_id},
    )


def cancel_call(generation_id: str, options: RequestOptions) -> Call[Generation]:
    """``POST /v1/images/{id}/cancel``: images and videos alike."""
    return request(
        "POST",
        "/v1/images/{generation_id}/cancel",
        Generation,
        options,
        path={"generation_id": generation_id},
        retry_safe=True,  # cancelling a cancelled generation is a no-op
    )


def create_call(
    route: str, args: Mapping[str, Any], check: Callable[[dict[str, Any]], None]
) -> Call[Generation]:
    """The billable create ``POST route`` for these arguments: validated by ``check``, IO-free,
    with an ``Idempotency-Key`` fixed once and reused on every retry."""
    body, options, key = split_args(args)
    check(body)
    return request(
        "POST",
        route,
        Generation,
        options,
        json=body,
        idempotent=True,
        idempotency_key=key,
        creates_generation=True,
    )


def estimate_call(
    route: str, args: Mapping[str, Any], check: Callable[[dict[str, Any]], None]
) -> Call[Estimate]:
    """The estimate ``POST route``: the same body and checks as the create, nothing billed."""
    body, options, _ = split_args(args)
    check(body)
    return request("POST", route, Estimate, options, json=body, retry_safe=True)


# ---- what the API refuses for its parameters (``spec/openapi.yaml``, the create bodies) ----------
#
# Ranges, lengths and formats are the spec's and fixed for an API version, so a create that
# breaks one is refused here rather than sent to be refused (a 400 per line, in a batch). Values
# of enums are not checked: the server may accept new ones (sizes, resolutions) before this SDK
# knows them; ``aurous batch --dry-run`` flags them, and ``--check-remote`` asks the API.

_MAX_TEXT = 4000
_MAX_URL = 2048
_MAX_SEED = 4294967295
_IMAGE_RANGES: dict[str, tuple[float, float]] = {
    "width": (1024, 4096),
    "height": (1024, 4096),
    "steps": (1, 100),
    "guidance_scale": (0.1, 30),
    "cfg_rescale": (0, 1),
    "denoise_strength": (0, 1),
    "seed": (0, _MAX_SEED),
    "count": (1, 4),
}
_VIDEO_RANGES: dict[str, tuple[float, float]] = {"duration": (2, 12), "seed": (-1, _MAX_SEED)}
_REFERENCE_PREFIXES = ("file_", "https://")


def _check_text(body: Mapping[str, Any], name: str) -> None:
    value = body.get(name)
    if not isinstance(value, str):
        return  # absent, or a wrong type the argument check reports
    if not 1 <= len(value) <= _MAX_TEXT:
        raise ValueError(f"{name} must be 1 to {_MAX_TEXT} characters long, got {len(value)}")
    if value.isspace():
        raise ValueError(f"{name} must not be blank")


def _check_ranges(body: Mapping[str, Any], ranges: Mapping[str, tuple[float, float]]) -> None:
    for name, (low, high) in ranges.items():
        value = body.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if isinstance(value, float) and not math.isfinite(value):
            continue  # NaN and infinities are not JSON: the body check names them
        if not low <= value <= high:
            raise ValueError(
                f"{name} must be between {_bound(low)} and {_bound(high)}, got {value!r}"
            )


def _bound(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _check_url(name: str, value: Any, prefixes: tuple[str, ...], what: str) -> None:
    if not isinstance(value, str):
        return
    if len(value) > _MAX_URL:
        raise ValueError(f"{name} must be at most {_MAX_URL} characters long, got {len(value)}")
    if not value.startswith(prefixes) or value in prefixes:
        raise ValueError(f"{name} must be {what}, got {value!r:.80}")


def _check_loras(body: Mapping[str, Any]) -> None:
    for index, item in enumerate(body.get("loras") or ()):
        where = f"loras[{index}]"
        if not isinstance(item, Mapping):
            raise TypeError(f"{where} must be a dict like {{'lora': 'id-or-slug', 'weight': 1.0}}")
        lora = item.get("lora")
        if not isinstance(lora, str) or not lora:
            raise ValueError(f"{where} needs 'lora': a LoRA id or slug")
        weight = item.get("weight")
        if weight is not None:
            if isinstance(weight, bool) or not isinstance(weight, (int, float)):
                raise TypeError(f"{where}.weight must be a number, not {type(weight).__name__}")
            if not 0 <= weight <= 2:
                raise ValueError(f"{where}.weight must be between 0 and 2, got {weight!r}")


def check_image_body(body: dict[str, Any]) -> None:
    """The image body rules the types cannot express (the server would refuse these)."""
    # An empty list counts as absent for the API, so it cannot clash with its alternative.
    for name in ("loras", "reference_image_urls"):
        if name in body and not body[name]:
            del body[name]
    exclusive(body, "size", "width", "height")
    exclusive(body, "lora_id", "loras")
    exclusive(body, "character_id", "reference_image_urls")
    if (body.get("width") is None) != (body.get("height") is None):
        given, missing = (
            ("width", "height") if body.get("width") is not None else ("height", "width")
        )
        raise ValueError(f"{given} needs {missing}: custom sizes take both width and height")
    _check_text(body, "prompt")
    _check_text(body, "negative_prompt")
    _check_ranges(body, _IMAGE_RANGES)
    _check_loras(body)
    for index, url in enumerate(body.get("reference_image_urls") or ()):
        _check_url(
            f"reference_image_urls[{index}]",
            url,
            _REFERENCE_PREFIXES,
            "a file_… id or an https:// URL",
        )
    _check_url("webhook_url", body.get("webhook_url"), ("https://",), "an https:// URL")


def check_video_body(body: dict[str, Any]) -> None:
    """The video body rules the types cannot express."""
    if body.get("prompt") is None and body.get("first_frame_url") is None:
        raise ValueError("a video needs a prompt, a first_frame_url, or both")
    if body.get("last_frame_url") is not None and body.get("first_frame_url") is None:
        raise ValueError("last_frame_url needs first_frame_url")
    _check_text(body, "prompt")
    _check_ranges(body, _VIDEO_RANGES)
    for name in ("first_frame_url", "last_frame_url"):
        _check_url(name, body.get(name), _REFERENCE_PREFIXES, "a file_… id or an https:// URL")
    _check_url("webhook_url", body.get("webhook_url"), ("https://",), "an https:// URL")


@functools.cache
def _request_checker(kind: str) -> Callable[[Mapping[str, Any]], None]:
    # Built on first use: reading the TypedDicts' annotations costs more than importing them.
    if kind == "image":
        return typeddict_checker(ImageCreateArgs, "images.create")
    return typeddict_checker(VideoCreateArgs, "videos.create")


def check_image_request(values: Mapping[str, Any]) -> None:
    """Check a dict of ``images.create`` arguments (a batch request) as the method would."""
    _request_checker("image")(values)


def check_video_request(values: Mapping[str, Any]) -> None:
    """Check a dict of ``videos.create`` arguments (a batch request) as the method would."""
    _request_checker("video")(values)


def image_create_call(args: Mapping[str, Any]) -> Call[Generation]:
    """The call of ``POST /v1/images`` for these arguments (validated, IO-free)."""
    return create_call("/v1/images", args, check_image_body)


def video_create_call(args: Mapping[str, Any]) -> Call[Generation]:
    """The call of ``POST /v1/videos`` for these arguments (validated, IO-free)."""
    return create_call("/v1/videos", args, check_video_body)
