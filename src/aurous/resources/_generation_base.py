"""What image and video generations share: one resource (``object: "inference"``) whose rows are
read, cancelled, waited for and downloaded through the same routes (spec decision B3)."""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from typing_extensions import Unpack

from .._call import Call
from .._download import download_steps
from .._operations import ModeT, Namespace, Steps, operation, single
from .._types import RequestOptions
from .._wait import wait_steps
from ..types import Estimate, Generation
from ._common import path_id, split_args

__all__ = ["GenerationNamespace", "cancel_call", "create_call", "estimate_call", "retrieve_call"]


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


def create_call(
    path: str, args: Mapping[str, Any], check: Callable[[dict[str, Any]], None]
) -> Call[Generation]:
    """The billable create ``POST path`` for these arguments: validated by ``check``, IO-free, with
    an ``Idempotency-Key`` fixed once and reused on every retry."""
    body, options, key = split_args(args)
    check(body)
    return Call(
        "POST",
        path,
        json=body,
        parse=Generation.model_validate,
        idempotent=True,
        idempotency_key=key,
        options=options,
    )


def estimate_call(
    path: str, args: Mapping[str, Any], check: Callable[[dict[str, Any]], None]
) -> Call[Estimate]:
    """The estimate ``POST path``: the same body and checks as the create, nothing billed."""
    body, options, _ = split_args(args)
    check(body)
    return Call("POST", path, json=body, parse=Estimate.model_validate, options=options)


class GenerationNamespace(Namespace[ModeT]):
    """Methods ``client.images`` and ``client.videos`` share."""

    @operation
    def retrieve(self, generation_id: str, **options: Unpack[RequestOptions]) -> Steps[Generation]:
        """Fetch the live state of a generation (``img_…`` or ``vid_…``; ``GET /v1/images/{id}``)."""
        return (yield from single(retrieve_call(generation_id, options)))

    @operation
    def cancel(self, generation_id: str, **options: Unpack[RequestOptions]) -> Steps[Generation]:
        """Cancel a pending or processing generation; cancelling a cancelled one is a no-op.

        Images and videos alike (``POST /v1/images/{id}/cancel``)."""
        return (yield from single(cancel_call(generation_id, options)))

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
