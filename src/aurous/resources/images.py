"""``client.images``: image generations (and the routes videos share)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from typing_extensions import Unpack

from .._batch import BatchPlan, BatchProgress, batch_operation, estimate_batch_steps
from .._operations import ModeT, operation
from .._pagination import CursorPage, PageRequest, page_request, paginated
from .._params import ImageCreateArgs, ImageEstimateArgs
from .._requests import check_image_body, estimate_call, image_create_call
from .._steps import Steps
from .._types import RequestOptions
from .._wait import ImageCreateAndWaitArgs, create_and_wait_steps
from ..types import Estimate, Generation
from ..types.batch import BatchEstimate
from ._generation_base import GenerationNamespace

__all__ = ["Images"]


class Images(GenerationNamespace[ModeT]):
    """Image generations: ``client.images``."""

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
        max_credits: float | None = None,
        file_name: str | None = None,
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
        ``download_to`` downloads each succeeded generation's images into that directory, named
        ``<id>-<n>.<ext>``, or by ``file_name``: a template of the fields ``{index}`` (the
        request's position), ``{id}`` (the generation id) and ``{n}`` (the image's number), e.g.
        ``"{index:05d}-{n}"``; the extension still comes from the content type. A template
        that could give two files one name or leave the directory is refused (ValueError).

        ``max_credits`` caps what the batch spends: each item is priced before its create is
        sent (the rate card, or one estimate per kind of request) and no create goes that would
        take the credits the batch has committed or holds past the cap (released holds do not
        count; with a manifest, earlier runs count too). Items left out are reported with
        ``not_started=True`` and a ``BudgetExceededError``; running the batch again on the same
        manifest with a larger cap starts them. A ``402`` (the team's balance ran out) stops
        new starts the same way: running items finish, the rest are ``not_started``.

        >>> results = client.images.batch(["a red fox", "a blue whale"], manifest="run.jsonl")
        >>> [r.generation.id for r in results if r.ok]
        """
        return BatchPlan.build(
            "image",
            requests,
            concurrency=concurrency,
            manifest=manifest,
            on_progress=on_progress,
            download_to=download_to,
            wait_timeout=wait_timeout,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            max_credits=max_credits,
            file_name=file_name,
        )

    @operation
    def estimate_batch(
        self,
        requests: Iterable[str | Mapping[str, Any]],
        *,
        concurrency: int = 8,
        download: bool = False,
        poll_interval: float = 2.0,
        max_poll_interval: float = 15.0,
        generation_seconds: float | None = None,
        use_rate_card: bool = True,
    ) -> Steps[BatchEstimate]:
        """Price a batch and bound its duration without creating anything.

        Returns an ``aurous.BatchEstimate``: ``total`` credits, one ``Estimate`` per request
        (``items``, input order), ``balance_after`` (available credits minus ``total``),
        ``min_duration`` (a lower bound in seconds from the team's limits), and counts for
        planning (distinct requests, outputs, HTTP requests per generation…). Every request is
        checked first, as ``create`` would check it: an invalid one raises ValueError/TypeError
        naming ``batch request #N`` and the parameter, before anything is sent.

        Pricing costs few requests. An image's price depends only on ``count`` and
        ``enhance_prompt``, so the rate card (``GET /v1/pricing``) gives it; a video's on its
        resolution and duration, so the card gives it when the request sets both, or uses no
        LoRA (defaults 720p, 5 s). The first card price is checked against the estimate
        endpoint (teams with negotiated rates get the endpoint's prices from then on); videos
        that leave resolution or duration to their LoRA, and every request with
        ``use_rate_card=False``, are priced by ``POST /v1/images/estimate`` once per distinct
        price-deciding combination, never once per line. The card path checks parameters
        locally; unknown LoRAs or characters are found by the create.

        The time bound uses the batch's ``concurrency``, its poll schedule, ``download`` (the
        downloads' reads) and ``generation_seconds`` (else the team's median of the last 7
        days from ``GET /v1/usage``, else the documented 10 s), with the rate limits this
        client has seen (else the documented defaults); see ``aurous.BatchEstimate``.

        >>> est = client.images.estimate_batch(prompts, concurrency=16)
        >>> est.total, est.balance_after, est.min_duration
        """
        return (
            yield from estimate_batch_steps(
                self._client,
                "image",
                requests,
                concurrency=concurrency,
                download=download,
                poll_interval=poll_interval,
                max_poll_interval=max_poll_interval,
                generation_seconds=generation_seconds,
                use_rate_card=use_rate_card,
            )
        )
