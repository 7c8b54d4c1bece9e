"""One batch request: from what the caller wrote (a prompt, a dict) to a checked create call.

Shared by the batch engine, the cost preview and the file reader, so a request that one of them
accepts is accepted by all three, with the same messages.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, Literal, get_args

from .._call import Call
from .._requests import (
    check_image_request,
    check_video_request,
    image_create_call,
    video_create_call,
)
from ..types import Generation
from ..types.literals import ImageSize, VideoRatio, VideoResolution

__all__ = [
    "UNDOCUMENTED",
    "Media",
    "create_call",
    "normalise",
    "prepared_call",
    "undocumented_values",
]

Media = Literal["image", "video"]

_CHECK_KEY = "00000000-0000-4000-8000-000000000000"
"""A well-formed key for checking a request that has none yet (it is never sent)."""


def normalise(index: int, raw: Any) -> dict[str, Any]:
    """Request ``index`` as a dict of create parameters (a prompt string becomes ``{"prompt": …}``)."""
    if isinstance(raw, str):
        return {"prompt": raw}
    if isinstance(raw, Mapping):
        return {str(k): (list(v) if isinstance(v, tuple) else v) for k, v in raw.items()}
    raise TypeError(
        f"batch request #{index} must be a prompt string or a dict of create parameters, "
        f"not {type(raw).__name__}"
    )


def create_call(media: Media, request: Mapping[str, Any], key: str) -> Call[Generation]:
    """The create call of one request, checked as fully as sending it would check it.

    ValueError/TypeError for parameters that cannot work: unknown or mistyped parameters (as the
    create method would say), impossible combinations, and values JSON or HTTP headers cannot
    carry (NaN, a key with a line break…), which otherwise would surface only when the create is
    sent, in the middle of the batch.
    """
    args = {**request, "idempotency_key": key}
    if media == "video":
        check_video_request(args)
        call = video_create_call(args)
    else:
        check_image_request(args)
        call = image_create_call(args)
    call.prepare(lambda: key)
    return call


def prepared_call(media: Media, request: Mapping[str, Any]) -> Call[Generation]:
    """`create_call` for a request that may carry its own ``idempotency_key`` (or none yet)."""
    body = {k: v for k, v in request.items() if k != "idempotency_key"}
    key = request.get("idempotency_key") or _CHECK_KEY
    return create_call(media, body, key)


UNDOCUMENTED = "is not a value the API documents"
"""What `undocumented_values` says of a value (a report can tell these problems by it)."""

_DOCUMENTED: dict[Media, dict[str, tuple[str, ...]]] = {
    "image": {"size": get_args(ImageSize)},
    "video": {"resolution": get_args(VideoResolution), "ratio": get_args(VideoRatio)},
}


def undocumented_values(media: Media, request: Mapping[str, Any]) -> list[str]:
    """What ``request`` sets to a value of an enum that the API's spec does not list.

    ``create`` sends such values (the API may have added them since this SDK was released);
    a dry run names them, since only the API can say whether it accepts them.
    """
    found: list[str] = []
    for name, values in _DOCUMENTED[media].items():
        value = request.get(name)
        if not isinstance(value, str) or value in values:
            continue
        close = difflib.get_close_matches(value, values, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        found.append(f"{name} {value!r} {UNDOCUMENTED}{hint}; known: {', '.join(values)}")
    return found
