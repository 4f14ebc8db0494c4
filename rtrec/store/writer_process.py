"""The writer process: the relay's hand-off in, rows, commits, projections and spill out.

    python -m rtrec.store.writer_process RECORDS_FD REPORTS_FD LOCK_FD

Started by the relay (rtrec/capture/writer_link.py, which tells the whole story of
the two processes), never by hand.  Its main thread reads records from RECORDS_FD,
turns frames into rows and commits them every `flush_interval` through `LogWriter`,
and answers on REPORTS_FD: what is kept (committed or spilled), session ids, live
counters, notes for the operator.  A second thread keeps the projections current and
checkpoints the WAL (`ProjectionFollower`), so that the main thread never waits for
either.  Nothing here is asyncio: this process exists to block on
SQLite so that the relay never does.

It runs at a lower priority than the relay (nice 5), and ignores SIGINT, SIGTERM and
SIGHUP: Ctrl-C reaches the whole process group, and the
relay, which is also signalled, ends the stream when it has drained.  At the end of
the stream (a close record), it writes what is left, runs a last projection pass and
exits.  If the stream ends without one, the relay is gone (kill -9): it writes what
reached it, lets go of the recorder's lock, and marks the sessions it was writing
`interrupted` itself.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
import time
from functools import partial
from typing import Any

from rtrec.errors import DatabaseError
from rtrec.store.db import mark_interrupted
from rtrec.store.follower import ProjectionFollower
from rtrec.store.handoff import (
    CloseRecord,
    FrameRecord,
    MarkRecord,
    Record,
    RecordReader,
    Report,
    SessionRecord,
    SyncRecord,
    WriterConfig,
    report,
)
from rtrec.store.session import LiveSession
from rtrec.store.writer import (
    COMMITTED,
    DEFAULT_MAX_BATCH,
    HELD,
    SPILLED,
    LogWriter,
    Outcome,
    Throttled,
)

READ_SIZE = 4 * 1024 * 1024
# After reading, wait this long before the next read: the relay writes on every turn
# of its loop, and waking for each write would cost both processes more than the
# batching they already do.  Well inside the flush interval; the pipe holds 1 MiB.
READ_PAUSE_S = 0.005
TRICKLE_BYTES = 256 * 1024  # a read smaller than this is a trickle, worth the pause
BATCH_BYTES = 8 * 1024 * 1024
COUNTERS_INTERVAL_S = 0.5
# A writer this far behind the relay (a machine too busy to give it its share) spills
# until it catches up, so that the relay's hold on unwritten frames stays bounded, in
# time and in memory.  (While the database refuses writes, the bound is --buffer-mib.)
MAX_BEHIND_S = 5.0
MAX_RELAY_HOLD_BYTES = 16 * 1024 * 1024
MIN_BEHIND_S = 0.5  # a hold that large, but this fresh, is a few large frames in transit
# Recording yields the CPU to relaying: where the machine is busy, a frame arriving
# for the relay runs first, and the writer catches up (or spills) afterwards.  Not
# lower: on a machine that stays busy, the writer must still keep up at least by
# spilling.
WRITER_NICE = 5


class Reporter:
    """Writes reports to the relay; from either thread.  Silent once the relay is gone."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()
        self.relay_gone = False

    def send(self, *fields: Any) -> None:
        data = memoryview(report(*fields))
        with self._lock:
            if self.relay_gone:
                return
            try:
                while data:
                    data = data[os.write(self._fd, data) :]
            except OSError:
                self.relay_gone = True

    def note(self, text: str) -> None:
        self.send(Report.NOTE, text)


class WriterProcess:
    def __init__(self, records_fd: int, reporter: Reporter, lock_fd: int) -> None:
        self.records_fd = records_fd
        self.reporter = reporter
        self.lock_fd = lock_fd
        self.reader = RecordReader()
        self.sessions: dict[int, LiveSession] = {}
        self.keys: dict[int, int] = {}  # db id → session key
        self.syncs: list[SyncRecord] = []
        self.closing = False
        self.next_record = 0
        self.flush_due: float | None = None
        self.behind_s = 0.0  # how old the relay's latest mark was when read
        self.relay_holds = 0  # bytes of frames the relay held unwritten then
        self._behind_note = Throttled(reporter.note, 60.0)
        self._new_keys: list[int] = []  # sessions whose db id is not reported yet
        self._counters_at = 0.0
        self._counters_sent: dict[int, dict[str, object]] = {}
        self._spill_sent = (0, 0)
        self._pending_records: list[Record] = []
        self.log: LogWriter
        self.follower: ProjectionFollower | None = None

    # -- start ----------------------------------------------------------------------

    def run(self) -> int:
        config = self._read_config()
        if config is None:
            return 0  # the relay went away before saying anything
        self.log = LogWriter(config, self.reporter.note)
        try:
            self.log.open()
        except DatabaseError as exc:
            self.reporter.send(Report.FATAL, str(exc))
            return 1
        if not self.log.db_gone:
            self.follower = ProjectionFollower(
                config.db_path,
                warn=self.reporter.note,
                on_complete=self._complete,
                project=config.project,
            )
            self.follower.start()
        self.next_record = config.first_record
        self.reporter.send(Report.READY, os.getpid(), self.log.spill.path)
        clean = self._serve()
        self._finish(clean)
        return 0

    def _read_config(self) -> WriterConfig | None:
        while True:
            data = os.read(self.records_fd, READ_SIZE)
            if not data:
                return None
            records = self.reader.feed(data)
            if records:
                config = records[0]
                assert isinstance(config, WriterConfig), "the hand-off starts with its config"
                self._pending_records = records[1:]
                return config

    # -- the loop -------------------------------------------------------------------

    def _serve(self) -> bool:
        """Take records until the stream ends; True if it ended with a close record."""
        for record in self._pending_records:
            self._take(record)
        os.set_blocking(self.records_fd, False)
        while not self.closing:
            readable, _, _ = select.select([self.records_fd], [], [], self._timeout())
            drained = 0
            if readable:
                drained = self._drain()
                if drained < 0:
                    return False
            if self._flush_now():
                self._flush()
            elif 0 < drained < TRICKLE_BYTES:
                time.sleep(READ_PAUSE_S)
        return True

    def _drain(self) -> int:
        """Read what the pipe holds, until the buffer is full: bytes read, -1 at the end.

        Reading is cheap next to writing rows, so a writer that falls behind holds the
        backlog itself (and spills it past the bound) rather than leaving it to the relay.
        """
        log = self.log
        total = 0
        while True:
            try:
                data = os.read(self.records_fd, READ_SIZE)
            except BlockingIOError:
                return total
            if not data:
                return -1
            total += len(data)
            for record in self.reader.feed(data):
                self._take(record)
            if (
                len(data) < READ_SIZE
                or self.syncs
                or self.closing
                or log.pending_bytes > log.config.max_pending_bytes
            ):
                return total

    def _take(self, record: Record) -> None:
        self.next_record += 1
        if type(record) is FrameRecord:
            self.log.add(
                self.sessions[record.key],
                record.seq,
                record.t_ns,
                record.wall_ns,
                record.direction,
                record.frame,
            )
            if self.flush_due is None:
                self.flush_due = time.monotonic() + self.log.config.flush_interval
        elif isinstance(record, SessionRecord):
            session = self.sessions.get(record.key)
            if session is None:
                self.sessions[record.key] = record.session
                self._new_keys.append(record.key)
                self.log.add_session(record.session)
            else:
                session.adopt(record.session)
                self.log.session_changed(session)
            if self.flush_due is None:
                self.flush_due = time.monotonic() + self.log.config.flush_interval
        elif isinstance(record, MarkRecord):
            self.behind_s = (time.monotonic_ns() - record.monotonic_ns) / 1e9
            self.relay_holds = record.held_bytes
        elif isinstance(record, SyncRecord):
            self.syncs.append(record)
        elif isinstance(record, CloseRecord):
            self.closing = True

    def _timeout(self) -> float | None:
        if self.syncs:
            return 0.0
        if not self.log.has_work or self.flush_due is None:
            return None  # nothing to write: wait for the relay
        due = self.flush_due
        if self.log.failing_since is not None:
            due = max(due, self.log.retry_at)
        return max(0.0, due - time.monotonic())

    def _flush_now(self) -> bool:
        log = self.log
        if self.syncs or log.pending_bytes > log.config.max_pending_bytes:
            return True
        if not log.has_work:
            return False
        if log.failing_since is not None:
            return time.monotonic() >= log.retry_at
        return (
            time.monotonic() >= (self.flush_due or 0)
            or len(log.pending) >= DEFAULT_MAX_BATCH
            or log.pending_bytes >= min(BATCH_BYTES, log.config.max_pending_bytes)
        )

    def _flush(self) -> None:
        log = self.log
        behind = self._behind()
        if behind is not None:
            # Straight to the spill file, which costs a fraction of a row, so that what
            # the relay holds for this writer stays bounded too.
            if behind:
                self._behind_note.add(1, lambda _: behind)
            log.spill_pending()
            outcome, ended = SPILLED, list[LiveSession]()
        else:
            outcome, ended = log.flush()
        self.flush_due = None
        self._after_write(outcome, ended)

    def _behind(self) -> str | None:
        """Why the pending events should go to the spill file now ("" needs no note)."""
        log = self.log
        if log.pending_bytes > log.config.max_pending_bytes:
            return ""  # past --buffer-mib: the spill notice says enough
        if log.failing_since is not None:
            return None  # held in memory up to the buffer, for the database to come back
        if self.behind_s > MAX_BEHIND_S:
            return (
                f"the writer process is {self.behind_s:.0f} s behind the relay (the machine "
                "is busy); spilling until it catches up"
            )
        if self.relay_holds > MAX_RELAY_HOLD_BYTES and self.behind_s > MIN_BEHIND_S:
            return (
                f"the writer process is {self.relay_holds // 2**20} MiB behind the relay (the "
                "machine is busy); spilling until it catches up"
            )
        return None

    def _after_write(self, outcome: Outcome, ended: list[LiveSession]) -> None:
        # Ids and counters first: once a session's records are reported kept, the relay
        # may forget it.
        send = self.reporter.send
        if outcome == COMMITTED:
            self._report_ids()
        syncs, self.syncs = self.syncs, []
        now = time.monotonic()
        if syncs or ended or now - self._counters_at >= COUNTERS_INTERVAL_S:
            self._counters_at = now
            self._report_counters()
        self._report_spill()
        if outcome != HELD:
            send(Report.KEPT, self.next_record)
        if outcome == COMMITTED and self.follower is not None:
            self.follower.notify()
            self.follower.ended(s.db_id for s in ended if s.db_id is not None)
        for sync in syncs:
            ok = outcome == COMMITTED
            if ok and sync.projections and self.follower is not None and self.follower.project:
                self.follower.after_pass(partial(self._projected, sync.token))
            else:
                send(Report.SYNCED, sync.token, ok)

    def _projected(self, token: int, done: bool) -> None:
        """A projection pass asked for by a sync is over (on the follower's thread)."""
        self.reporter.send(Report.STATS, self._stats())
        self.reporter.send(Report.SYNCED, token, done)

    def _stats(self) -> dict[str, object]:
        follower = self.follower
        return {
            "events_written": self.log.events_written,
            "cpu_s": time.process_time(),
            "events_folded": follower.events_folded if follower else 0,
            "reloads": follower.reloads if follower else 0,
            "follower_cpu_s": follower.cpu_s if follower else 0.0,
        }

    def _report_ids(self) -> None:
        ids = {k: self.sessions[k].db_id for k in self._new_keys}
        done = {k: db_id for k, db_id in ids.items() if db_id is not None}
        if done:
            for key, db_id in done.items():
                self.keys[db_id] = key
            self._new_keys = [k for k in self._new_keys if k not in done]
            self.reporter.send(Report.IDS, [[k, db_id] for k, db_id in done.items()])

    def _report_counters(self) -> None:
        changed = []
        for key, session in self.sessions.items():
            counters = session.live_counters()
            if self._counters_sent.get(key) != counters:
                self._counters_sent[key] = counters
                changed.append([key, counters])
        if changed:
            self.reporter.send(Report.COUNTERS, changed)
        # Sessions that ended and were written need no more counting.
        written = self.log.open_sessions
        for key, session in list(self.sessions.items()):
            if session.ended and session not in written and key not in self._new_keys:
                del self.sessions[key]
                self._counters_sent.pop(key, None)

    def _report_spill(self) -> None:
        spill = self.log.spill
        now = (spill.events_written, spill.events_dropped)
        if now != self._spill_sent:
            written, dropped = now[0] - self._spill_sent[0], now[1] - self._spill_sent[1]
            self._spill_sent = now
            self.reporter.send(Report.SPILLED, written, dropped, spill.path)

    def _complete(self, db_id: int) -> None:
        key = self.keys.pop(db_id, None)
        if key is not None:
            self.reporter.send(Report.COMPLETE, key)

    # -- the end --------------------------------------------------------------------

    def _finish(self, clean: bool) -> None:
        outcome, ended = self.log.finish()
        self._after_write(outcome, ended)
        if not clean:
            # The relay is gone: with our copy of its lock closed nobody holds it, and
            # the sessions left open are marked as cut, here and now.
            with contextlib.suppress(OSError):
                os.close(self.lock_fd)
            conn = self.log.connection
            if conn is not None:
                with contextlib.suppress(Exception):
                    mark_interrupted(conn, self.log.db_path)
        follower = self.follower
        if follower is not None:
            follower.stop()  # a last catch-up: the views are complete
        ok = self.log.close()
        self.reporter.send(Report.CLOSED, {**self._stats(), "ok": ok})


def main(argv: list[str]) -> int:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.nice(WRITER_NICE)
    records_fd, reports_fd, lock_fd = (int(arg) for arg in argv)
    reporter = Reporter(reports_fd)
    try:
        return WriterProcess(records_fd, reporter, lock_fd).run()
    except Exception as exc:  # a bug: say so in one line; the relay starts another writer
        reporter.note(f"the writer process failed: {type(exc).__name__}: {exc}")
        if os.environ.get("RTREC_DEBUG"):
            raise
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
