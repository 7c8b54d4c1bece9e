"""What image and video generations share: one resource (``object: "inference"``) whose rows are
read, cancelled, waited for and downloaded through the same routes (``GET /v1/images/{id}`` and
``POST /v1/images/{id}/cancel`` serve videos too)."""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable
from pathlib import Path

from typing_extensions import Unpack

from .._download import download_steps
from .._operations import ModeT, Namespace, operation
from .._requests import cancel_call, retrieve_call
from .._steps import Steps
from .._types import RequestOptions
from .._wait import wait_steps
from ..types import Generation

__all__ = ["GenerationNamespace"]


class GenerationNamespace(Namespace[ModeT]):
    """Methods ``client.images`` and ``client.videos`` share."""

    @operation
    def retrieve(self, generation_id: str, **options: Unpack[RequestOptions]) -> Steps[Generation]:
        """Fetch the live state of a generation (``img_…`` or ``vid_…``; ``GET /v1/images/{id}``)."""
        return (yield from retrieve_call(generation_id, options))

    @operation
    def cancel(self, generation_id: str, **options: Unpack[RequestOptions]) -> Steps[Generation]:
        """Cancel a pending or processing generation; cancelling a cancelled one is a no-op.

        Images and videos alike (``POST /v1/images/{id}/cancel``)."""
        return (yield from cancel_call(generation_id, options))

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
