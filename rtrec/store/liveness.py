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


def recorder_alive(db_path: str, recorder_id: str | None) -> bool:
    """True while the recorder that holds `recorder_id` is running."""
    if not recorder_id:
        return False
    path = lock_path(db_path, recorder_id)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    return False
