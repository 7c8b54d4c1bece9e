"""Downloading a generation's outputs to disk: streamed, atomic, resumable.

Every output is streamed into a temporary file next to its destination; only when *all* outputs
are complete are they moved into place (``os.replace``, or a no-clobber hard link when
``overwrite=False``). Any failure — HTTP error, dropped connection, a raising ``on_progress``,
Ctrl-C — removes the temporary files and leaves the destination paths as they were (a file that
``overwrite=True`` was about to replace is put back).

A temporary file is locked while it is written, so one left behind by a killed process (SIGKILL
gives no chance to clean up) is recognised and removed by the next download of that output.

A body that breaks off mid-stream is resumed with ``Range: bytes=<have>-`` (the video route
answers ``206``; the image route ignores ``Range`` and answers ``200``, which restarts the file),
at most ``max_retries`` times per output.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import logging
import mimetypes
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import urlsplit

import httpx

from . import _filelock
from ._call import Call
from ._errors import APIConnectionError, APIResponseValidationError, AurousError
from ._requests import request, retrieve_call
from ._retry import backoff_delay
from ._steps import Blocking, Note, Now, ReadChunks, Sleep, Steps
from ._transport import stream_error
from ._types import RequestOptions
from .types import Generation

__all__ = ["OnProgress", "download_steps", "extension_for"]

logger = logging.getLogger("aurous")

OnProgress = Callable[[int, "int | None"], Any]
"""``on_progress(bytes_done, bytes_total_or_None)``: a plain function, or (on `AsyncClient`) a
coroutine function."""

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


def _output_route(generation: Generation) -> str:
    """The output route of ``generation`` (its downloads are paced as one kind of request)."""
    if generation.kind == "video":
        return "/v1/videos/{generation_id}/output"
    return "/v1/images/{generation_id}/output/{n}"


def _fresh_succeeded(target: Generation | str) -> Steps[Generation]:
    """A succeeded row with its output URLs; otherwise the API's own error (422 / 404)."""
    if isinstance(target, Generation) and target.is_succeeded and target.outputs:
        return target
    if isinstance(target, Generation):
        generation_id = target.id
    elif isinstance(target, str) and target.strip():
        generation_id = target
    else:
        raise TypeError(f"expected a Generation or a generation id, got {target!r:.60}")
    generation = yield from retrieve_call(generation_id, RequestOptions())
    if generation.is_succeeded and generation.outputs:
        return generation
    # Let the API say why there is nothing to download: 422 output_not_available (typed
    # InvalidRequestError) for a row that is in flight or ended without output.
    path = {"generation_id": generation.id, "n": "0"}
    yield from request(
        "GET",
        _output_route(generation),
        None,
        RequestOptions(),
        path=path,
        raw=True,
        headers={"Accept": "*/*"},
    )
    # It finished between the two requests: read the row again.
    generation = yield from retrieve_call(generation_id, RequestOptions())
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
    route: str
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

    def report(self, part: _Part) -> Any:
        """Tell the caller (its callback's result: awaited by the async driver)."""
        if self.callback is not None:
            return self.callback(self.finished_bytes + part.have, self.total(part.size))
        return None


def _parse_content_range(value: str | None) -> tuple[int, int | None] | None:
    match = _CONTENT_RANGE.match(value or "")
    if match is None:
        return None
    size = match.group(3)
    return int(match.group(1)), (None if size == "*" else int(size))


def _content_length(response: httpx.Response) -> int | None:
    raw = response.headers.get("content-length")
    return int(raw) if raw is not None and raw.strip().isdigit() else None


def _range_size(start: int, total: int | None, response: httpx.Response) -> int | None:
    """The full size a 206 leads to; for ``bytes 10-99/*`` (total unknown) the range's own
    length still bounds it, so a range that ends early is not taken for the whole file."""
    if total is not None:
        return total
    length = _content_length(response)
    return None if length is None else start + length


def _fetch(part: _Part, progress: _Progress, max_retries: int) -> Steps[None]:
    """Stream ``part.url`` into ``part.file``, resuming after a broken body.

    A deliberate second retry loop, beside the flow's: the flow retries a request that failed;
    this one resumes a body that broke off after its request succeeded, from the byte reached.
    """
    failures = 0
    while True:
        # Identity encoding: byte offsets (Range, Content-Length) then count the bytes written.
        headers = {"Accept": "*/*", "Accept-Encoding": "identity"}
        if part.have:
            headers["Range"] = f"bytes={part.have}-"
        call: Call[httpx.Response] = Call(
            "GET",
            urlsplit(part.url).path,
            absolute_url=part.url,
            raw=True,
            stream=True,
            headers=headers,
            route=part.route,
        )
        response = yield from call
        resumed = _parse_content_range(response.headers.get("content-range"))
        if response.status_code == 206 and resumed is not None and resumed[0] <= part.have:
            start, size = resumed
            yield Blocking(_rewind, (part.file, start))
            part.have = start
            part.size = _range_size(start, size, response)
        else:
            # 200: the whole body again (an image route, or a server that ignores Range).
            yield Blocking(_rewind, (part.file, 0))
            part.have = 0
            part.size = _content_length(response)
            if response.status_code == 206:
                # A range we did not ask for: drain it and start over without Range.
                yield from _read(ReadChunks(response, _discard))
                failures += 1
                if failures > max_retries:
                    raise AurousError(f"unexpected partial response for {urlsplit(part.url).path}")
                continue
        part.content_type = response.headers.get("content-type")

        def received(length: int) -> Any:
            part.have += length
            return progress.report(part)

        try:
            yield from _read(ReadChunks(response, part.file.write, received))
        except APIConnectionError:
            failures += 1
            if failures > max_retries:
                raise
            yield Sleep(backoff_delay(failures), "backoff")
            continue
        if part.size is not None and part.have > part.size:
            raise APIConnectionError(
                f"GET {urlsplit(part.url).path}: body has {part.have} bytes, more than the "
                f"{part.size} announced"
            )
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


def _read(step: ReadChunks) -> Steps[None]:
    """Perform ``step``; a body that broke off is the SDK's connection error, like a send."""
    try:
        yield step
    except (httpx.TransportError, httpx.DecodingError) as exc:
        raise stream_error(exc, step.response) from exc


def _discard(chunk: bytes) -> None:
    pass


def _rewind(file: IO[bytes], offset: int) -> None:
    file.seek(offset)
    file.truncate(offset)


@contextlib.contextmanager
def _temp_parts() -> Iterator[list[_Part]]:
    """The temporary files of one download; all removed unless the block moved them."""
    parts: list[_Part] = []
    try:
        yield parts
    finally:
        for part in parts:
            # Closing flushes what is buffered, which fails again on a full disk: the
            # temporary file is removed all the same.
            with contextlib.suppress(OSError):
                part.file.close()
            with contextlib.suppress(FileNotFoundError):
                part.temp.unlink()


def _current_umask() -> int:
    # Reading the umask means setting it; restore it at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _commit(parts: list[_Part], overwrite: bool) -> list[Path]:
    """Move every finished temporary file into place, all or nothing."""
    placed: list[tuple[Path, Path | None]] = []  # (target, backup of the file it replaced)
    try:
        for part in parts:
            assert part.target is not None
            if overwrite:
                backup = _set_aside(part.target)
                placed.append((part.target, backup))
                os.replace(part.temp, part.target)
            else:
                _place_new(part.temp, part.target)
                placed.append((part.target, None))
    except BaseException:
        for target, backup in reversed(placed):
            with contextlib.suppress(OSError):
                if backup is not None:
                    os.replace(backup, target)
                else:
                    target.unlink()
        raise
    for _, backup in placed:
        if backup is not None:
            with contextlib.suppress(OSError):
                backup.unlink()
    for part in parts:
        # Closed here, in the caller's thread (a worker's, on AsyncClient), not by _temp_parts
        # on the event loop; the lock goes with it, and the file is fsync'd and in place.
        with contextlib.suppress(OSError):
            part.file.close()
    return [target for target, _ in placed]


def _set_aside(target: Path) -> Path | None:
    """A second name for the file ``target`` holds (if any), to put it back on failure."""
    if not target.is_file():
        return None
    backup = target.with_name(f".{target.name}.{os.getpid()}.bak")
    with contextlib.suppress(FileNotFoundError):
        backup.unlink()
    try:
        os.link(target, backup)
    except OSError:
        shutil.copy2(target, backup)  # no hard links on this file system
    return backup


def _remove_orphans(directory: Path, base: str) -> None:
    """Delete temporary files of this output left by a killed download (nobody holds their lock)."""
    for path in directory.glob(f".{base}.*.part"):
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue
        try:
            if _filelock.try_lock(fd):
                if os.name == "nt":  # pragma: no cover - Windows cannot delete an open file
                    os.close(fd)
                    fd = -1
                with contextlib.suppress(OSError):
                    path.unlink()
        finally:
            if fd >= 0:
                os.close(fd)


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
    name: Callable[[Generation, int], str] | None = None,
) -> Steps[list[Path]]:
    """Download every output of ``target`` into ``dest``; return the paths written, in order.

    In a directory, output ``n`` is named ``<id>-<n>.<ext>``, or ``name(generation, n)`` plus the
    extension (a plain file name the caller has checked: the batch's ``file_name`` templates).
    """
    raw = os.fspath(dest)
    if not isinstance(raw, str):
        raise TypeError("dest must be a str or os.PathLike[str] path")
    dest_path = Path(raw)
    as_file = yield Blocking(_is_file_dest, (dest_path, raw))
    # Refuse a clash on an explicit path before any request.
    if as_file and (yield Blocking(dest_path.exists)) and not overwrite:
        raise _refuse(dest_path)
    generation = yield from _fresh_succeeded(target)
    urls = generation.outputs
    for url in urls:
        _check_output_url(generation, url)
    if as_file and len(urls) != 1:
        raise ValueError(
            f"generation {generation.id} has {len(urls)} outputs; pass a directory as dest"
        )
    directory = dest_path.parent if as_file else dest_path
    stem = _UNSAFE.sub("_", generation.id)
    bases = [name(generation, n) if name else f"{stem}-{n}" for n in range(len(urls))]
    yield Blocking(_prepare_directory, (directory, bases, not as_file and not overwrite))
    route = f"GET {_output_route(generation)}"
    progress = _Progress(on_progress, len(urls))
    clock_start: float = yield Now()
    with _temp_parts() as parts:
        for n, url in enumerate(urls):
            temp, file = yield Blocking(_open_part, (directory, bases[n]), _drop_part)
            part = _Part(url, route, temp, file)
            parts.append(part)
            yield from _fetch(part, progress, max_retries)
            yield Blocking(_flush, (part.file,))
            progress.finished_bytes += part.have
            progress.sizes.append(part.size if part.size is not None else part.have)
            file_name = f"{bases[n]}.{extension_for(part.content_type, url)}"
            part.target = dest_path if as_file else directory / file_name
        paths: list[Path] = yield Blocking(_commit, (parts, overwrite))
        parts.clear()  # moved into place and closed: nothing left for _temp_parts to remove
    elapsed = (yield Now()) - clock_start
    if logger.isEnabledFor(logging.INFO):
        logger.info(
            "downloaded %d bytes of %s to %d file(s) in %.2fs",
            progress.finished_bytes,
            generation.id,
            len(paths),
            elapsed,
            extra={
                "generation_id": generation.id,
                "download_bytes": progress.finished_bytes,
                "download_seconds": elapsed,
                "files": len(paths),
            },
        )
    yield Note(
        "download",
        {
            "generation_id": generation.id,
            "bytes": progress.finished_bytes,
            "seconds": elapsed,
            "files": len(paths),
        },
    )
    return paths


def _check_output_url(generation: Generation, url: str) -> None:
    """An output URL the SDK can fetch, or the answer it came in is unusable."""
    try:
        scheme = httpx.URL(url).scheme
    except (httpx.InvalidURL, ValueError, TypeError):
        scheme = ""
    if scheme not in ("http", "https"):
        info = generation._response
        raise APIResponseValidationError(
            f"generation {generation.id} has an output URL that cannot be fetched: "
            f"{url.split('?', 1)[0][:100]!r}",
            response=None,
            request_id=info.request_id if info is not None else None,
        )


def _prepare_directory(directory: Path, bases: list[str], refuse_clash: bool) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    if refuse_clash:
        for base in bases:
            clash = sorted(directory.glob(f"{base}.*"))
            if clash:
                raise _refuse(clash[0])


def _open_part(directory: Path, base: str) -> tuple[Path, IO[bytes]]:
    """A new temporary file for output ``base``, locked while it is written (orphans of a
    killed download removed first)."""
    _remove_orphans(directory, base)
    fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{base}.", suffix=".part")
    try:
        _filelock.try_lock(fd)  # held until the file is closed: marks it as being written
        # mkstemp makes private 0o600 files; outputs get the mode any new file would get.
        os.chmod(temp, 0o666 & ~_current_umask())
        return Path(temp), os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _drop_part(opened: tuple[Path, IO[bytes]]) -> None:
    """Close and remove a temporary file opened for a download that was cancelled meanwhile."""
    temp, file = opened
    with contextlib.suppress(OSError):
        file.close()
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()


def _flush(file: IO[bytes]) -> None:
    file.flush()
    os.fsync(file.fileno())
    if os.name == "nt":  # pragma: no cover - Windows cannot move an open file
        file.close()
