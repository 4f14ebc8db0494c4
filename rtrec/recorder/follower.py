"""Projections kept current while recording, from a thread beside the relay.

The writer calls `notify()` after each commit (a flag set: nothing on the relay's
path waits for projection).  The follower's thread wakes, catches up every session
that has new events through its own SQLite connection, and then pauses so that it
runs at most once per `interval`: an SQL user sees views at most about that far
behind the log, and a busy relay pays for one catch-up per interval, not per commit.
Stopping runs a last catch-up, so the views are complete when the recorder exits.

The projector state of sessions still being recorded stays in memory between
passes; a session that ended is dropped from memory once it is caught up.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable

from rtrec.store.db import writer_pragmas
from rtrec.store.projection import (
    FLUSH_EVERY,
    Tracked,
    advance,
    fold_new,
    load,
    write_together,
)
from rtrec.threads import yield_to_relay

# Seconds between catch-ups at most.  Each pass rewrites the changed rows of every live
# session; with 200 calls streaming audio, passes every 0.2 s cost the recorder a tenth
# of a core more than passes every second (bench/relay load), for views fresher than
# anyone reading them needs.
DEFAULT_INTERVAL = 1.0


class ProjectionFollower:
    def __init__(
        self,
        db_path: str,
        *,
        interval: float = DEFAULT_INTERVAL,
        warn: Callable[[str], None] | None = None,
        on_session_complete: Callable[[int], None] | None = None,
    ) -> None:
        self.db_path = db_path
        self.interval = interval
        self._warn = warn or (lambda message: None)
        # Called (on this thread; it must return at once) with the id of each session
        # that has ended and whose views now hold all of its events.
        self._on_session_complete = on_session_complete
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._progress = threading.Condition()
        self._passes_started = 0
        self._passes_done = 0
        self._thread: threading.Thread | None = None
        self._tracked: dict[int, Tracked] = {}
        self._high_water = 0  # event.id up to which sessions were looked at
        self._unfinished: set[int] = set()  # sessions to look at again next pass
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
        """New events were committed (called by the writer; returns at once)."""
        self._wake.set()

    def sync(self, timeout: float = 30.0) -> bool:
        """Wait until everything committed before this call is projected.

        That is a pass that starts after the call, and any backlog it left.  False on
        timeout, or if the follower stopped.
        """

        def caught_up() -> bool:
            return self._passes_done >= target and not self._unfinished

        with self._progress:
            target = self._passes_started + 1
            self._wake.set()
            self._progress.wait_for(lambda: caught_up() or self._thread is None, timeout)
            return caught_up()

    def stop(self, timeout: float = 60.0) -> None:
        """Run a last catch-up and end the thread (blocking: call it off the event loop)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._progress:
            self._thread = None
            self._progress.notify_all()

    # -- the thread ---------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, isolation_level=None, check_same_thread=False)
        for pragma in writer_pragmas():
            conn.execute(pragma)
        return conn

    def _run(self, conn: sqlite3.Connection) -> None:
        yield_to_relay()
        try:
            while not self._stopping.is_set():
                self._wake.wait()
                self._wake.clear()
                started = time.monotonic()
                self._pass(conn)
                # At most one pass per interval; stopping cuts the pause short.
                self._stopping.wait(max(0.0, self.interval - (time.monotonic() - started)))
            self._pass(conn)
            while self._unfinished and not self._failing:  # a backlog bigger than one pass
                self._pass(conn)
        finally:
            conn.close()

    def _pass(self, conn: sqlite3.Connection) -> None:
        with self._progress:
            self._passes_started += 1
            number = self._passes_started
        started = time.thread_time()
        try:
            self._catch_up(conn)
            if self._failing:
                self._failing = False
                self._warn("projections are being updated again")
        except Exception as exc:  # the relay must outlive any projection trouble
            # The log is safe; only the views lag.  The next commit retries.
            self._tracked.clear()
            if not self._failing:
                self._failing = True
                self._warn(f"cannot update projections in {self.db_path}: {exc}")
        self.cpu_s += time.thread_time() - started
        with self._progress:
            self._passes_done = number
            self._progress.notify_all()

    def _catch_up(self, conn: sqlite3.Connection) -> None:
        (high_water,) = conn.execute("SELECT coalesce(max(id), 0) FROM event").fetchone()
        session_ids = set(self._unfinished)
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
        self._forget_ended(conn)

    def _forget_ended(self, conn: sqlite3.Connection) -> None:
        if not self._tracked:
            return
        ids = list(self._tracked)
        marks = ", ".join("?" for _ in ids)
        for session_id, last_seq in conn.execute(
            "SELECT s.id, (SELECT max(e.seq) FROM event e WHERE e.session_id = s.id) "
            f"FROM session s WHERE s.id IN ({marks}) AND s.ended_at IS NOT NULL",
            ids,
        ).fetchall():
            tracked = self._tracked.pop(session_id)
            # An end committed after this pass folded the session's events is seen
            # again next pass; only a complete projection counts.
            complete = tracked.stored_seq == (last_seq if last_seq is not None else -1)
            if complete and self._on_session_complete is not None:
                self._on_session_complete(session_id)
