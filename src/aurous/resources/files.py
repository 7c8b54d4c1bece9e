"""``client.files``: uploaded reference and frame images."""

from __future__ import annotations

import json
import mimetypes
import os
from collections.abc import Mapping
from typing import IO, Any, TypeAlias

from typing_extensions import Unpack

from .._call import FilePart
from .._operations import ModeT, Namespace, operation
from .._requests import request
from .._steps import Steps
from .._types import RequestOptions
from ..types import File, FileDeleted
from ..types.literals import FilePurpose

__all__ = ["FileContent", "FileInput", "Files", "read_file_input", "sniff_image_type"]

FileContent: TypeAlias = bytes | IO[bytes]
"""Raw bytes, or a binary file object (anything with ``.read()`` returning bytes)."""

FileInput: TypeAlias = (
    str
    | os.PathLike[str]
    | bytes
    | IO[bytes]
    | tuple[str, FileContent]
    | tuple[str, FileContent, str | None]
)
"""An upload: a path, bytes, a binary file object, or ``(filename, content[, mime])``."""

_DEFAULT_NAME = "upload"
_OCTET_STREAM = "application/octet-stream"
_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


def sniff_image_type(content: bytes) -> str | None:
    """The content type of a PNG, JPEG or WebP image from its first bytes; else None."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(content) >= 12 and content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def _read_content(content: Any, param: str) -> bytes:
    if isinstance(content, (bytes, bytearray, memoryview)):
        return bytes(content)
    read = getattr(content, "read", None)
    if callable(read):
        data = read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"{param} must be opened in binary mode: read() returned {type(data).__name__}"
            )
        return bytes(data)
    raise TypeError(
        f"{param} must be a path, bytes, a binary file object or a (filename, content, mime) "
        f"tuple, not {type(content).__name__}"
    )


def _guess_mime(filename: str, content: bytes) -> str:
    # The bytes are what the server goes by, so they win over the file name.
    sniffed = sniff_image_type(content)
    if sniffed is not None:
        return sniffed
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or _OCTET_STREAM


def read_file_input(file: Any, param: str = "file") -> FilePart:
    """Normalise any accepted file input into ``(filename, bytes, content type)``.

    A path is read from disk; a file object is read to its end (it is not closed); when no content
    type is given it is guessed from the bytes (PNG/JPEG/WebP), else from the file name.
    """
    if isinstance(file, tuple):
        if len(file) not in (2, 3):
            raise TypeError(
                f"{param} as a tuple must be (filename, content) or (filename, content, mime)"
            )
        filename, content = file[0], file[1]
        mime = file[2] if len(file) == 3 else None
        if not isinstance(filename, str):
            raise TypeError(f"{param}: the filename must be a str, not {type(filename).__name__}")
        if mime is not None and not isinstance(mime, str):
            raise TypeError(f"{param}: the mime type must be a str, not {type(mime).__name__}")
        data = _read_content(content, param)
        return filename, data, mime or _guess_mime(filename, data)
    if isinstance(file, (str, os.PathLike)):
        path = os.fspath(file)
        if not isinstance(path, str):
            raise TypeError(f"{param} as a path must be a str path, not bytes")
        with open(path, "rb") as handle:
            data = handle.read()
        filename = os.path.basename(path)
        return filename, data, _guess_mime(filename, data)
    data = _read_content(file, param)
    name = getattr(file, "name", None)
    if isinstance(name, str) and name:
        filename = os.path.basename(name)
    else:
        filename = _DEFAULT_NAME + _EXTENSIONS.get(sniff_image_type(data) or "", "")
    return filename, data, _guess_mime(filename, data)


def _form_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


class Files(Namespace[ModeT]):
    """Uploaded images, usable for 24 hours by id (``file_…``): ``client.files``."""

    _path = "files"

    @operation
    def create(
        self,
        *,
        file: FileInput,
        purpose: FilePurpose,
        metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Steps[File]:
        """Upload a PNG, JPEG or WebP image (at most 10 MB and 4096 px per side).

        ``file`` is a path, bytes, a binary file object, or a ``(filename, content, mime)`` tuple;
        the content type is detected from the bytes when not given. Use the returned id in
        ``reference_image_urls``, ``first_frame_url`` or ``last_frame_url``. An
        ``Idempotency-Key`` is generated once per call and reused on every retry.

        >>> f = client.files.create(file=Path("ref.png"), purpose="reference")

        Args:
            file: A path, bytes, a binary file object, or a ``(filename, content, mime)`` tuple.
            purpose: What the file is for: ``"reference"``, ``"first_frame"`` or ``"last_frame"``.
            metadata: Up to 16 string keys and values of your own, returned as given.
            idempotency_key: Reuse a key to resume a call safely; by default a UUID4 is generated
                per call and reused on its retries.
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        part = read_file_input(file)
        data: dict[str, str] = {"purpose": purpose}
        if metadata is not None:
            data["metadata"] = json.dumps(dict(metadata), separators=(",", ":"))
        extra = options.get("extra_body")
        if extra:
            # Multipart requests carry extra fields as form parts, not JSON.
            data.update({key: _form_value(value) for key, value in extra.items()})
        return (
            yield from request(
                "POST",
                "/v1/files",
                File,
                options,
                data=data,
                files={"file": part},
                idempotent=True,
                idempotency_key=idempotency_key,
            )
        )

    @operation
    def retrieve(self, file_id: str, **options: Unpack[RequestOptions]) -> Steps[File]:
        """Fetch a file's metadata with a freshly signed ``url`` (valid about an hour).

        Args:
            file_id: The file's id (``file_…``).
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        path = {"file_id": file_id}
        return (yield from request("GET", "/v1/files/{file_id}", File, options, path=path))

    @operation
    def delete(self, file_id: str, **options: Unpack[RequestOptions]) -> Steps[FileDeleted]:
        """Delete a file now. ``deleted`` is False when nothing matched (unknown or expired id).

        Args:
            file_id: The file's id (``file_…``).
            timeout: Override the client's timeout for this call (seconds, or an ``httpx.Timeout``).
            extra_headers: Additional HTTP headers to send.
            extra_query: Additional query parameters to send.
            extra_body: Additional JSON body fields to send (merged over the method's own fields).
            max_retries: Override the client's ``max_retries`` for this call.
        """
        path = {"file_id": file_id}
        return (
            yield from request("DELETE", "/v1/files/{file_id}", FileDeleted, options, path=path)
        )
