"""``client.images``: image generations (and the routes videos share)."""

from __future__ import annotations

from collections.abc import Callable

from typing_extensions import Unpack

from .._operations import ModeT, operation
from .._pagination import CursorPage, PageRequest, page_request, paginated
from .._params import ImageCreateArgs, ImageEstimateArgs
from .._requests import check_image_body, estimate_call, image_create_call
from .._steps import Steps
from .._types import RequestOptions
from .._wait import ImageCreateAndWaitArgs, create_and_wait_steps
from ..types import Estimate, Generation
from ._generation_base import GenerationNamespace

__all__ = ["Images"]


class Images(GenerationNamespace[ModeT]):
    """Image generations: ``client.images``."""

    _path = "images"
    _media = "image"

    @operation
    def create(self, **args: Unpack[ImageCreateArgs]) -> Steps[Generation]:
        """Start an image generation; returns the row in its initial status (``pending``).

        An ``Idempotency-Key`` is generated once per call and reused on every retry, so a retried
        create never bills twice; pass ``idempotency_key=`` to resume a call of your own.

        >>> g = client.images.create(prompt="a lighthouse at dusk", size="2k_16_9")
        """
        return (yield from image_create_call(args))

    @operation
    def estimate(self, **args: Unpack[ImageEstimateArgs]) -> Steps[Estimate]:
        """Price an image generation without creating it (same arguments as ``create``)."""
        return (yield from estimate_call("/v1/images/estimate", args, check_image_body))

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
        page size. With ``ending_before`` the list pages backwards: rows newer than that one.
        """
        if starting_after is not None and ending_before is not None:
            raise ValueError("starting_after cannot be combined with ending_before")
        query = {"limit": limit, "starting_after": starting_after, "ending_before": ending_before}
        return page_request(
            "/v1/images", page=CursorPage, item=Generation, query=query, options=options
        )

    # ---- helpers: waiting, downloading, batches ------------------------------------------------

    @operation
    def create_and_wait(
        self,
        *,
        raise_on_failure: bool = False,
        timeout: float | None = 600,
        poll_interval: float = 2.0,
        max_poll_interval: float = 15.0,
        on_update: Callable[[Generation], None] | None = None,
        cancel_on_timeout: bool = False,
        **params: Unpack[ImageCreateAndWaitArgs],
    ) -> Steps[Generation]:
        """Create an image generation and wait for it (``create`` + ``wait``, one deadline).

        Takes every ``create`` parameter. With ``raise_on_failure=True`` a generation that ends
        without output (failed, cancelled, expired, moderation_rejected, …) raises
        ``aurous.GenerationFailedError`` (``.generation``, ``.error_message``).

        >>> g = client.images.create_and_wait(prompt="a lighthouse at dusk", raise_on_failure=True)
        >>> paths = client.images.download(g, "out/")
        """
        return (
            yield from create_and_wait_steps(
                image_create_call(params),
                raise_on_failure=raise_on_failure,
                timeout=timeout,
                poll_interval=poll_interval,
                max_poll_interval=max_poll_interval,
                on_update=on_update,
                cancel_on_timeout=cancel_on_timeout,
            )
        )
