"""Advisory file locks held by an open file: released by the OS when the process dies.

That last property is the point. A batch manifest is owned by one run at a time, and a download's
temporary file by one writer; when the owner is killed (even with SIGKILL) the lock goes with it,
so the next run never finds a stale lock and can tell an abandoned temporary file from a live one.
"""

from __future__ import annotations

import os

__all__ = ["try_lock", "unlock"]

import sys

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def try_lock(fd: int) -> bool:
        """Lock the open file ``fd`` exclusively without blocking; False if someone holds it."""
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def unlock(fd: int) -> None:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        except OSError:
            pass

else:
    import fcntl

    def try_lock(fd: int) -> bool:
        """Lock the open file ``fd`` exclusively without blocking; False if someone holds it."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
