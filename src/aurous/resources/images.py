"""``client.images``: image generations (and the routes videos share)."""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from typing_extensions import Unpack

from .._batch import BatchPlan, BatchProgress, batch_operation
from .._call import Call
from .._download import download_steps
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
from .._wait import ImageCreateAndWaitArgs, create_and_wait_steps, wait_steps
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

    # ---- helpers: waiting, downloading, batches (aurous._wait, _download, _batch) -----------

    @operation
    def wait(
        self,
        generation_or_id: Generation | str,
        *,
        timeout: float | None = 600,
        poll_interval: float = 2.0,
        max_poll_interval: float = 15.0,
        on_update: Callable[[Generation], None] | None = None,
        cancel_on_timeout: bool = False,
    ) -> Steps[Generation]:
        """Poll a generation (``img_…`` or ``vid_…``) until its status is terminal; return it.

        Polls after ``poll_interval`` seconds, then about 1.5 times longer each time (with
        jitter) up to ``max_poll_interval``; on a 429 it waits ``Retry-After`` and keeps
        polling. ``timeout`` is one deadline over every sleep and request (``None``: none).
        ``on_update(generation)`` is called with the first state seen and on every status
        change. Any status other than pending/queued/processing ends the wait, so statuses
        added later never hang it.

        Raises ``aurous.WaitTimeoutError`` (``.generation``: the last state seen) at the
        deadline, after cancelling the generation when ``cancel_on_timeout=True``.

        >>> g = client.images.wait(client.images.create(prompt="a lighthouse"), timeout=120)
        """
        return (
            yield from wait_steps(
                generation_or_id,
                timeout=timeout,
                poll_interval=poll_interval,
                max_poll_interval=max_poll_interval,
                on_update=on_update,
                cancel_on_timeout=cancel_on_timeout,
                request_timeout=self._client.timeout,
                max_retries=self._client.max_retries,
            )
        )

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
                image_create_call(params),  # type: ignore[arg-type]
                raise_on_failure=raise_on_failure,
                timeout=timeout,
                poll_interval=poll_interval,
                max_poll_interval=max_poll_interval,
                on_update=on_update,
                cancel_on_timeout=cancel_on_timeout,
                request_timeout=self._client.timeout,
                max_retries=self._client.max_retries,
            )
        )

    @operation
    def download(
        self,
        generation_or_id: Generation | str,
        dest: str | os.PathLike[str] = ".",
        *,
        overwrite: bool = False,
        on_progress: Callable[[int, int | None], None] | None = None,
    ) -> Steps[builtins.list[Path]]:
        """Stream every output of a succeeded generation to disk; return the paths, in order.

        ``dest`` is a directory (created if missing; files are named ``<id>-<n>.<ext>``, the
        extension following the ``Content-Type``) or, for a single output, a file path (it has
        an extension and is not an existing directory). Files appear atomically: a failure
        leaves nothing at the destination. ``overwrite=False`` refuses to replace a file
        (``FileExistsError``) before downloading. A generation that has not succeeded yet is
        read again first; ids are accepted. ``on_progress(bytes_done, bytes_total_or_None)``
        counts over all outputs.

        Raises ``aurous.OutputExpiredError`` (410, past retention) or ``aurous.InvalidRequestError``
        with code ``output_not_available`` (422, no output).

        >>> client.images.download(g, "out/")            # [PosixPath('out/img_…-0.png')]
        >>> client.images.download(g, "cover.png", overwrite=True)
        """
        return (
            yield from download_steps(
                generation_or_id,
                dest,
                overwrite=overwrite,
                on_progress=on_progress,
                max_retries=self._client.max_retries,
            )
        )

    @batch_operation
    def batch(
        self,
        requests: Iterable[str | Mapping[str, Any]],
        *,
        concurrency: int = 8,
        manifest: str | os.PathLike[str] | None = None,
        on_progress: Callable[[BatchProgress], None] | None = None,
        download_to: str | os.PathLike[str] | None = None,
        wait_timeout: float | None = 600,
        poll_interval: float = 2.0,
        max_poll_interval: float = 15.0,
    ) -> BatchPlan:
        """Generate many images: create, wait (and download) each, ``concurrency`` at a time.

        ``requests`` are prompts or dicts of ``create`` parameters, read lazily. Returns one
        ``aurous.BatchResult`` per request, in input order; errors are captured per item
        (``result.error``), never raised. The batch paces itself by the rate-limit headers and
        the team's concurrency limit, and retries 429s and network failures with each item's
        own idempotency key, so nothing is generated (or charged) twice.

        With ``manifest="run.jsonl"`` every item's key is written (and fsync'd) before it is
        sent and its outcome after; running the same batch again with the same manifest
        resumes it: finished items are taken from the manifest (``skipped=True``) and
        interrupted ones are recovered by replaying their key. A request list that changed
        since raises ``ValueError``. ``on_progress(aurous.BatchProgress)`` is called after each
        item and when an item starts waiting for a rate limit; an exception it raises (or
        Ctrl-C) stops the batch promptly and propagates, leaving a valid manifest.
        ``download_to`` downloads each succeeded generation's images into that directory.

        >>> results = client.images.batch(["a red fox", "a blue whale"], manifest="run.jsonl")
        >>> [r.generation.id for r in results if r.ok]
        """
        return BatchPlan.build(
            requests,
            concurrency=concurrency,
            manifest=manifest,
            on_progress=on_progress,
            download_to=download_to,
            wait_timeout=wait_timeout,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
        )
