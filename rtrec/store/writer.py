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
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import aiosqlite
import msgspec

from rtrec.audio_format import session_formats
from rtrec.store.db import writer_pragmas
from rtrec.store.frames import encode_frame
from rtrec.store.session import INSERT_SESSION, UPDATE_SESSION, LiveSession

INSERT_EVENT = (
    "INSERT INTO event (session_id, seq, t_ns, wall_ns, direction, type, event_id, item_id, "
    "response_id, flags, frame, audio, audio_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

# (session, seq, t_ns, wall_ns, direction, frame)
PendingEvent = tuple[LiveSession, int, int, int, str, "str | bytes"]

DEFAULT_FLUSH_INTERVAL = 0.05  # seconds; DESIGN.md promises at most 0.1
DEFAULT_MAX_BATCH = 2000


def event_rows(batch: Iterable[PendingEvent]) -> Iterator[tuple[Any, ...]]:
    """Rows for the event table; keeps each session's live audio counters."""
    for session, seq, t_ns, wall_ns, direction, frame in batch:
        enc = encode_frame(frame, session.secrets, session.redact)
        if enc.audio is not None:
            size = len(enc.audio)
            if direction == "client":
                session.audio_in_bytes += size
                session.audio_in_ms += session.input_format.duration_ms(size)
            else:
                session.audio_out_bytes += size
                session.audio_out_ms += session.output_format.duration_ms(size)
        elif enc.type in ("session.created", "session.updated") and direction == "server":
            _track_formats(session, enc.frame)
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


def _track_formats(session: LiveSession, frame: str | bytes) -> None:
    try:
        event = msgspec.json.decode(frame)
    except msgspec.DecodeError:
        return
    if isinstance(event, dict):
        inp, out = session_formats(event.get("session"))
        session.input_format = inp or session.input_format
        session.output_format = out or session.output_format


class EventWriter:
    """Appends sessions and frames to the log in batches."""

    def __init__(
        self,
        db_path: str,
        *,
        recorder_id: str | None = None,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        max_batch: int = DEFAULT_MAX_BATCH,
        on_commit: Callable[[], None] | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.db_path = db_path
        self.recorder_id = recorder_id
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self.on_commit = on_commit
        self._warn = warn or (lambda message: print(f"rtrec: {message}", file=sys.stderr))
        self._pending: list[PendingEvent] = []
        self._new_sessions: list[LiveSession] = []
        self._dirty_sessions: dict[LiveSession, None] = {}
        self._db: aiosqlite.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._closing = False
        self._flush_lock = asyncio.Lock()
        self.failing_since: float | None = None
        self.events_written = 0

    async def start(self) -> None:
        self._db = await aiosqlite.connect(self.db_path, isolation_level=None)
        for pragma in writer_pragmas():
            await self._db.execute(pragma)
        self._task = asyncio.create_task(self._run(), name="rtrec-writer")

    # -- called by the relay (hot path: no awaits, no I/O) --------------------------

    def open_session(self, session: LiveSession) -> None:
        session.recorder = self.recorder_id
        self._new_sessions.append(session)

    def update_session(self, session: LiveSession) -> None:
        self._dirty_sessions[session] = None

    def append(self, session: LiveSession, direction: str, frame: str | bytes) -> None:
        seq = session.next_seq
        session.next_seq = seq + 1
        self._pending.append(
            (session, seq, time.monotonic_ns() - session.t0_ns, time.time_ns(), direction, frame)
        )
        if len(self._pending) >= self.max_batch:
            self._wake.set()

    def append_at(
        self, session: LiveSession, direction: str, frame: str | bytes, t_ns: int, wall_ns: int
    ) -> None:
        """Append with a given time (imports, replays of recorded timelines)."""
        seq = session.next_seq
        session.next_seq = seq + 1
        self._pending.append((session, seq, t_ns, wall_ns, direction, frame))
        if len(self._pending) >= self.max_batch:
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
            if self.failing_since is not None:
                # Back off while the database refuses writes; the relay keeps going.
                await asyncio.sleep(min(1.0, 10 * self.flush_interval))

    async def flush(self) -> bool:
        """Write everything pending in one transaction; False if the database refused."""
        async with self._flush_lock:
            batch, self._pending = self._pending, []
            new, self._new_sessions = self._new_sessions, []
            dirty, self._dirty_sessions = self._dirty_sessions, {}
            if not (batch or new or dirty):
                return True
            try:
                await self._write(batch, new, dirty)
            except Exception as exc:  # disk full, file removed, locked too long…
                for session in new:
                    session.db_id = None
                self._pending[:0] = batch
                self._new_sessions[:0] = new
                self._dirty_sessions = {**dirty, **self._dirty_sessions}
                if self.failing_since is None:
                    self.failing_since = time.monotonic()
                self._warn(
                    f"cannot write to {self.db_path}: {exc}; still relaying, "
                    f"{len(self._pending)} events held in memory"
                )
                return False
            if self.failing_since is not None:
                self.failing_since = None
                self._warn(f"writing to {self.db_path} again")
            self.events_written += len(batch)
        if self.on_commit is not None:
            self.on_commit()
        return True

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
        """Stop the task and write what is left; False if some of it could not be written."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        ok = await self.flush()
        if self._db is not None:
            await self._db.close()
            self._db = None
        return ok
