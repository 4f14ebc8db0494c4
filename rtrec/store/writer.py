"""Frames into event rows, batches into the log; the spill file when the log refuses them.

`event_row` is where a frame becomes a row (through `LiveSession.encode`, which also
keeps the session's live counters with its protocol's media fold).  `LogWriter` runs in
the writer process (rtrec/store/writer_process.py), on its one thread that talks to
the log: the relay never waits for it.  When the database refuses writes, events wait
in memory (up to `max_pending_bytes`) and are retried; past that bound, or once the
database file is removed or replaced, they go to the spill file instead, so a live
call never stalls and nothing is lost.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

from rtrec.errors import DatabaseError
from rtrec.store.db import open_db
from rtrec.store.handoff import WriterConfig
from rtrec.store.session import UPDATE_SESSION, UPSERT_SESSION, LiveSession
from rtrec.store.spill import SpillFile, dead_spills, holds_events, spill_path

INSERT_EVENT = (
    "INSERT INTO event (session_id, seq, t_ns, wall_ns, direction, type, event_id, item_id, "
    "response_id, flags, frame, audio, audio_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# A writer started in place of one that died is handed again what that one may have
# committed already: (session, seq) is unique, and such a row is written once.
INSERT_EVENT_ONCE = INSERT_EVENT.replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)

# (session, seq, t_ns, wall_ns, direction, frame)
PendingEvent = tuple[LiveSession, int, int, int, str, "str | bytes"]

DEFAULT_MAX_BATCH = 2000
# The writer's waits for the database lock stay short: while it waits it takes no
# frames from the relay, and a lock held longer is better met by retrying (and by the
# spill file once the buffer is full) than by waiting.
WRITER_BUSY_TIMEOUT_MS = 250
# A lock held this long (another writer) is worth a line on stderr; shorter ones are
# the ordinary contention of readers that project sessions, and are only retried.
QUIET_LOCK_S = 2.0
SPILL_NOTE_INTERVAL_S = 10.0

# Where a flush left what was pending: in the database; in the spill file (kept, but
# not in the database); or still in memory (the database refused it, for now).
Outcome = Literal["committed", "spilled", "held"]
COMMITTED: Outcome = "committed"
SPILLED: Outcome = "spilled"
HELD: Outcome = "held"


def event_row(
    session: LiveSession, seq: int, t_ns: int, wall_ns: int, direction: str, frame: str | bytes
) -> tuple[Any, ...]:
    """The event table's row for one frame; keeps the session's live counters."""
    enc = session.encode(seq, t_ns, direction, frame)
    return (
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


def event_rows(batch: Iterable[PendingEvent]) -> Iterator[tuple[Any, ...]]:
    for item in batch:
        yield event_row(*item)


class Throttled:
    """A note that may recur: said at once, then at most once per interval, with a count."""

    def __init__(self, say: Callable[[str], None], interval: float) -> None:
        self.say = say
        self.interval = interval
        self._last = -interval
        self._owed = 0
        self._text: Callable[[int], str] | None = None

    def add(self, count: int, text: Callable[[int], str]) -> None:
        self._owed += count
        self._text = text
        if time.monotonic() - self._last >= self.interval:
            self.flush()

    def flush(self) -> None:
        if self._owed and self._text is not None:
            self.say(self._text(self._owed))
            self._owed = 0
            self._last = time.monotonic()


class LogWriter:
    """Appends sessions and frames to the log in batches (synchronous; one thread)."""

    def __init__(self, config: WriterConfig, note: Callable[[str], None]) -> None:
        self.config = config
        self.db_path = config.db_path
        self.note = note
        self.spill = SpillFile(
            spill_path(config.db_path, config.recorder_id), config.spill_max_bytes
        )
        self._spilled_note = Throttled(note, SPILL_NOTE_INTERVAL_S)
        self._lost_note = Throttled(note, SPILL_NOTE_INTERVAL_S)
        self.pending: list[PendingEvent] = []
        self.pending_bytes = 0
        self._new: dict[LiveSession, None] = {}
        self._dirty: dict[LiveSession, None] = {}
        self.open_sessions: dict[LiveSession, None] = {}  # for the spill's session lines
        self._conn: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None
        self.db_gone = False
        self.failing_since: float | None = None
        self._failure_said = False
        self.retry_at = 0.0
        self.events_written = 0

    def open(self) -> None:
        """Open (create, migrate) the log; raises DatabaseError when it cannot be used.

        A writer started in place of one that died only uses a database that is there.
        """
        try:
            self._conn = open_db(self.db_path, create=not self.config.restart)
        except DatabaseError as exc:
            if not self.config.restart:
                raise
            self.db_gone = True
            self.note(f"{exc}; recording into {self.spill.path} (bring it back with rtrec import)")
        if self._conn is not None:
            self._conn.execute(f"PRAGMA busy_timeout = {WRITER_BUSY_TIMEOUT_MS}")
            # The follower's thread checkpoints (rtrec/store/follower.py): copying and
            # syncing tens of MB here would hold up what the writer owes the relay.
            self._conn.execute("PRAGMA wal_autocheckpoint = 0")
            self._identity = _identity(self.db_path)
        self._prepare_spill()

    def _prepare_spill(self) -> None:
        """Reserve this recorder's spill space; point at what past recorders left."""
        if not self.config.restart:
            for path in dead_spills(self.db_path):
                if holds_events(path):
                    self.note(
                        f"{path} holds events a past recording could not write: "
                        f"bring them back with: rtrec import {path}"
                    )
                else:
                    with contextlib.suppress(OSError):
                        os.unlink(path)
        elif os.path.exists(self.spill.path):
            self.spill.resume()
            return
        problem = self.spill.reserve(self.config.spill_reserve_bytes)
        if problem is not None:
            self.note(problem)

    # -- what the process hands in --------------------------------------------------

    def add_session(self, session: LiveSession) -> None:
        session.recorder = session.recorder or self.config.recorder_id
        self._new[session] = None
        self.open_sessions[session] = None

    def session_changed(self, session: LiveSession) -> None:
        if session not in self._new:
            self._dirty[session] = None

    def add(
        self,
        session: LiveSession,
        seq: int,
        t_ns: int,
        wall_ns: int,
        direction: str,
        frame: str | bytes,
    ) -> None:
        self.pending.append((session, seq, t_ns, wall_ns, direction, frame))
        self.pending_bytes += len(frame)

    @property
    def has_work(self) -> bool:
        return bool(self.pending or self._new or self._dirty)

    # -- writing -------------------------------------------------------------------

    def flush(self) -> tuple[Outcome, list[LiveSession]]:
        """Write everything pending in one transaction.

        (where it went, sessions whose end was just committed).
        """
        if not self.db_gone and _identity(self.db_path) != self._identity:
            self.db_gone = True
            self.note(
                f"the database file {self.db_path} was removed or replaced; still relaying, "
                f"recording into {self.spill.path} (bring it back with rtrec import)"
            )
        if self.db_gone:
            self.spill_pending()
            return SPILLED, []
        if not self.has_work:
            return COMMITTED, []
        batch, self.pending = self.pending, []
        batch_bytes, self.pending_bytes = self.pending_bytes, 0
        new, self._new = list(self._new), {}
        dirty, self._dirty = list(self._dirty), {}
        counted = {s: s.counted_state() for s in self.open_sessions}
        try:
            self._write(batch, new, dirty)
        except Exception as exc:  # disk full, locked, I/O error…
            for session in new:
                session.db_id = None
            for session, state in counted.items():  # the batch is counted again
                session.restore_counted_state(state)
            self.pending[:0] = batch
            self.pending_bytes += batch_bytes
            self._new = dict.fromkeys([*new, *self._new])
            self._dirty = dict.fromkeys([*dirty, *self._dirty])
            self._failed(exc)
            if self.pending_bytes > self.config.max_pending_bytes:
                self.spill_pending()
                return SPILLED, []
            return HELD, []
        if self.failing_since is not None:
            if self._failure_said:
                self.note(f"writing to {self.db_path} again")
            self.failing_since = None
            self._failure_said = False
        self.events_written += len(batch)
        ended = [s for s in (*new, *dirty) if s.ended]
        for session in ended:
            self.open_sessions.pop(session, None)
        return COMMITTED, ended

    def _failed(self, exc: Exception) -> None:
        now = time.monotonic()
        if self.failing_since is None:
            self.failing_since = now
        locked = isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)
        # A lock is usually a reader projecting a session, gone in a moment: try again at
        # the next flush.  Other trouble (a full disk, I/O errors) is given longer.
        pause = self.config.flush_interval if locked else min(1.0, 10 * self.config.flush_interval)
        self.retry_at = now + pause
        if not self._failure_said and (not locked or now - self.failing_since >= QUIET_LOCK_S):
            self._failure_said = True
            self.note(
                f"cannot write to {self.db_path}: {exc}; still relaying, holding events "
                f"in memory (up to {self.config.max_pending_bytes // 2**20} MiB), then in "
                f"{self.spill.path}"
            )

    def _write(
        self, batch: list[PendingEvent], new: list[LiveSession], dirty: list[LiveSession]
    ) -> None:
        conn = self._conn
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        try:
            for session in new:
                ((session.db_id,),) = conn.execute(
                    UPSERT_SESSION, session.insert_values()
                ).fetchall()
            updates = [s.update_values() for s in dirty if s.db_id is not None]
            if updates:
                conn.executemany(UPDATE_SESSION, updates)
            if batch:
                conn.executemany(INSERT_EVENT_ONCE, event_rows(batch))
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            raise

    def spill_pending(self) -> None:
        """Move every pending event to the spill file, with every open session's line."""
        batch, self.pending = self.pending, []
        self.pending_bytes = 0
        sessions = [*self.open_sessions, *self._new, *self._dirty]
        try:
            result = self.spill.write(batch, dict.fromkeys(sessions))
        except OSError as exc:
            self.spill.events_dropped += len(batch)
            reason = str(exc)
            self._lost_note.add(
                len(batch),
                lambda n: f"LOST {n} events: cannot write the spill file either: {reason}",
            )
            return
        if result.dropped:
            self._lost_note.add(
                result.dropped,
                lambda n: (
                    f"LOST {n} events: the spill file {self.spill.path} is full "
                    f"({self.spill.max_bytes // 2**20} MiB)"
                ),
            )
        if result.written:
            self._spilled_note.add(
                result.written,
                lambda n: (
                    f"spilled {n} events to {self.spill.path}; "
                    f"bring them back with: rtrec import {self.spill.path}"
                ),
            )

    @property
    def connection(self) -> sqlite3.Connection | None:
        return self._conn

    def finish(self) -> tuple[Outcome, list[LiveSession]]:
        """Write what is left, to the database or else the spill file."""
        outcome, ended = self.flush()
        if outcome != COMMITTED:
            # The database still refuses: what is left, and how each session ended,
            # go to the spill (it rewrites a session's line only when it changed).
            self.spill_pending()
            outcome = SPILLED
        self._spilled_note.flush()
        self._lost_note.flush()
        return outcome, ended

    def close(self) -> bool:
        """Release the database and the spill file; False if any event was lost."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        with contextlib.suppress(OSError):
            self.spill.close()
        return self.spill.events_dropped == 0


def _identity(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)
