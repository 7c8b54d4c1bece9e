"""``client.images``: image generations (and the routes videos share)."""

from __future__ import annotations

from typing import Any

from typing_extensions import Unpack

from .._call import Call
from .._operations import (
    ModeT,
    Namespace,
    PageRequest,
    Steps,
    operation,
    page_request,
    paginated,
    single,
)
from .._pagination import CursorPage
from .._params import ImageCreateArgs, ImageEstimateArgs
from .._types import RequestOptions
from ..types import Estimate, Generation
from ._common import exclusive, path_id, split_args

__all__ = ["Images", "image_create_call", "retrieve_call"]


def _check_image_body(body: dict[str, Any]) -> None:
    exclusive(body, "size", "width", "height")
    exclusive(body, "lora_id", "loras")
    exclusive(body, "character_id", "reference_image_urls")
    if (body.get("width") is None) != (body.get("height") is None):
        given, missing = (
            ("width", "height") if body.get("width") is not None else ("height", "width")
        )
        raise ValueError(f"{given} needs {missing}: custom sizes take both width and height")
    if not body.get("loras"):
        body.pop("loras", None)
    if not body.get("reference_image_urls"):
        body.pop("reference_image_urls", None)


def image_create_call(args: ImageCreateArgs) -> Call[Generation]:
    """The call of ``POST /v1/images`` for these arguments (validated, IO-free)."""
    body, options, key = split_args(args)
    _check_image_body(body)
    return Call(
        "POST",
        "/v1/images",
        json=body,
        parse=Generation.model_validate,
        idempotent=True,
        idempotency_key=key,
        options=options,
    )


def retrieve_call(generation_id: str, options: RequestOptions) -> Call[Generation]:
    """The call of ``GET /v1/images/{id}`` (images and videos alike)."""
    gid = path_id("generation_id", generation_id)
    return Call("GET", f"/v1/images/{gid}", parse=Generation.model_validate, options=options)


def cancel_call(generation_id: str, options: RequestOptions) -> Call[Generation]:
    """The call of ``POST /v1/images/{id}/cancel`` (images and videos alike)."""
    gid = path_id("generation_id", generation_id)
    return Call(
        "POST", f"/v1/images/{gid}/cancel", parse=Generation.model_validate, options=options
    )


class Images(Namespace[ModeT]):
    """Image generations: ``client.images``."""

    @operation
    def create(self, **args: Unpack[ImageCreateArgs]) -> Steps[Generation]:
        """Start an image generation; returns the row in its initial status (``pending``).

        An ``Idempotency-Key`` is generated once per call and reused on every retry, so a retried
        create never bills twice; pass ``idempotency_key=`` to resume a call of your own.

        >>> g = client.images.create(prompt="a lighthouse at dusk", size="2k_16_9")
        """
        return (yield from single(image_create_call(args)))

    @operation
    def estimate(self, **args: Unpack[ImageEstimateArgs]) -> Steps[Estimate]:
        """Price an image generation without creating it (same arguments as ``create``)."""
        body, options, _ = split_args(args)
        _check_image_body(body)
        call = Call(
            "POST",
            "/v1/images/estimate",
            json=body,
            parse=Estimate.model_validate,
            options=options,
        )
        return (yield from single(call))

    @operation
    def retrieve(self, generation_id: str, **options: Unpack[RequestOptions]) -> Steps[Generation]:
        """Fetch the live state of a generation (``img_…`` or ``vid_…``)."""
        return (yield from single(retrieve_call(generation_id, options)))

    @operation
    def cancel(self, generation_id: str, **options: Unpack[RequestOptions]) -> Steps[Generation]:
        """Cancel a pending or processing generation; cancelling a cancelled one is a no-op."""
        return (yield from single(cancel_call(generation_id, options)))

    @paginated
    def list(
        self,
        *,
        limit: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> PageRequest[Generation]:
        """List the team's image and video generations, newest first.

        Iterating the result pages through everything lazily; ``limit`` (1–100, default 20) is the
        page size. ``ending_before`` pages backwards and is not auto-paged.
        """
        if starting_after is not None and ending_before is not None:
            raise ValueError("starting_after cannot be combined with ending_before")
        query = {"limit": limit, "starting_after": starting_after, "ending_before": ending_before}
        return page_request(
            "/v1/images", page=CursorPage, item=Generation, query=query, options=options
        )
