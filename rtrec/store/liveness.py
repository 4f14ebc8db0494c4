"""Which recorder processes are alive, so that only sessions cut by a crash are marked interrupted.

A recorder holds an exclusive flock on `<db>-lock-<recorder id>` for as long as it runs.
The kernel drops the lock when the process dies, kill -9 included, so another process
that can take the lock knows the recorder is gone.  (flock locks are separate from the
POSIX locks SQLite takes on the database itself.)
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid


def lock_path(db_path: str, recorder_id: str) -> str:
    return f"{db_path}-lock-{recorder_id}"


class RecorderLock:
    """Held by a running recorder; released and removed by `release()` or by its death."""

    def __init__(self, db_path: str) -> None:
        self.recorder_id = uuid.uuid4().hex[:12]
        self.path = lock_path(db_path, self.recorder_id)
        self._fd = os.open(self.path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(self._fd, f"{os.getpid()}\n".encode())

    def fileno(self) -> int:
        """The locked file: a process that inherits it keeps the recorder alive too."""
        return self._fd

    def release(self) -> None:
        if self._fd < 0:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.close(self._fd)
        self._fd = -1


def recorder_alive(db_path: str, recorder_id: str | None, *, reclaim: bool = True) -> bool:
    """True while the recorder that holds `recorder_id` is running.

    A dead recorder's lock file is removed, unless `reclaim` is off (readers leave
    every file as they found it).
    """
    if not recorder_id:
        return False
    path = lock_path(db_path, recorder_id)
    try:
        # Read-only is enough for flock, and works where the directory is read-only.
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # cannot tell: leave its sessions alone
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    if reclaim:
        with contextlib.suppress(OSError):
            os.unlink(path)
    return False


def recorder_running(db_path: str, recorder_id: str | None) -> bool:
    """recorder_alive for readers: it only looks, and never removes a stale lock file."""
    if not recorder_id:
        return False
    try:
        fd = os.open(lock_path(db_path, recorder_id), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
