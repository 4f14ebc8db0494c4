"""The capture writer: frames in from the relay, batches out to SQLite, off the hot path.

The relay calls `append()`, which only stamps the frame and puts it on a list.  A
writer task wakes every `flush_interval` (or sooner when a batch fills up), and
appends the batch in one transaction through aiosqlite.  Turning frames into rows
(envelope, audio compaction, secret scrubbing) happens inside `executemany`, which
aiosqlite runs on its own thread, so the event loop only ever moves references.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiosqlite

from rtrec.store.db import writer_pragmas
from rtrec.store.liveness import recorder_alive
from rtrec.store.session import INSERT_SESSION, UPDATE_SESSION, LiveSession
from rtrec.store.spill import (
    DEFAULT_SPILL_MAX_BYTES,
    DEFAULT_SPILL_RESERVE_BYTES,
    SpillFile,
    holds_events,
    spill_path,
)
from rtrec.threads import yield_to_relay

INSERT_EVENT = (
    "INSERT INTO event (session_id, seq, t_ns, wall_ns, direction, type, event_id, item_id, "
    "response_id, flags, frame, audio, audio_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

# (session, seq, t_ns, wall_ns, direction, frame)
PendingEvent = tuple[LiveSession, int, int, int, str, "str | bytes"]

DEFAULT_FLUSH_INTERVAL = 0.05  # seconds; DESIGN.md promises at most 0.1
DEFAULT_MAX_BATCH = 2000
DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024


def event_rows(batch: Iterable[PendingEvent]) -> Iterator[tuple[Any, ...]]:
    """Rows for the event table; keeps each session's live audio counters."""
    for session, seq, t_ns, wall_ns, direction, frame in batch:
        enc = session.encode(seq, t_ns, direction, frame)
        yield (
            session.db_id,
            seq,
            t_ns,
            wall_ns,
            direction,
            enc.type,
            enc.event_id,
            enc.item_id,
            enc.response_id,
            enc.flags,
            enc.frame,
            enc.audio,
            enc.audio_at,
        )


class EventWriter:
    """Appends sessions and frames to the log in batches.

    When the database refuses writes, events wait in memory (up to `max_pending_bytes`)
    and are retried; past that bound, or once the database file is removed or replaced,
    they go to the spill file instead, so a live call never stalls and nothing is lost.
    """

    def __init__(
        self,
        db_path: str,
        *,
        recorder_id: str | None = None,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_pending_bytes: int = DEFAULT_MAX_PENDING_BYTES,
        spill_max_bytes: int = DEFAULT_SPILL_MAX_BYTES,
        spill_reserve_bytes: int = DEFAULT_SPILL_RESERVE_BYTES,
        on_commit: Callable[[], None] | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.db_path = db_path
        self.recorder_id = recorder_id
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self.max_pending_bytes = max_pending_bytes
        self.on_commit = on_commit
        self.spill = SpillFile(spill_path(db_path, recorder_id), spill_max_bytes)
        self.spill_reserve_bytes = spill_reserve_bytes
        self._warn = warn or (lambda message: print(f"rtrec: {message}", file=sys.stderr))
        self._pending: list[PendingEvent] = []
        self._pending_bytes = 0
        self._new_sessions: list[LiveSession] = []
        self._dirty_sessions: dict[LiveSession, None] = {}
        self._sessions: dict[LiveSession, None] = {}  # all open ones, for the spill
        self._db: aiosqlite.Connection | None = None
        # Spill writes get a thread of their own, as low in priority as the writer's.
        self._spiller = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="rtrec-spill", initializer=yield_to_relay
        )
        self._db_identity: tuple[int, int] | None = None
        self.db_gone = False
        self._task: asyncio.Task[None] | None = None
        self._spill_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._closing = False
        self._flush_lock = asyncio.Lock()
        self.failing_since: float | None = None
        self.events_written = 0

    async def start(self) -> None:
        self._db = await aiosqlite.connect(self.db_path, isolation_level=None)
        # aiosqlite runs each connection on a thread of its own, which it does not export.
        worker = getattr(self._db, "_thread", None)
        if worker is not None and worker.native_id is not None:
            yield_to_relay(worker.native_id)
        for pragma in writer_pragmas():
            await self._db.execute(pragma)
        self._db_identity = _identity(self.db_path)
        for message in await asyncio.to_thread(self._prepare_spill):
            self._warn(message)
        self._task = asyncio.create_task(self._run(), name="rtrec-writer")

    def _prepare_spill(self) -> list[str]:
        """Reserve this recorder's spill space; tidy up after recorders that died."""
        messages = []
        for path in glob.glob(glob.escape(self.db_path) + "-spill-*.jsonl"):
            owner = path[len(self.db_path) + len("-spill-") : -len(".jsonl")]
            if path == self.spill.path or recorder_alive(self.db_path, owner):
                continue
            if holds_events(path):
                messages.append(
                    f"{path} holds events a past recording could not write: "
                    f"bring them back with: rtrec import {path}"
                )
            else:
                os.unlink(path)
        problem = self.spill.reserve(self.spill_reserve_bytes)
        if problem is not None:
            messages.append(problem)
        return messages

    # -- called by the relay (hot path: no awaits, no I/O) --------------------------

    def open_session(self, session: LiveSession) -> None:
        session.recorder = self.recorder_id
        self._new_sessions.append(session)
        self._sessions[session] = None

    def update_session(self, session: LiveSession) -> None:
        self._dirty_sessions[session] = None

    def append(self, session: LiveSession, direction: str, frame: str | bytes) -> None:
        """Append a frame that has just arrived."""
        self.append_at(
            session, direction, frame, time.monotonic_ns() - session.t0_ns, time.time_ns()
        )

    def append_at(
        self, session: LiveSession, direction: str, frame: str | bytes, t_ns: int, wall_ns: int
    ) -> None:
        """Append with a given time (imports, replays of recorded timelines)."""
        seq = session.next_seq
        session.next_seq = seq + 1
        self._pending.append((session, seq, t_ns, wall_ns, direction, frame))
        self._pending_bytes += len(frame)
        if self._pending_bytes > self.max_pending_bytes and self._spill_task is None:
            # The database has fallen behind by more than the buffer: spill now, even
            # while a flush is stuck waiting on a lock.
            self._spill_task = asyncio.get_running_loop().create_task(self._spill_in_background())
        elif len(self._pending) >= self.max_batch:
            self._wake.set()

    @property
    def pending_events(self) -> int:
        return len(self._pending)

    # -- the writer task -----------------------------------------------------------

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_interval)
            self._wake.clear()
            await self.flush()
            if self.failing_since is not None and not self.db_gone:
                # Back off while the database refuses writes; the relay keeps going.
                await asyncio.sleep(min(1.0, 10 * self.flush_interval))

    async def flush(self) -> bool:
        """Write everything pending in one transaction; False if it had to wait or spill."""
        async with self._flush_lock:
            if not self.db_gone and _identity(self.db_path) != self._db_identity:
                self.db_gone = True
                self._warn(
                    f"the database file {self.db_path} was removed or replaced; still relaying, "
                    f"recording into {self.spill.path} (bring it back with rtrec import)"
                )
            if self.db_gone:
                await self._spill_pending()
                return False
            batch, self._pending = self._pending, []
            batch_bytes, self._pending_bytes = self._pending_bytes, 0
            new, self._new_sessions = self._new_sessions, []
            dirty, self._dirty_sessions = self._dirty_sessions, {}
            if not (batch or new or dirty):
                return True
            try:
                await self._write(batch, new, dirty)
            except Exception as exc:  # disk full, locked too long, I/O error…
                for session in new:
                    session.db_id = None
                self._pending[:0] = batch
                self._pending_bytes += batch_bytes
                self._new_sessions[:0] = new
                self._dirty_sessions = {**dirty, **self._dirty_sessions}
                if self.failing_since is None:
                    self.failing_since = time.monotonic()
                    self._warn(
                        f"cannot write to {self.db_path}: {exc}; still relaying, holding events "
                        f"in memory (up to {self.max_pending_bytes // 2**20} MiB), then in "
                        f"{self.spill.path}"
                    )
                if self._pending_bytes > self.max_pending_bytes:
                    await self._spill_pending()
                return False
            if self.failing_since is not None:
                self.failing_since = None
                self._warn(f"writing to {self.db_path} again")
            self.events_written += len(batch)
            for session in dirty:
                if session.ended:
                    self._sessions.pop(session, None)
        if self.on_commit is not None:
            self.on_commit()
        return True

    async def _spill_in_background(self) -> None:
        try:
            await self._spill_pending()
        finally:
            self._spill_task = None

    async def _spill_pending(self) -> None:
        """Move every pending event to the spill file (in a worker thread)."""
        batch, self._pending = self._pending, []
        try:
            self._pending_bytes = 0
            sessions = list(self._sessions)
            result = await asyncio.get_running_loop().run_in_executor(
                self._spiller, self.spill.write, batch, sessions
            )
            if result.dropped:
                self._warn(
                    f"LOST {result.dropped} events: the spill file {self.spill.path} is full "
                    f"({self.spill.max_bytes // 2**20} MiB) and the database refuses writes"
                )
            elif result.written:
                self._warn(
                    f"spilled {result.written} events to {self.spill.path}; "
                    f"bring them back with: rtrec import {self.spill.path}"
                )
        except OSError as exc:
            self._warn(f"LOST {len(batch)} events: cannot write the spill file either: {exc}")
            self.spill.events_dropped += len(batch)

    async def _write(
        self,
        batch: list[PendingEvent],
        new: list[LiveSession],
        dirty: dict[LiveSession, None],
    ) -> None:
        db = self._db
        assert db is not None
        await db.execute("BEGIN IMMEDIATE")
        try:
            for session in new:
                cursor = await db.execute(INSERT_SESSION, session.insert_values())
                session.db_id = cursor.lastrowid
            updates = [s.update_values() for s in dirty if s.db_id is not None and s not in new]
            if updates:
                await db.executemany(UPDATE_SESSION, updates)
            if batch:
                await db.executemany(INSERT_EVENT, event_rows(batch))
            await db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                await db.execute("ROLLBACK")
            raise

    async def close(self) -> bool:
        """Stop the task and write what is left, to the database or else the spill file.

        False if any event could not be kept anywhere.
        """
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._spill_task is not None:
            await self._spill_task
        if not await self.flush():
            # The database still refuses: what is left, and how each session ended
            # (the spill rewrites a session's line only when it changed), go to the spill.
            await self._spill_pending()
            try:
                await asyncio.get_running_loop().run_in_executor(
                    self._spiller, self.spill.write, [], list(self._sessions)
                )
            except OSError as exc:
                self._warn(f"cannot write the spill file {self.spill.path}: {exc}")
        if self._db is not None:
            with contextlib.suppress(Exception):
                await self._db.close()
            self._db = None
        with contextlib.suppress(OSError):
            await asyncio.to_thread(self.spill.close)
        self._spiller.shutdown(wait=False)
        return self.spill.events_dropped == 0


def _identity(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)
