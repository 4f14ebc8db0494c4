"""One writer process as the relay holds it: started with its two pipes, fed, reaped.

The relay's side of the concurrency story (rtrec/capture/writer_link.py) in its
plainest parts: starting `python -m rtrec.store.writer_process` with a records pipe,
a reports pipe and the recorder's lock; writing chunks without blocking; collecting
the exit status of writers that ended, so that none is left a zombie.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Callable

from rtrec.errors import DatabaseError

PIPE_BYTES = 1024 * 1024  # asked of the kernel for each pipe (Linux); the default is 64 KiB
IOV_MAX = 1024
_F_SETPIPE_SZ = 1031


class WriterChild:
    """A writer process and the relay's ends of its pipes (both non-blocking)."""

    def __init__(self, process: subprocess.Popen[bytes], records_fd: int, reports_fd: int) -> None:
        self.process = process
        self.records_fd = records_fd
        self.reports_fd = reports_fd

    @classmethod
    def start(cls, lock_fd: int) -> WriterChild:
        """Start a writer; it inherits the recorder's lock, so the lock lives while it does."""
        records_r, records_w = os.pipe()
        reports_r, reports_w = os.pipe()
        for fd in (records_w, reports_w):
            with contextlib.suppress(OSError):
                fcntl.fcntl(fd, _F_SETPIPE_SZ, PIPE_BYTES)
        try:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "rtrec.store.writer_process",
                    str(records_r),
                    str(reports_w),
                    str(lock_fd),
                ],
                pass_fds=(records_r, reports_w, lock_fd),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                # Everything it has to say comes through its reports.  Not inheriting the
                # relay's stderr also means that whoever reads it (a pipeline, a test)
                # sees it end when the relay ends.
                stderr=None if os.environ.get("RTREC_DEBUG") else subprocess.DEVNULL,
            )
        except OSError as exc:
            for fd in (records_r, records_w, reports_r, reports_w):
                os.close(fd)
            raise DatabaseError(f"cannot start the writer process: {exc}") from exc
        os.close(records_r)
        os.close(reports_w)
        os.set_blocking(records_w, False)
        os.set_blocking(reports_r, False)
        return cls(process, records_w, reports_r)

    @property
    def pid(self) -> int:
        return self.process.pid

    def write(self, outbox: list[bytes | memoryview]) -> bool:
        """Write from the front of `outbox` what the pipe takes, removing it from the list.

        False if the pipe is full (the rest waits) or the writer is gone.
        """
        try:
            while outbox:
                chunks = outbox[:IOV_MAX]
                written = os.writev(self.records_fd, chunks)
                for done, chunk in enumerate(chunks):
                    size = len(chunk)
                    if written < size:
                        del outbox[:done]
                        if written:
                            outbox[0] = memoryview(chunk)[written:]
                        return False
                    written -= size
                del outbox[: len(chunks)]
        except OSError:  # full (BlockingIOError), or the writer is gone: its reports say so
            return False
        return True

    def read(self) -> bytes | None:
        """What the writer reported; b"" once it has ended, None if nothing is there yet."""
        try:
            return os.read(self.reports_fd, PIPE_BYTES)
        except BlockingIOError:
            return None
        except OSError:
            return b""

    def close(self) -> None:
        """Close the relay's ends (the loop must no longer watch them)."""
        for fd in (self.records_fd, self.reports_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


class Reaper:
    """Collects the exit status of writers that ended, and says how the unexpected ones did."""

    def __init__(self, loop: asyncio.AbstractEventLoop, warn: Callable[[str], None]) -> None:
        self._loop = loop
        self._warn = warn
        self._running: list[subprocess.Popen[bytes]] = []
        self._died: dict[subprocess.Popen[bytes], int] = {}  # → events it had not written

    def add(self, process: subprocess.Popen[bytes]) -> None:
        self._running.append(process)

    def died(self, process: subprocess.Popen[bytes], unwritten: int) -> None:
        """A writer that ended before its time: said once its exit status is known."""
        self._died[process] = unwritten

    def collect(self) -> None:
        self._running = [p for p in self._running if p.poll() is None]
        self._say_deaths()
        if self._running or self._died:
            self._loop.call_later(0.05, self.collect)

    async def collect_all(self, timeout: float = 10.0) -> None:
        """Wait for every writer to exit after its last report (kill one that lingers)."""
        deadline = time.monotonic() + timeout
        while self._running:
            self._running = [p for p in self._running if p.poll() is None]
            if time.monotonic() > deadline:
                for process in self._running:
                    process.kill()
                deadline = float("inf")
            if self._running:
                await asyncio.sleep(0.01)
        self._say_deaths()

    def _say_deaths(self) -> None:
        for process in [p for p in self._died if p.returncode is not None]:
            code = process.returncode
            how = f"signal {-code}" if code < 0 else f"status {code}"
            self._warn(
                f"the writer process ended ({how}); started another, and handed it the "
                f"{self._died.pop(process)} events not yet written"
            )
