"""Projections kept current while recording, from a thread of the writer process.

The writer calls `notify()` after each commit (a flag set: the writer never waits for
projection).  The follower's thread wakes, catches up every session that has new
events through its own SQLite connection, and then pauses so that it runs at most
once per `interval`: an SQL user sees views at most about that far behind the log,
and a busy recorder pays for one catch-up per interval, not per commit.  Stopping
runs a last catch-up, so the views are complete when the recorder exits.

The writer also names the sessions whose end it has just committed (`ended`); once a
pass has brought such a session's projection up to its last event, `on_complete`
hears of it: the session is over and everything about it is in the views.

The projector state of sessions still being recorded stays in memory between
passes; a session that ended is dropped from memory once it is caught up.

The same thread also checkpoints the WAL (the writer's own connection never does):
a checkpoint copies tens of MB and syncs them, and done by the writer it would hold
up the frames it owes the relay.  With `project` off it only checkpoints.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable

from rtrec.store.db import writer_pragmas
from rtrec.store.projection import (
    FLUSH_EVERY,
    Tracked,
    advance,
    fold_new,
    load,
    write_together,
)

# A checkpoint once the WAL holds this much: what SQLite's default autocheckpoint
# (1000 pages) means at rtrec's 64 KB pages.
CHECKPOINT_WAL_BYTES = 64 * 1024 * 1024

# Seconds between catch-ups at most.  Each pass rewrites the changed rows of every live
# session; with 200 calls streaming audio, passes every 0.2 s cost a tenth of a core
# more than passes every second (bench/relay load), for views fresher than anyone
# reading them needs.
DEFAULT_INTERVAL = 1.0


class ProjectionFollower:
    def __init__(
        self,
        db_path: str,
        *,
        interval: float = DEFAULT_INTERVAL,
        warn: Callable[[str], None] | None = None,
        on_complete: Callable[[int], None] | None = None,
        project: bool = True,
    ) -> None:
        self.db_path = db_path
        self.project = project
        self.interval = interval
        self._warn = warn or (lambda message: None)
        self._on_complete = on_complete or (lambda session_id: None)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._passes_started = 0
        self._passes_done = 0
        self._waiting: list[tuple[int, Callable[[bool], None]]] = []  # (pass, callback)
        self._thread: threading.Thread | None = None
        self._tracked: dict[int, Tracked] = {}
        self._high_water = 0  # event.id up to which sessions were looked at
        self._unfinished: set[int] = set()  # sessions to look at again next pass
        self._ended: set[int] = set()  # ended sessions not yet reported complete
        self._failing = False
        self.events_folded = 0
        self.reloads = 0  # times another process had moved a session's checkpoint
        self.cpu_s = 0.0  # CPU time of the thread's catch-ups (the benchmark reports it)

    def start(self) -> None:
        conn = self._connect()
        (self._high_water,) = conn.execute("SELECT coalesce(max(id), 0) FROM event").fetchone()
        self._thread = threading.Thread(
            target=self._run, args=(conn,), name="rtrec-projections", daemon=True
        )
        self._thread.start()

    def notify(self) -> None:
        """New events were committed (returns at once)."""
        self._wake.set()

    def ended(self, session_ids: Iterable[int]) -> None:
        """These sessions' ends are committed: report each once its projection is complete."""
        with self._lock:
            self._ended.update(session_ids)
        self._wake.set()

    def after_pass(self, callback: Callable[[bool], None]) -> None:
        """Call `callback(True)` (from the follower's thread) once everything committed
        before this call is projected: a pass that starts after it, and any backlog it
        left.  `callback(False)` if the follower stops first.
        """
        with self._lock:
            if self._thread is None:
                stopped = True
            else:
                stopped = False
                self._waiting.append((self._passes_started + 1, callback))
        if stopped:
            callback(False)
        self._wake.set()

    def stop(self, timeout: float = 60.0) -> None:
        """Run a last catch-up and end the thread (blocking)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            self._thread = None
            waiting, self._waiting = self._waiting, []
        for _, callback in waiting:
            callback(False)

    # -- the thread ---------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, isolation_level=None, check_same_thread=False)
        for pragma in writer_pragmas():
            conn.execute(pragma)
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # checkpoints are explicit, below
        return conn

    def _run(self, conn: sqlite3.Connection) -> None:
        try:
            while not self._stopping.is_set():
                self._wake.wait()
                self._wake.clear()
                started = time.monotonic()
                self._pass(conn)
                # At most one pass per interval; stopping cuts the pause short.
                self._stopping.wait(max(0.0, self.interval - (time.monotonic() - started)))
            self._pass(conn)
            while (self._unfinished or self._ended) and not self._failing:
                self._pass(conn)  # a backlog bigger than one pass
        finally:
            conn.close()

    def _pass(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            self._passes_started += 1
            number = self._passes_started
        started = time.thread_time()
        try:
            if self.project:
                self._catch_up(conn)
            else:
                with self._lock:
                    done, self._ended = self._ended, set()
                for session_id in done:
                    self._on_complete(session_id)
            self._checkpoint(conn)
            if self._failing:
                self._failing = False
                self._warn("projections are being updated again")
        except Exception as exc:  # the recording must outlive any projection trouble
            # The log is safe; only the views lag.  The next commit retries.
            self._tracked.clear()
            if not self._failing:
                self._failing = True
                self._warn(f"cannot update projections in {self.db_path}: {exc}")
        self.cpu_s += time.thread_time() - started
        with self._lock:
            self._passes_done = number
            caught_up = not self._unfinished
            ready = [cb for target, cb in self._waiting if caught_up and target <= number]
            self._waiting = [w for w in self._waiting if not (caught_up and w[0] <= number)]
        for callback in ready:
            callback(not self._failing)

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            size = os.path.getsize(self.db_path + "-wal")
        except OSError:
            return
        if size >= CHECKPOINT_WAL_BYTES:
            # PASSIVE: copies what no reader still needs, and never waits for the writer.
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _catch_up(self, conn: sqlite3.Connection) -> None:
        (high_water,) = conn.execute("SELECT coalesce(max(id), 0) FROM event").fetchone()
        with self._lock:
            ended = set(self._ended)
        session_ids = self._unfinished | ended
        if high_water > self._high_water:
            session_ids.update(
                sid
                for (sid,) in conn.execute(
                    "SELECT DISTINCT session_id FROM event WHERE id > ? AND id <= ?",
                    (self._high_water, high_water),
                )
            )
        self._high_water = high_water
        self._unfinished = set(session_ids)  # until written: an error retries them all
        backlog: set[int] = set()
        batch = []
        for session_id in sorted(session_ids):
            tracked = self._tracked.get(session_id) or load(conn, session_id)
            self._tracked[session_id] = tracked
            folded = fold_new(conn, tracked)
            self.events_folded += folded
            if folded >= FLUSH_EVERY:  # a long backlog: more next pass, without a pause
                backlog.add(session_id)
            batch.append(tracked)
        # One transaction for every session: one commit per pass, however many calls.
        for stale in write_together(conn, batch):
            # Another process projected it meanwhile: carry on from its rows.
            self.reloads += 1
            tracked, folded = advance(conn, load(conn, stale.session_id))
            self._tracked[stale.session_id] = tracked
            self.events_folded += folded
        self._unfinished = backlog
        if backlog:
            self._wake.set()
        self._forget_ended(conn, backlog)

    def _forget_ended(self, conn: sqlite3.Connection, backlog: set[int]) -> None:
        if not self._tracked:
            return
        ids = list(self._tracked)
        marks = ", ".join("?" for _ in ids)
        for session_id, last_seq in conn.execute(
            "SELECT s.id, (SELECT max(e.seq) FROM event e WHERE e.session_id = s.id) "
            f"FROM session s WHERE s.id IN ({marks}) AND s.ended_at IS NOT NULL",
            ids,
        ).fetchall():
            if session_id in backlog:
                continue
            # An end committed after this pass read its events is seen again next pass:
            # only a projection holding every event counts as complete.
            if self._tracked[session_id].stored_seq != (-1 if last_seq is None else last_seq):
                continue
            del self._tracked[session_id]
            with self._lock:
                reported = session_id in self._ended
                self._ended.discard(session_id)
            if reported:
                self._on_complete(session_id)
