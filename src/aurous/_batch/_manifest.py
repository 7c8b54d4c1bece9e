"""The batch manifest: a JSON Lines journal that makes a batch resumable.

Line 1 is a header naming the format, its version and the media (``image`` or ``video``) of the
batch that wrote it. Then, per item, a ``start`` record holding its idempotency key — written,
flushed and fsync'd *before* the create request is sent — and later a ``finish`` record with the
outcome (the generation as the API returned it, or the error, and the downloaded paths). A run
that dies at any moment leaves a valid journal; a torn last line (power loss mid-write) is
dropped on the next open. Records are written in ASCII (JSON escapes for the rest), so any text
an answer carries — a lone surrogate, a line separator — is written and read back as it was.

Items are matched by index and by a hash of the media and of every parameter of the request
(`item_hash`), so a changed request list, or a manifest of the other media, is detected instead
of silently mixed up. Version 1 manifests (hashes without the media, no media in the header)
are still read and resumed with their own hashes; the media of their batch is told by the
generations they record.

Every record read back is checked: a line that is not a record this module writes — bad
UTF-8, not JSON, a field of the wrong type, a negative or non-finite price, a generation the
model refuses — is a ValueError naming the file and the line, before anything is sent.

A batch with ``max_credits`` also records each item's estimated ``price`` in its start record,
so a later run counts what an unanswered create may have cost; an item the budget or the team's
balance kept from starting gets a finish record marked ``not_started`` (and no generation), so
running the batch again starts it.

A manifest is owned by one run at a time: two runs on one manifest would send every item twice
(each with its own key). The owner holds an OS lock on the manifest file itself, so every name
that reaches the file — a symlink, a hard link, a relative path — meets the same lock. It also
locks ``<real path>.lock`` beside it, which records its process id for the error another run
gets and refuses a run that finds the manifest deleted and recreated under a live owner;
deleting that file changes nothing for the lock on the manifest. The OS drops both locks when
the owner exits or is killed, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import socket
import threading
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pydantic

from .. import _filelock
from .._errors import AurousError
from .._validation import check_idempotency_key
from ..types import Generation
from ._pricing import credits_text
from ._requests import Media

__all__ = ["Entry", "Manifest", "item_hash", "request_hash"]

_FORMAT = "aurous.batch"
_VERSION = 2
"""2: the media is in the header and in every item's hash. 1: neither (images and videos)."""
_FAILED_GENERATION = "GenerationFailedError"
_EVENTS = frozenset({"start", "finish"})
_OWNER_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0)
_OPEN_FLAGS = _OWNER_FLAGS | os.O_APPEND
_OWNER_BYTES = 200
_NAMESPACES = {"image": "images", "video": "videos"}
_PRICE_DIGITS = 100
_PRICE_MIN_EXPONENT, _PRICE_MAX_EXPONENT = -340, 308


def _digest(value: Any) -> str:
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        raw = text.encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise TypeError(f"batch request parameters must be JSON values: {exc}") from exc
    return hashlib.sha256(raw).hexdigest()[:32]


def request_hash(request: Mapping[str, Any]) -> str:
    """A stable digest of one request's parameters (key order does not matter).

    The item hash of version 1 manifests, which left out the media; `item_hash` replaces it.
    """
    return _digest(request)


def item_hash(media: Media, request: Mapping[str, Any]) -> str:
    """What defines an item: its media and every parameter of its request (order aside)."""
    return _digest({"media": media, "request": request})


@dataclasses.dataclass
class Entry:
    """What the manifest knows about one item."""

    index: int
    hash: str
    idempotency_key: str
    generation: Generation | None = None
    """The generation of the finish record (checked by the model when it was read)."""
    error: dict[str, Any] | None = None
    paths: list[str] = dataclasses.field(default_factory=list)
    started: bool = False
    """A ``start`` record exists: the create may have been sent (with ``idempotency_key``)."""
    price: Decimal | None = None
    """The estimated price recorded with the start (batches with ``max_credits``)."""

    @property
    def finished(self) -> bool:
        """True when the generation reached a terminal status (nothing left to ask the API)."""
        generation = self.generation
        if generation is None or not generation.is_terminal:
            return False
        return self.error is None or self.error.get("class") == _FAILED_GENERATION


def _error_record(error: BaseException) -> dict[str, Any]:
    record: dict[str, Any] = {"class": type(error).__name__, "message": str(error)}
    for name in ("status_code", "code", "request_id"):
        value = getattr(error, name, None)
        if value is not None:
            record[name] = value
    return record


class Manifest:
    """An open manifest file: what earlier runs recorded, and the journal of this run."""

    def __init__(
        self,
        path: Path,
        media: Media,
        version: int,
        entries: dict[int, Entry],
        file: io.FileIO,
        owner: io.FileIO,
    ) -> None:
        self.pending: list[str] = []
        """Records written by `flush` (the engine has it performed before it goes on)."""
        self._durable = False
        self.path = path
        self.media: Media = media
        self.version = version
        self.entries = entries
        # File objects, not bare descriptors: a manifest dropped without `close` (a run
        # cancelled while this one was being opened in a worker thread) still releases its
        # locks when it is collected, instead of locking this process out of its own manifest.
        self._file = file
        self._owner = owner
        # `close` after a cancelled run may meet a `flush` still running in a worker thread.
        self._io = threading.Lock()

    @classmethod
    def open(cls, path: str | os.PathLike[str], media: Media) -> Manifest:
        """Lock ``path``, read it (created when missing) and open it for appending.

        ValueError when it is not a manifest, has a bad record, or belongs to a batch of the
        other media; `AurousError` when another run holds it; OSError when it cannot be written.
        """
        target = Path(os.fspath(path))
        target.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as undo:
            file = io.FileIO(os.open(target, _OPEN_FLAGS, 0o666), "r+")
            undo.callback(file.close)
            if not _filelock.try_lock(file.fileno()):
                raise _in_use(target, _owner_of(_owner_path(target)))
            owner = _claim_owner(target)
            undo.callback(owner.close)
            manifest = cls._read(target, media, file, owner)
            undo.pop_all()
        return manifest

    @classmethod
    def _read(cls, target: Path, media: Media, file: io.FileIO, owner: io.FileIO) -> Manifest:
        raw = _read_all(file)
        complete = raw[: raw.rfind(b"\n") + 1]
        if len(complete) != len(raw):
            # A torn final line from a crash mid-write: drop it before appending.
            os.ftruncate(file.fileno(), len(complete))
        lines = complete.split(b"\n")[:-1]
        entries: dict[int, Entry] = {}
        if not lines:
            manifest = cls(target, media, _VERSION, entries, file, owner)
            manifest._write({"format": _FORMAT, "version": _VERSION, "media": media})
            return manifest
        version, recorded = _read_header(target, lines[0])
        if recorded is not None and recorded != media:
            raise _other_media(target, recorded, media)
        for number, line in enumerate(lines[1:], start=2):
            _apply(target, number, line, entries)
        for entry in entries.values():
            generation = entry.generation
            if generation is not None and generation.kind not in (None, media):
                raise _other_media(target, generation.kind, media)
        return cls(target, media, version, entries, file, owner)

    def digest(self, request: Mapping[str, Any]) -> str:
        """The hash of ``request`` as this manifest records items (TypeError: not JSON)."""
        return request_hash(request) if self.version == 1 else item_hash(self.media, request)

    def check(self, index: int, digest: str) -> Entry | None:
        """The entry of item ``index``; ValueError when it was recorded for other parameters."""
        entry = self.entries.get(index)
        if entry is not None and entry.hash != digest:
            raise ValueError(
                f"batch request #{index} differs from the one recorded in {self.path}: the "
                "request list changed since this manifest was written. Restore the original "
                "list, or use a new manifest file for a new batch."
            )
        return entry

    def check_length(self, count: int) -> None:
        """ValueError when the manifest holds items beyond a request list of ``count`` items."""
        beyond = [index for index in self.entries if index >= count]
        if beyond:
            raise ValueError(
                f"{self.path} records {max(beyond) + 1} or more batch requests but the request "
                f"list has {count}: the list changed since this manifest was written. Restore "
                "the original list, or use a new manifest file for a new batch."
            )

    def record_start(self, index: int, digest: str, key: str, price: Decimal | None = None) -> None:
        """Durably record an item's idempotency key; call before sending its create.

        ``price`` (the item's estimated price, for a budget) lets a later run count what this
        create may have cost even if its answer was never recorded.
        """
        self.entries[index] = Entry(index, digest, key, started=True, price=price)
        record: dict[str, Any] = {
            "event": "start",
            "index": index,
            "hash": digest,
            "idempotency_key": key,
        }
        if price is not None:
            record["price"] = credits_text(price)
        self._write(record)

    def record_finish(
        self,
        index: int,
        digest: str,
        key: str,
        generation: Generation | None,
        error: AurousError | None,
        paths: list[Path],
        *,
        not_started: bool = False,
    ) -> None:
        """Record an item's outcome: durably, or for an item not started, at the next sync.

        A lost not-started record costs nothing (an item without a finish record runs again);
        a batch stopped with 49,000 items left would otherwise spend minutes in fsync.
        """
        entry = self.entries.setdefault(index, Entry(index, digest, key))
        entry.generation = generation
        entry.error = _error_record(error) if error is not None else None
        entry.paths = [str(p) for p in paths]
        record: dict[str, Any] = {
            "event": "finish",
            "index": index,
            "hash": digest,
            "idempotency_key": key,
            "generation_id": generation.id if generation is not None else None,
            "status": generation.status if generation is not None else None,
            "error": entry.error,
            "paths": entry.paths,
            "generation": generation.to_dict() if generation is not None else None,
        }
        if not_started:
            record["not_started"] = True
        self._write(record, durable=not not_started)

    def _write(self, record: dict[str, Any], *, durable: bool = True) -> None:
        # Queued, not written: the engine runs without I/O and has `flush` performed (in a
        # worker thread on the async client) before it sends the create the record is about.
        # ASCII: a lone surrogate from an answer cannot be encoded as UTF-8, and a raw U+2028
        # would be a line break to many readers; escaped, both read back exactly.
        self.pending.append(json.dumps(record, separators=(",", ":"), ensure_ascii=True) + "\n")
        self._durable = self._durable or durable

    def flush(self) -> None:
        """Write the queued records; ``fsync`` if any of them must be durable."""
        with self._io:
            lines, self.pending = self.pending, []
            if self._file.closed:
                return
            try:
                _write_all(self._file, "".join(lines).encode("ascii"))
                if self._durable:
                    self._durable = False
                    os.fsync(self._file.fileno())
            except OSError as exc:
                raise _named(exc, self.path, "writing the batch manifest") from exc

    def close(self) -> None:
        """Write what is queued, release the locks. Safe to call twice."""
        if self._file.closed:
            return
        with contextlib.suppress(OSError):
            if self.pending or self._durable:
                self.flush()
        with self._io:
            for file in (self._file, self._owner):
                with contextlib.suppress(OSError):
                    file.close()  # releases its lock


# ---- reading records -------------------------------------------------------------------------


def _bad(path: Path, number: int, why: str) -> ValueError:
    return ValueError(f"{path}, line {number}: not a valid manifest record ({why})")


def _read_header(path: Path, line: bytes) -> tuple[int, Media | None]:
    """The header's version, and its media (None: a version 1 manifest, which has none)."""
    try:
        header = json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError):
        header = None
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise ValueError(f"{path} is not an aurous batch manifest (line 1 is not its header)")
    version = header.get("version")
    if version == 1 and type(version) is int:
        return 1, None
    if version != _VERSION or type(version) is not int:
        raise ValueError(f"{path}: unsupported manifest version {version!r}")
    media = header.get("media")
    if media not in _NAMESPACES:
        raise ValueError(f"{path}, line 1: the header names no media ('image' or 'video')")
    return _VERSION, media


def _apply(path: Path, number: int, line: bytes, entries: dict[int, Entry]) -> None:
    """Check one record and apply it to ``entries``; ValueError naming the line if it is bad."""
    record = _record(path, number, line)
    index, digest, key = record["index"], record["hash"], record["idempotency_key"]
    entry = entries.get(index)
    if entry is None or entry.hash != digest:
        entry = entries[index] = Entry(index, digest, key)
    entry.idempotency_key = key
    if record["event"] == "start":
        entry.started = True
        entry.price = _price(path, number, record.get("price"))
        return
    generation = record.get("generation")
    error = record.get("error")
    paths = record.get("paths")
    if generation is not None and not isinstance(generation, dict):
        raise _bad(path, number, "generation is not an object")
    if error is not None and not (isinstance(error, dict) and isinstance(error.get("class"), str)):
        raise _bad(path, number, "error is not an object with a class")
    if paths is not None and not (
        isinstance(paths, list) and all(isinstance(p, str) for p in paths)
    ):
        raise _bad(path, number, "paths is not a list of strings")
    parsed = None
    if generation:
        try:
            parsed = Generation.model_validate(generation)
        except (pydantic.ValidationError, TypeError, ValueError, RecursionError) as exc:
            raise _bad(path, number, f"the generation cannot be read: {_first(exc)}") from exc
    entry.generation = parsed
    entry.error = error
    entry.paths = list(paths or [])


def _record(path: Path, number: int, line: bytes) -> dict[str, Any]:
    """Line ``number`` as a record whose event, index, hash and key are of the right types."""
    try:
        record = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _bad(path, number, "not UTF-8") from exc
    except (ValueError, RecursionError) as exc:
        raise _bad(path, number, "not JSON") from exc
    if not isinstance(record, dict):
        raise _bad(path, number, "not a JSON object")
    event = record.get("event")
    if not isinstance(event, str) or event not in _EVENTS:
        raise _bad(path, number, f"unknown event {event!r:.40}")
    index = record.get("index")
    if type(index) is not int or index < 0:
        raise _bad(path, number, "index is not an integer >= 0")
    if not isinstance(record.get("hash"), str):
        raise _bad(path, number, "hash is not a string")
    try:
        check_idempotency_key("idempotency_key", record.get("idempotency_key"))
    except (TypeError, ValueError) as exc:
        raise _bad(path, number, str(exc)) from exc
    return record


def _first(exc: BaseException) -> str:
    if isinstance(exc, pydantic.ValidationError) and exc.error_count():
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "generation"
        return f"{where}: {first['msg']}"
    return type(exc).__name__


def _price(path: Path, number: int, raw: Any) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
        try:
            price = Decimal(str(raw))
        except (InvalidOperation, ValueError):
            price = None
        if price is not None and _is_amount(price):
            return price
    raise _bad(path, number, f"price {raw!r:.40} is not a number of credits >= 0")


def _is_amount(price: Decimal) -> bool:
    # Finite, not negative, and of a size a price this module wrote can have (the API's amounts
    # are floats): the budget adds amounts up exactly, which a 1e999999 would make enormous.
    if not price.is_finite() or price < 0 or len(price.as_tuple().digits) > _PRICE_DIGITS:
        return False
    return price == 0 or _PRICE_MIN_EXPONENT <= price.adjusted() <= _PRICE_MAX_EXPONENT


def _other_media(path: Path, recorded: str, media: Media) -> ValueError:
    return ValueError(
        f"{path} is the manifest of a {recorded} batch ({_NAMESPACES.get(recorded, recorded)}"
        f".batch): {_NAMESPACES[media]}.batch cannot resume it. Use a new manifest file for "
        "this batch."
    )


# ---- files and locks -------------------------------------------------------------------------


def _read_all(file: io.FileIO) -> bytes:
    file.seek(0)
    chunks = []
    while chunk := file.read(1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_all(file: io.FileIO, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(file.fileno(), view) :]


def _named(exc: OSError, path: Path, doing: str) -> OSError:
    """``exc`` naming ``path`` and what was being done (a bare ``os.write`` error names neither)."""
    if exc.errno is None:
        return OSError(f"{doing} {path} failed: {exc}")
    return OSError(exc.errno, f"{exc.strerror or exc} ({doing})", str(path))


def _owner_path(manifest: Path) -> Path:
    # Next to the file a symlink leads to, so runs on a symlink and on its target share it.
    real = Path(os.path.realpath(manifest))
    return real.with_name(real.name + ".lock")


def _claim_owner(manifest: Path) -> io.FileIO:
    """Lock and fill in the owner record of ``manifest`` (whose own lock this run holds)."""
    path = _owner_path(manifest)
    owner = io.FileIO(os.open(path, _OWNER_FLAGS, 0o666), "r+")
    try:
        if not _filelock.try_lock(owner.fileno()):
            # This name's file was locked by another run: the manifest was deleted and created
            # again while that run still writes the old one.
            raise _in_use(manifest, _owner_of(path))
        try:
            os.ftruncate(owner.fileno(), 0)
            _write_all(owner, f"process {os.getpid()} on {socket.gethostname()}".encode())
        except OSError as exc:
            raise _named(exc, path, "writing the owner record of a batch manifest") from exc
    except BaseException:
        owner.close()
        raise
    return owner


def _owner_of(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            text = handle.read(_OWNER_BYTES).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return text


def _in_use(manifest: Path, owner: str) -> AurousError:
    return AurousError(
        f"the batch manifest {manifest} is in use by {owner or 'another process'}; wait for "
        "that run to finish (or stop it) before running this batch again — two runs on one "
        "manifest would generate every item twice"
    )
