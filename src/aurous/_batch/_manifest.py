"""The batch manifest: a JSON Lines journal that makes a batch resumable.

Line 1 is a header. Then, per item, a ``start`` record holding its idempotency key — written,
flushed and fsync'd *before* the create request is sent — and later a ``finish`` record with the
outcome (the generation as the API returned it, or the error, and the downloaded paths). A run
that dies at any moment leaves a valid journal; a torn last line (power loss mid-write) is
dropped on the next open. Items are matched by index and by a hash of their parameters, so a
changed request list is detected instead of silently mixed up.

A batch with ``max_credits`` also records each item's estimated ``price`` in its start record,
so a later run counts what an unanswered create may have cost; an item the budget or the team's
balance kept from starting gets a finish record marked ``not_started`` (and no generation), so
running the batch again starts it.

A manifest is owned by one run at a time: two runs on one manifest would send every item twice
(each with its own key). The owner holds an OS lock on ``<manifest>.lock``, which records its
process id for the error the other run gets; the OS drops the lock when the owner exits or is
killed, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import socket
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from .. import _filelock
from .._errors import AurousError
from ..types import Generation
from ._pricing import credits_text

__all__ = ["Entry", "Manifest", "request_hash"]

_FORMAT = "aurous.batch"
_VERSION = 1
_FAILED_GENERATION = "GenerationFailedError"


def request_hash(request: Mapping[str, Any]) -> str:
    """A stable digest of one request's parameters (key order does not matter)."""
    try:
        text = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"batch request parameters must be JSON values: {exc}") from exc
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclasses.dataclass
class Entry:
    """What the manifest knows about one item."""

    index: int
    hash: str
    idempotency_key: str
    generation: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    paths: list[str] = dataclasses.field(default_factory=list)
    started: bool = False
    """A ``start`` record exists: the create may have been sent (with ``idempotency_key``)."""
    price: Decimal | None = None
    """The estimated price recorded with the start (batches with ``max_credits``)."""

    def parsed_generation(self) -> Generation | None:
        return Generation.model_validate(self.generation) if self.generation else None

    @property
    def finished(self) -> bool:
        """True when the generation reached a terminal status (nothing left to ask the API)."""
        generation = self.parsed_generation()
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

    def __init__(self, path: Path, entries: dict[int, Entry], file: IO[str], lock: int) -> None:
        self.pending: list[str] = []
        """Records written by `flush` (the engine has it performed before it goes on)."""
        self._durable = False
        self.path = path
        self.entries = entries
        self._file = file
        self._lock = lock

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Manifest:
        """Lock ``path``, read it (created when missing) and open it for appending."""
        target = Path(os.fspath(path))
        target.parent.mkdir(parents=True, exist_ok=True)
        lock = _take_lock(target)
        try:
            return cls._open_locked(target, lock)
        except BaseException:
            os.close(lock)
            raise

    @classmethod
    def _open_locked(cls, target: Path, lock: int) -> Manifest:
        entries: dict[int, Entry] = {}
        fresh = True
        if target.exists():
            raw = target.read_bytes()
            complete = raw[: raw.rfind(b"\n") + 1]
            if len(complete) != len(raw):
                # A torn final line from a crash mid-write: drop it before appending.
                with target.open("r+b") as handle:
                    handle.truncate(len(complete))
            lines = complete.decode("utf-8").splitlines()
            if lines:
                fresh = False
                cls._read_header(target, lines[0])
                for number, line in enumerate(lines[1:], start=2):
                    cls._apply(target, number, line, entries)
        file = target.open("a", encoding="utf-8")
        manifest = cls(target, entries, file, lock)
        if fresh:
            manifest._write({"format": _FORMAT, "version": _VERSION})
        return manifest

    @staticmethod
    def _read_header(path: Path, line: str) -> None:
        try:
            header = json.loads(line)
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("format") != _FORMAT:
            raise ValueError(f"{path} is not an aurous batch manifest")
        if header.get("version") != _VERSION:
            raise ValueError(f"{path}: unsupported manifest version {header.get('version')!r}")

    @staticmethod
    def _apply(path: Path, number: int, line: str, entries: dict[int, Entry]) -> None:
        try:
            record = json.loads(line)
            event, index = record["event"], int(record["index"])
            digest, key = str(record["hash"]), str(record["idempotency_key"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}, line {number}: not a valid manifest record") from exc
        entry = entries.get(index)
        if entry is None or entry.hash != digest:
            entry = entries[index] = Entry(index, digest, key)
        entry.idempotency_key = key
        if event == "start":
            entry.started = True
            entry.price = _price(record.get("price"))
        elif event == "finish":
            entry.generation = record.get("generation")
            entry.error = record.get("error")
            entry.paths = [str(p) for p in record.get("paths") or []]

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
        entry.generation = generation.to_dict() if generation is not None else None
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
            "generation": entry.generation,
        }
        if not_started:
            record["not_started"] = True
        self._write(record, durable=not not_started)

    def _write(self, record: dict[str, Any], *, durable: bool = True) -> None:
        # Queued, not written: the engine runs without I/O and has `flush` performed (in a
        # worker thread on the async client) before it sends the create the record is about.
        self.pending.append(json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n")
        self._durable = self._durable or durable

    def flush(self) -> None:
        """Write the queued records; ``fsync`` if any of them must be durable."""
        lines, self.pending = self.pending, []
        self._file.write("".join(lines))
        if self._durable:
            self._durable = False
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        """Write what is queued, release the lock. Safe to call twice."""
        if self._file.closed:
            return
        with contextlib.suppress(OSError):
            if self.pending or self._durable:
                self.flush()
        with contextlib.suppress(OSError):
            self._file.close()
        if self._lock >= 0:
            with contextlib.suppress(OSError):
                os.close(self._lock)  # releases the lock
            self._lock = -1


def _price(raw: Any) -> Decimal | None:
    if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
        return None
    try:
        price = Decimal(str(raw))
    except InvalidOperation:
        return None
    return price if price.is_finite() else None


def _take_lock(manifest: Path) -> int:
    """Lock ``<manifest>.lock`` for this run, or raise naming the run that holds it."""
    path = manifest.with_name(manifest.name + ".lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    if not _filelock.try_lock(fd):
        owner = os.read(fd, 200).decode("utf-8", "replace").strip() or "another process"
        os.close(fd)
        raise AurousError(
            f"the batch manifest {manifest} is in use by {owner}; wait for that run to finish "
            "(or stop it) before running this batch again — two runs on one manifest would "
            "generate every item twice"
        )
    os.ftruncate(fd, 0)
    os.write(fd, f"process {os.getpid()} on {socket.gethostname()}".encode())
    return fd
