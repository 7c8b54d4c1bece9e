"""What image and video generations share: one resource (``object: "inference"``) whose rows are
read, cancelled, waited for and downloaded through the same routes (``GET /v1/images/{id}`` and
``POST /v1/images/{id}/cancel`` serve videos too)."""

from __future__ import annotations

import builtins
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from typing_extensions import Unpack

from .._batch import BatchPlan, BatchProgress, batch_operation
from .._download import download_steps
from .._operations import ModeT, Namespace, operation, stream_operation
from .._requests import cancel_call, retrieve_call
from .._steps import Steps
from .._types import RequestOptions
from .._wait import wait_steps
from ..types import Generation
from ..types.batch import BatchEstimate

__all__ = ["GenerationNamespace"]


class GenerationNamespace(Namespace[ModeT]):
    """Methods ``client.images`` and ``client.videos`` share."""

    _media: ClassVar[Literal["image", "video"]]
    """What ``batch`` and ``estimate_batch`` create: images on ``client.images``, videos on
    ``client.videos`` (one engine; the media type is a field of the plan)."""

    @operation
    def retrieve(self, generation_id: str, **options: Unpack[RequestOptions]) -> Steps[Generation]:
        """Fetch the live state of a generation (``img_…`` or ``vid_…``; ``GET /v1/images/{id}``).

        Args:
            generation_id: The generation's id (``img_…`` or ``vid_…``).
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        return (yield from retrieve_call(generation_id, options))

    @operation
    def cancel(self, generation_id: str, **options: Unpack[RequestOptions]) -> Steps[Generation]:
        """Cancel a pending or processing generation; cancelling a cancelled one is a no-op.

        Images and videos alike (``POST /v1/images/{id}/cancel``).

        Args:
            generation_id: The generation's id (``img_…`` or ``vid_…``).
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        return (yield from cancel_call(generation_id, options))

    @operation
    def wait(
        self,
        generation_or_id: Generation | str,
        *,
        timeout: float | None = 600,
        poll_interval: float = 2.0,
        max_poll_interval: float = 15.0,
        on_update: Callable[[Generation], Awaitable[None] | None] | None = None,
        cancel_on_timeout: bool = False,
    ) -> Steps[Generation]:
        """Poll a generation (``img_…`` or ``vid_…``) until its status is terminal; return it.

        Polls after ``poll_interval`` seconds (after about the usual duration, for a generation
        just created, once this client has seen some like it finish), then about 1.5 times
        longer each time (with jitter) up to ``max_poll_interval``; on a 429 it waits
        ``Retry-After`` and keeps polling. A webhook delivery given to ``client.webhooks.receive``
        (or ``feed``) ends the wait at once, without another request. ``timeout`` is one
        deadline over every sleep and request (``None``: none). ``on_update(generation)`` is
        called with the first state seen and on every status change (a coroutine function is
        awaited on ``AsyncClient``). Any status other than pending/queued/processing ends the
        wait, so statuses added later never hang it. ``wait`` is the last state of `watch`.

        Raises ``aurous.WaitTimeoutError`` (``.generation``: the last state seen) at the
        deadline, after cancelling the generation when ``cancel_on_timeout=True``.

        >>> g = client.images.wait(client.images.create(prompt="a lighthouse"), timeout=120)

        Args:
            generation_or_id: The generation (a ``Generation``) or its id (``img_…`` or ``vid_…``).
            timeout: Seconds to wait in all, over every poll and sleep (``None``: no deadline).
            poll_interval: Seconds before the first poll; each next pause is about 1.5 times longer.
            max_poll_interval: The longest pause between two polls, in seconds.
            on_update: Called with the first state seen and on every status change.
            cancel_on_timeout: Cancel the generation when the deadline passes (before raising
                ``WaitTimeoutError``).
        """
        return (
            yield from wait_steps(
                generation_or_id,
                timeout=timeout,
                poll_interval=poll_interval,
                max_poll_interval=max_poll_interval,
                on_update=on_update,
                cancel_on_timeout=cancel_on_timeout,
                completions=self._client._completions,
            )
        )

    @stream_operation
    def watch(
        self,
        generation_or_id: Generation | str,
        *,
        timeout: float | None = 600,
        poll_interval: float = 2.0,
        max_poll_interval: float = 15.0,
        cancel_on_timeout: bool = False,
    ) -> Steps[Generation]:
        """Every state of a generation, as it changes: an iterator (``async for`` on
        ``AsyncClient``) that yields the `Generation` at each new status and ends after the
        terminal one.

        It polls like `wait` (and ends at once on a webhook delivery given to
        ``client.webhooks.receive``), with the same deadline: ``WaitTimeoutError`` at
        ``timeout``, after cancelling the generation when ``cancel_on_timeout=True``. Nothing is
        sent before the first item is asked for; leaving the loop early stops it.

        >>> for g in client.images.watch(client.images.create(prompt="a lighthouse")):
        ...     print(g.status)              # pending, processing, succeeded

        Args:
            generation_or_id: The generation (a ``Generation``) or its id (``img_…`` or ``vid_…``).
            timeout: Seconds to wait in all, over every poll and sleep (``None``: no deadline).
            poll_interval: Seconds before the first poll; each next pause is about 1.5 times longer.
            max_poll_interval: The longest pause between two polls, in seconds.
            cancel_on_timeout: Cancel the generation when the deadline passes (before raising
                ``WaitTimeoutError``).
        """
        return (
            yield from wait_steps(
                generation_or_id,
                timeout=timeout,
                poll_interval=poll_interval,
                max_poll_interval=max_poll_interval,
                on_update=None,
                cancel_on_timeout=cancel_on_timeout,
                completions=self._client._completions,
                emit=True,
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

        Args:
            generation_or_id: The generation (a ``Generation``) or its id (``img_…`` or ``vid_…``).
            dest: A directory (created if missing) or, for a single output, a file path.
            overwrite: Replace existing files; otherwise an existing file raises ``FileExistsError``
                before anything is downloaded.
            on_progress: Called as ``on_progress(bytes_done, bytes_total_or_None)``, counted over
                all outputs.
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
        max_credits: float | None = None,
        file_name: str | None = None,
    ) -> BatchPlan:
        """Generate many images (``client.images``) or videos (``client.videos``): create, wait
        (and download) each, ``concurrency`` at a time.

        ``requests`` are prompts or dicts of ``create`` parameters, read lazily. Returns one
        ``aurous.BatchResult`` per request, in input order; errors are captured per item
        (``result.error``), never raised. The client paces the batch by the rate-limit headers
        and the team's concurrency limit, and retries network failures with each item's own
        idempotency key, so nothing is generated (or charged) twice.

        With ``manifest="run.jsonl"`` every item's key is written (and fsync'd) before it is
        sent and its outcome after; running the same batch again with the same manifest
        resumes it: finished items are taken from the manifest (``skipped=True``) and
        interrupted ones are recovered by replaying their key. A request list that changed
        since raises ``ValueError``; a manifest another run is using raises ``AurousError``.
        ``on_progress(aurous.BatchProgress)`` is called after each item and when an item starts
        waiting for a rate limit; an exception it raises (or Ctrl-C) stops the batch promptly
        and propagates, leaving a valid manifest.

        ``download_to`` downloads each succeeded generation's outputs into that directory,
        named ``<id>-<n>.<ext>``, or by ``file_name``: a template of the fields ``{index}`` (the
        request's position), ``{id}`` (the generation id) and ``{n}`` (the output's number),
        e.g. ``"{index:05d}-{n}"``; the extension still comes from the content type. A template
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
        >>> clips = client.videos.batch(
        ...     [{"prompt": "waves at dusk", "resolution": "720p", "duration": 5}],
        ...     manifest="videos.jsonl", download_to="clips/", max_credits=100,
        ... )

        Args:
            requests: The requests: prompts, or dicts of ``create`` parameters (read lazily).
            concurrency: Generations in flight at once.
            manifest: A JSONL file that makes the batch resumable: run the same batch with it again
                to resume without generating or charging anything twice.
            on_progress: Called with an ``aurous.BatchProgress`` after each item and when an item
                starts waiting for a rate limit; raising in it stops the batch.
            download_to: A directory to download each succeeded generation's outputs into.
            wait_timeout: Seconds each item may wait for its generation (``None``: no deadline).
            poll_interval: Seconds before the first poll; each next pause is about 1.5 times longer.
            max_poll_interval: The longest pause between two polls, in seconds.
            max_credits: Spend at most this many credits on the batch (earlier runs of the same
                manifest included); items beyond it are not started.
            file_name: Names the downloads from ``{index}`` (the request's position, from 0),
                ``{id}`` and ``{n}`` (the output's number), e.g. ``"{index:05d}-{n}"``; needs
                ``download_to``.
        """
        return BatchPlan.build(
            self._media,
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
        check_remote: bool = False,
    ) -> Steps[BatchEstimate]:
        """Price a batch and bound its duration without creating anything.

        Returns an ``aurous.BatchEstimate``: ``total`` credits, one ``Estimate`` per request
        (``items``, input order), ``balance_after`` (available credits minus ``total``),
        ``min_duration`` (a lower bound in seconds from the team's limits), and counts for
        planning (distinct requests, outputs, HTTP requests per generation…). Every request is
        checked first, as ``create`` would check it, before anything is sent: invalid ones
        raise ValueError/TypeError naming each ``batch request #N`` and the parameter — or,
        for requests read by ``aurous.read_requests``, a ``RequestFileError`` with the file's
        line numbers.

        The local checks cover everything the spec fixes (types, ranges, lengths, exclusive
        inputs, reference formats); only the API knows its LoRAs, characters and files, and
        whether it accepts a size this SDK does not know. ``check_remote=True`` sends each
        distinct request (prompts and seeds aside) to the free estimate endpoint, which
        validates as ``create`` does: every request it refuses is reported the same way, so a
        batch that passes will not be refused for its parameters.

        Pricing costs few requests, never one per line. An image's price depends only on
        ``count`` and ``enhance_prompt``, so the rate card (``GET /v1/pricing``) gives it. A
        video's is ``base_per_second × resolution_factor × duration``: the card gives it when
        the request sets resolution and duration, or uses no LoRA (720p, 5 s); videos leaving
        them to their LoRA are priced by the estimate endpoint once per (LoRA, resolution,
        duration). The first card price is checked against the estimate endpoint (teams with
        negotiated rates get the endpoint's prices from then on), and ``use_rate_card=False``
        asks the endpoint for every distinct price class. The card path checks parameters
        locally; unknown LoRAs or characters are found by the create.

        The time bound uses the batch's ``concurrency``, its poll schedule, ``download`` (the
        downloads' reads) and ``generation_seconds`` (else the team's median of the last 7
        days from ``GET /v1/usage``, else the documented 10 s for images; the API documents no
        typical video duration, so videos then count generation time as 0), with the rate
        limits this client has seen (else the documented defaults); see ``aurous.BatchEstimate``.

        >>> est = client.images.estimate_batch(prompts, concurrency=16)
        >>> est.total, est.balance_after, est.min_duration

        Args:
            requests: The requests: prompts, or dicts of ``create`` parameters (read lazily).
            concurrency: Generations in flight at once.
            download: Count the reads the downloads will take in the time bound.
            poll_interval: Seconds before the first poll; each next pause is about 1.5 times longer.
            max_poll_interval: The longest pause between two polls, in seconds.
            generation_seconds: Seconds one generation takes, for the time bound (default: the
                team's median of the last 7 days, else the documented low end for images).
            use_rate_card: Price from the rate card where it is exact; ``False`` asks the estimate
                endpoint for every distinct price class.
            check_remote: Also send each distinct request to the estimate endpoint (free), which
                refuses what ``create`` would refuse; all refused requests are reported.
        """
        # Deferred (down the layers): pricing and the preview load when a batch is estimated,
        # not with ``client.images``.
        from .._batch._estimate import estimate_batch_steps

        return (
            yield from estimate_batch_steps(
                self._client,
                self._media,
                requests,
                concurrency=concurrency,
                download=download,
                poll_interval=poll_interval,
                max_poll_interval=max_poll_interval,
                generation_seconds=generation_seconds,
                use_rate_card=use_rate_card,
                check_remote=check_remote,
            )
        )
