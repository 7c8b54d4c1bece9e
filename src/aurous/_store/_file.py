"""A pacing store in a directory, for the processes of one host (``pacing="file:///run/aurous"``).

No server to run: gunicorn or uvicorn workers, a Celery host. Each key is a small file (its
version on the first line, then the state as JSON); an operation locks the file (``flock``),
reads it, and writes it back — microseconds, and no ``fsync``: pacing state is worth nothing
after a reboot. Wake-ups are datagrams: each process listens on a Unix socket in
``<dir>/<team>.wake/``, and a process that frees a slot sends one to each (a socket whose process
is gone is removed by the first sender that finds it refused).

Why files and not SQLite: measured on this project's machines (``benchmarks/store_ops.py``), one
operation costs the same either way (about 26 µs with ``flock`` and ``pread``/``pwrite``, 28 µs
for a SQLite transaction in WAL mode without ``fsync``: reading and writing the JSON dominates).
But a SQLite write locks the whole database, so the gate and every bucket would queue behind one
lock, while a file per key lets them go side by side; and SQLite cannot wake another process
either, so the sockets would be needed anyway.

A lock that cannot be taken within 50 ms counts as the store being unavailable: pacing falls
back to the process (and the file store is tried again a little later).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .._filelock import try_lock, unlock
from ._shared import WAKE, SharedStore, StoreUnavailable

__all__ = ["FileBackend", "open_shared"]

_LOCK_TIMEOUT = 0.05
_MAX_SOCKET_PATH = 100
"""Unix socket paths are limited to about 108 bytes."""


def directory_of(url: str) -> Path:
    """``file:///run/aurous`` → ``/run/aurous`` (``file://relative/dir`` is refused)."""
    path = url.partition("://")[2]
    if not path.startswith("/"):
        raise ValueError(
            f"a file pacing store needs an absolute directory: file:///path/to/dir, got {url!r}"
        )
    return Path(path)


class FileBackend:
    """A directory as the holder of a team's pacing state (one host)."""

    def __init__(self, directory: Path, team: str) -> None:
        self.directory = directory
        self.team = team
        self.description = f"file://{directory}"
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"cannot use {directory} as a pacing store: {exc}") from exc
        wake = directory / f"{team[:12]}.wake"
        if len(str(wake)) + 20 > _MAX_SOCKET_PATH:
            # Too deep for a socket path: a short, fixed place that every process computes alike.
            digest = hashlib.sha256(str(wake).encode()).hexdigest()[:16]
            wake = Path("/tmp") / f"aurous-{digest}.wake"
        self.wake = wake
        self._fds: dict[str, int] = {}
        self._lock = threading.Lock()

    def _fd(self, key: str) -> int:
        fd = self._fds.get(key)
        if fd is None:
            name = hashlib.sha256(key.encode()).hexdigest()[:20]
            path = self.directory / f"{self.team[:12]}-{name}.state"
            with self._lock:
                fd = self._fds.get(key)
                if fd is None:
                    try:
                        fd = self._fds[key] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
                    except OSError as exc:
                        raise StoreUnavailable(f"cannot open {path}: {exc}") from exc
        return fd

    def _locked(self, fd: int) -> None:
        deadline = time.monotonic() + _LOCK_TIMEOUT
        while not try_lock(fd):
            if time.monotonic() > deadline:
                raise StoreUnavailable("its lock was held for more than 50 ms")
            time.sleep(0.0002)

    def cas(
        self, key: str, expected: str | None, version: str, blob: str | None, wake: bool
    ) -> tuple[bool, str | None, str | None]:
        fd = self._fd(key)
        try:
            self._locked(fd)
            try:
                data = os.pread(fd, max(4096, os.fstat(fd).st_size), 0).decode()
                current, _, stored = data.partition("\n")
                if current != (expected or ""):
                    return False, current or None, stored or None
                if blob is not None:
                    payload = f"{version}\n{blob}".encode()
                    os.pwrite(fd, payload, 0)
                    os.ftruncate(fd, len(payload))
            finally:
                unlock(fd)
        except OSError as exc:
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if wake:
            self.publish(WAKE)
        return True, None, None

    async def acas(
        self, key: str, expected: str | None, version: str, blob: str | None, wake: bool
    ) -> tuple[bool, str | None, str | None]:
        # Inline on the event loop: a locked read and write of a small file takes microseconds
        # (no fsync), less than a hop to a worker thread.
        return self.cas(key, expected, version, blob, wake)

    def publish(self, message: str) -> None:
        data = message.encode()
        try:
            names = os.listdir(self.wake)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
            sender.setblocking(False)
            for name in names:
                path = str(self.wake / name)
                try:
                    sender.sendto(data, path)
                except (ConnectionRefusedError, FileNotFoundError):
                    with contextlib.suppress(OSError):
                        os.unlink(path)  # its process is gone
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.ENOBUFS):
                        raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc
                    # A listener that is behind misses a wake-up: it re-asks within seconds.

    def listen(
        self, deliver: Callable[[str], None], stop: threading.Event, tick: Callable[[], None]
    ) -> None:
        self.wake.mkdir(parents=True, exist_ok=True)
        path = str(self.wake / f"{os.getpid()}-{secrets.token_hex(3)}")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
            listener.bind(path)
            listener.settimeout(0.5)
            try:
                while not stop.is_set():
                    try:
                        data = listener.recv(65536)
                    except TimeoutError:
                        data = b""
                    if data:
                        deliver(data.decode())
                    tick()
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(path)

    def wall(self) -> float:
        return time.time()

    def reset(self) -> None:
        # A forked child shares the parent's open files, and so its locks: open its own.
        fds, self._fds = self._fds, {}
        for fd in fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)


def open_shared(url: str, team: str) -> SharedStore:
    if os.name == "nt":  # pragma: no cover - no Unix sockets or flock there
        raise ValueError("a file:// pacing store needs a POSIX system; use redis:// instead")
    return SharedStore(FileBackend(directory_of(url), team), team)
