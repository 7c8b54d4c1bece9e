"""``client.images``: image generations (and the routes videos share)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

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

        Args:
            prompt: What to generate, 1–4000 characters.
            negative_prompt: What to avoid, 1–4000 characters.
            lora_id: An image LoRA id (``lora_…``), slug or legacy UUID. Not with ``loras``.
            loras: Stacked LoRAs, in order: ``[{"lora": id_or_slug, "weight": 0.0–2.0 (default
                1.0)}]``. Not with ``lora_id``.
            character_id: A ready character (``char_…``). Not with ``reference_image_urls``.
            reference_image_urls: Reference images: ``file_…`` ids or ``https://`` URLs. Not with
                ``character_id``.
            size: A size preset (``2k_1_1`` … ``4k_21_9``); default ``2k_1_1``. Not with
                ``width``/``height``.
            width: Custom width, 1024–4096 (rounded to a multiple of 32). Only together with
                ``height``.
            height: Custom height, 1024–4096 (rounded to a multiple of 32). Only together with
                ``width``.
            steps: Sampling steps, 1–100; default the LoRA's, else 30.
            guidance_scale: Guidance scale, 0.1–30; default the LoRA's, else 7.5.
            cfg_rescale: CFG rescale, 0.0–1.0.
            denoise_strength: Denoise strength, 0.0–1.0; applies only with references or a
                character.
            seed: Seed, 0–4294967295; random when left out.
            count: Number of images, 1–4 (default 1).
            enhance_prompt: Let an LLM rewrite the prompt (multiplies the price); default False.
            webhook_url: An ``https://`` URL that receives an unsigned ``{event, data}`` callback
                when done.
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
            idempotency_key: Reuse a key to resume a call safely; by default a UUID4 is generated
                per call.
        """
        return (yield from image_create_call(args))

    @operation
    def estimate(self, **args: Unpack[ImageEstimateArgs]) -> Steps[Estimate]:
        """Price an image generation without creating it (same arguments as ``create``).

        Args:
            prompt: What to generate, 1–4000 characters.
            negative_prompt: What to avoid, 1–4000 characters.
            lora_id: An image LoRA id (``lora_…``), slug or legacy UUID. Not with ``loras``.
            loras: Stacked LoRAs, in order: ``[{"lora": id_or_slug, "weight": 0.0–2.0 (default
                1.0)}]``. Not with ``lora_id``.
            character_id: A ready character (``char_…``). Not with ``reference_image_urls``.
            reference_image_urls: Reference images: ``file_…`` ids or ``https://`` URLs. Not with
                ``character_id``.
            size: A size preset (``2k_1_1`` … ``4k_21_9``); default ``2k_1_1``. Not with
                ``width``/``height``.
            width: Custom width, 1024–4096 (rounded to a multiple of 32). Only together with
                ``height``.
            height: Custom height, 1024–4096 (rounded to a multiple of 32). Only together with
                ``width``.
            steps: Sampling steps, 1–100; default the LoRA's, else 30.
            guidance_scale: Guidance scale, 0.1–30; default the LoRA's, else 7.5.
            cfg_rescale: CFG rescale, 0.0–1.0.
            denoise_strength: Denoise strength, 0.0–1.0; applies only with references or a
                character.
            seed: Seed, 0–4294967295; random when left out.
            count: Number of images, 1–4 (default 1).
            enhance_prompt: Let an LLM rewrite the prompt (multiplies the price); default False.
            webhook_url: An ``https://`` URL that receives an unsigned ``{event, data}`` callback
                when done.
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
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

        Args:
            limit: Page size (1–100; the API's default when left out).
            starting_after: A row id: list the rows after it (older ones).
            ending_before: A row id: list the rows before it (newer ones); not with
                ``starting_after``.
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
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
        on_update: Callable[[Generation], Awaitable[None] | None] | None = None,
        cancel_on_timeout: bool = False,
        **params: Unpack[ImageCreateAndWaitArgs],
    ) -> Steps[Generation]:
        """Create an image generation and wait for it (``create`` + ``wait``, one deadline).

        Takes every ``create`` parameter. With ``raise_on_failure=True`` a generation that ends
        without output (failed, cancelled, expired, moderation_rejected, …) raises
        ``aurous.GenerationFailedError`` (``.generation``, ``.error_message``).

        >>> g = client.images.create_and_wait(prompt="a lighthouse at dusk", raise_on_failure=True)
        >>> paths = client.images.download(g, "out/")

        Args:
            raise_on_failure: Raise ``aurous.GenerationFailedError`` when the generation ends
                without output, instead of returning it.
            timeout: Seconds for the create and the wait together, one deadline over every request
                and sleep (``None``: no deadline).
            poll_interval: Seconds before the first poll; each next pause is about 1.5 times longer.
            max_poll_interval: The longest pause between two polls, in seconds.
            on_update: Called with the first state seen and on every status change.
            cancel_on_timeout: Cancel the generation when the deadline passes (before raising
                ``WaitTimeoutError``).
            prompt: What to generate, 1–4000 characters.
            negative_prompt: What to avoid, 1–4000 characters.
            lora_id: An image LoRA id (``lora_…``), slug or legacy UUID. Not with ``loras``.
            loras: Stacked LoRAs, in order: ``[{"lora": id_or_slug, "weight": 0.0–2.0 (default
                1.0)}]``. Not with ``lora_id``.
            character_id: A ready character (``char_…``). Not with ``reference_image_urls``.
            reference_image_urls: Reference images: ``file_…`` ids or ``https://`` URLs. Not with
                ``character_id``.
            size: A size preset (``2k_1_1`` … ``4k_21_9``); default ``2k_1_1``. Not with
                ``width``/``height``.
            width: Custom width, 1024–4096 (rounded to a multiple of 32). Only together with
                ``height``.
            height: Custom height, 1024–4096 (rounded to a multiple of 32). Only together with
                ``width``.
            steps: Sampling steps, 1–100; default the LoRA's, else 30.
            guidance_scale: Guidance scale, 0.1–30; default the LoRA's, else 7.5.
            cfg_rescale: CFG rescale, 0.0–1.0.
            denoise_strength: Denoise strength, 0.0–1.0; applies only with references or a
                character.
            seed: Seed, 0–4294967295; random when left out.
            count: Number of images, 1–4 (default 1).
            enhance_prompt: Let an LLM rewrite the prompt (multiplies the price); default False.
            webhook_url: An ``https://`` URL that receives an unsigned ``{event, data}`` callback
                when done.
            extra_headers: Additional HTTP headers to send with the create.
            extra_query: Additional query parameters to send with the create.
            extra_body: Additional JSON body fields to send with the create.
            max_retries: Override the client's ``max_retries`` for the create.
            idempotency_key: Reuse a key to resume a create safely; by default a UUID4 is generated
                per call.
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
                completions=self._client._completions,
            )
        )
