"""Downloading a generation's outputs to disk: streamed, atomic, resumable (endpoints.md §3.6).

Every output is streamed into a temporary file next to its destination; only when *all* outputs
are complete are they moved into place (``os.replace``, or a no-clobber hard link when
``overwrite=False``). Any failure — HTTP error, dropped connection, a raising ``on_progress``,
Ctrl-C — removes the temporary files and leaves nothing at the destination paths.

A body that breaks off mid-stream is resumed with ``Range: bytes=<have>-`` (the video route
answers ``206``; the image route ignores ``Range`` and answers ``200``, which restarts the file),
at most ``max_retries`` times per output.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import mimetypes
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import urlsplit

import httpx

from ._call import Call
from ._errors import APIConnectionError, AurousError
from ._operations import ReadChunks, Sleep, Steps
from ._response import ResponseInfo
from ._retry import backoff_delay
from ._types import RequestOptions
from ._wait import RequestPacer
from .types import Generation

__all__ = ["OnProgress", "download_steps", "extension_for"]

OnProgress = Callable[[int, "int | None"], None]

_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/jpg": "jpg",
    "image/pjpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/avif": "avif",
    "image/heic": "heic",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "video/quicktime": "mov",
    "application/octet-stream": "bin",
}
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def extension_for(content_type: str | None, url: str) -> str:
    """File extension (no dot) for a body of ``content_type`` fetched from ``url``."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime in _EXTENSIONS:
        return _EXTENSIONS[mime]
    guessed = mimetypes.guess_extension(mime) if mime else None
    if guessed:
        return guessed.lstrip(".")
    suffix = PurePosixPath(urlsplit(url).path).suffix.lstrip(".").lower()
    return suffix if suffix and suffix.isalnum() else "bin"


def _output_path(generation: Generation) -> str:
    """The output route of ``generation`` (asked when it has no output URL, to get the 422)."""
    if generation.kind == "video":
        return f"/v1/videos/{generation.id}/output"
    return f"/v1/images/{generation.id}/output/0"


def _fresh_succeeded(target: Generation | str) -> Steps[Generation]:
    """A succeeded row with its output URLs; otherwise the API's own error (422 / 404)."""
    from .resources._generation_base import retrieve_call  # the namespace imports this module

    if isinstance(target, Generation) and target.is_succeeded and target.outputs:
        return target
    if isinstance(target, Generation):
        generation_id = target.id
    elif isinstance(target, str) and target.strip():
        generation_id = target
    else:
        raise TypeError(f"expected a Generation or a generation id, got {target!r:.60}")
    generation: Generation = yield retrieve_call(generation_id, RequestOptions())
    if generation.is_succeeded and generation.outputs:
        return generation
    # Let the API say why there is nothing to download: 422 output_not_available (typed
    # InvalidRequestError) for a row that is in flight or ended without output.
    probe: Call[Any] = Call("GET", _output_path(generation), raw=True, headers={"Accept": "*/*"})
    yield probe
    # It finished between the two requests: read the row again.
    generation = yield retrieve_call(generation_id, RequestOptions())
    if generation.is_succeeded and generation.outputs:
        return generation
    raise AurousError(f"generation {generation_id} has status {generation.status!r} and no output")


def _is_file_dest(path: Path, raw: str) -> bool:
    if path.is_dir() or raw.endswith(("/", os.sep)):
        return False
    return bool(path.suffix)


def _refuse(path: Path) -> FileExistsError:
    return FileExistsError(
        errno.EEXIST, f"{path} already exists (pass overwrite=True to replace it)", str(path)
    )


@dataclasses.dataclass
class _Part:
    """One output being downloaded into a temporary file."""

    url: str
    temp: Path
    file: IO[bytes]
    have: int = 0
    size: int | None = None
    content_type: str | None = None
    target: Path | None = None


@dataclasses.dataclass
class _Progress:
    callback: OnProgress | None
    outputs: int
    finished_bytes: int = 0
    sizes: list[int] = dataclasses.field(default_factory=list)

    def total(self, current: int | None) -> int | None:
        """The size of all outputs, known once the last one's headers arrived."""
        sizes = [*self.sizes, current]
        if len(sizes) < self.outputs or any(s is None for s in sizes):
            return None
        return sum(s for s in sizes if s is not None)

    def report(self, part: _Part) -> None:
        if self.callback is not None:
            self.callback(self.finished_bytes + part.have, self.total(part.size))


def _parse_content_range(value: str | None) -> tuple[int, int | None] | None:
    match = _CONTENT_RANGE.match(value or "")
    if match is None:
        return None
    size = match.group(3)
    return int(match.group(1)), (None if size == "*" else int(size))


def _content_length(response: httpx.Response) -> int | None:
    raw = response.headers.get("content-length")
    return int(raw) if raw is not None and raw.strip().isdigit() else None


def _fetch(
    part: _Part, progress: _Progress, max_retries: int, pacer: RequestPacer | None
) -> Steps[None]:
    """Stream ``part.url`` into ``part.file``, resuming after a broken body."""
    failures = 0
    while True:
        # Identity encoding: byte offsets (Range, Content-Length) then count the bytes written.
        headers = {"Accept": "*/*", "Accept-Encoding": "identity"}
        if part.have:
            headers["Range"] = f"bytes={part.have}-"
        call: Call[Any] = Call(
            "GET",
            urlsplit(part.url).path,
            absolute_url=part.url,
            raw=True,
            stream=True,
            headers=headers,
        )
        if pacer is not None:
            yield from pacer.acquire()
        try:
            response: httpx.Response = yield call
        except AurousError:
            if pacer is not None:
                yield from pacer.observe(None)
            raise
        if pacer is not None:
            yield from pacer.observe(ResponseInfo.from_httpx(response))
        resumed = _parse_content_range(response.headers.get("content-range"))
        if response.status_code == 206 and resumed is not None and resumed[0] <= part.have:
            start, size = resumed
            part.file.truncate(start)
            part.file.seek(start)
            part.have = start
            part.size = size
        else:
            # 200: the whole body again (an image route, or a server that ignores Range).
            part.file.seek(0)
            part.file.truncate()
            part.have = 0
            part.size = _content_length(response)
            if response.status_code == 206:
                # A range we did not ask for: drain it and start over without Range.
                yield ReadChunks(response, lambda chunk: None)
                failures += 1
                if failures > max_retries:
                    raise AurousError(f"unexpected partial response for {urlsplit(part.url).path}")
                continue
        part.content_type = response.headers.get("content-type")

        def sink(chunk: bytes) -> None:
            part.file.write(chunk)
            part.have += len(chunk)
            progress.report(part)

        try:
            yield ReadChunks(response, sink)
        except APIConnectionError:
            failures += 1
            if failures > max_retries:
                raise
            yield Sleep(backoff_delay(failures))
            continue
        if part.size is not None and part.have < part.size:
            # The server closed the body early without a transport error: resume as well.
            failures += 1
            if failures > max_retries:
                raise APIConnectionError(
                    f"GET {urlsplit(part.url).path}: body ended after {part.have} of "
                    f"{part.size} bytes"
                )
            continue
        return


@contextlib.contextmanager
def _temp_parts() -> Iterator[list[_Part]]:
    """The temporary files of one download; all removed unless the block moved them."""
    parts: list[_Part] = []
    try:
        yield parts
    finally:
        for part in parts:
            part.file.close()
            with contextlib.suppress(FileNotFoundError):
                part.temp.unlink()


def _current_umask() -> int:
    # Reading the umask means setting it; restore it at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _commit(parts: list[_Part], overwrite: bool) -> list[Path]:
    placed: list[Path] = []
    try:
        for part in parts:
            assert part.target is not None
            if overwrite:
                os.replace(part.temp, part.target)
            else:
                _place_new(part.temp, part.target)
            placed.append(part.target)
    except BaseException:
        for path in placed:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    return placed


def _place_new(temp: Path, target: Path) -> None:
    """Move ``temp`` to ``target`` unless something appeared there meanwhile."""
    try:
        os.link(temp, target)
    except FileExistsError:
        raise _refuse(target) from None
    except OSError:
        # No hard links on this file system: check, then replace (a tiny race window).
        if target.exists():
            raise _refuse(target) from None
        os.replace(temp, target)
        return
    temp.unlink()


def download_steps(
    target: Generation | str,
    dest: str | os.PathLike[str],
    *,
    overwrite: bool,
    on_progress: OnProgress | None,
    max_retries: int,
    pacer: RequestPacer | None = None,
) -> Steps[list[Path]]:
    """Download every output of ``target`` into ``dest``; return the paths written, in order."""
    raw = os.fspath(dest)
    if not isinstance(raw, str):
        raise TypeError("dest must be a str or os.PathLike[str] path")
    dest_path = Path(raw)
    as_file = _is_file_dest(dest_path, raw)
    # Refuse a clash on an explicit path before any request.
    if as_file and dest_path.exists() and not overwrite:
        raise _refuse(dest_path)
    generation = yield from _fresh_succeeded(target)
    urls = generation.outputs
    if as_file and len(urls) != 1:
        raise ValueError(
            f"generation {generation.id} has {len(urls)} outputs; pass a directory as dest"
        )
    directory = dest_path.parent if as_file else dest_path
    directory.mkdir(parents=True, exist_ok=True)
    stem = _UNSAFE.sub("_", generation.id)
    if not as_file and not overwrite:
        for n in range(len(urls)):
            clash = sorted(directory.glob(f"{stem}-{n}.*"))
            if clash:
                raise _refuse(clash[0])
    progress = _Progress(on_progress, len(urls))
    with _temp_parts() as parts:
        for n, url in enumerate(urls):
            fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{stem}-{n}.", suffix=".part")
            # mkstemp makes private 0o600 files; outputs get the mode any new file would get.
            os.chmod(temp, 0o666 & ~_current_umask())
            part = _Part(url, Path(temp), os.fdopen(fd, "wb"))
            parts.append(part)
            yield from _fetch(part, progress, max_retries, pacer)
            part.file.flush()
            os.fsync(part.file.fileno())
            part.file.close()
            progress.finished_bytes += part.have
            progress.sizes.append(part.size if part.size is not None else part.have)
            name = f"{stem}-{n}.{extension_for(part.content_type, url)}"
            part.target = dest_path if as_file else directory / name
        return _commit(parts, overwrite)
