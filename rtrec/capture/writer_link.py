"""Recording, as the relay sees it: frames handed to a writer process, which it keeps alive.

How rtrec records, and the one concurrency story it has:

- **The relay process** runs one asyncio event loop (uvloop where it is installed) and
  nothing else of rtrec's: no threads, no SQLite.  For each frame, `append` stamps
  the session's next sequence number and the times and puts a record (a fixed
  header and the frame's bytes, rtrec/store/handoff.py) on the outbox: no I/O, no
  await.  At the end of the loop turn that added records, the outbox goes into the
  writer's pipe with one `writev`; if the pipe is full, when the loop sees it
  writable.  A frame stays in memory until the writer reports it kept.  The one
  exception to "nothing else": with `record --otel`, a thread (rtrec/otel/worker.py,
  at nice 10) reads each ended session back and sends its trace; it never touches a
  frame of a live call.
- **The writer process** (rtrec/store/writer_process.py) reads the pipe on its main
  thread, turns frames into rows (envelope, audio compaction and its exactness
  proof, secret scrubbing), commits a batch every 50 ms with sqlite3, and writes the
  spill file when the database refuses; a second thread keeps the projections
  current.  It runs at nice 5: where the machine is busy, relaying comes first, and a
  writer left seconds behind spills until it catches up.  It
  reports back through a second pipe: which records are kept, session ids, the status
  line's live counters, notes, and sessions whose projection is complete.  The relay
  reads those reports as the loop sees them arrive.

What happens when something goes wrong:

- *The writer dies* (a crash, kill -9): its reports pipe ends.  The relay starts a new
  writer at once and hands it the metadata of every session not yet finished and
  every frame not yet reported kept.  (session, seq) is unique in the log, so a
  frame the dead writer had committed without saying so is written once.
- *The writer is slow* (the database is locked, the disk is full): it holds frames in
  memory up to `--buffer-mib`, then writes them to the spill file and reports them
  kept, so the relay's own hold stays bounded too.
- *The writer hangs* (it reports nothing while more than twice that bound waits): the
  relay kills it and starts another.  Only past four times the bound, with no
  writer taking frames at all, are frames dropped, and loudly (`LOST`).
- *The relay dies* (kill -9): the writer's records pipe ends; it writes what reached
  it, and marks the sessions it was writing as interrupted.  Both dying lose at most
  the writer's last flush interval; the next open marks the sessions interrupted.
- *Shutdown* (Ctrl-C, SIGTERM): the relay ends every session, sends a close record and
  waits until the writer has written everything, run its last projection pass and
  exited.  The writer ignores the signals itself: Ctrl-C reaches the whole process
  group, and draining is the relay's call.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from rtrec.capture.writer_child import PIPE_BYTES, Reaper, WriterChild
from rtrec.errors import DatabaseError
from rtrec.store.handoff import (
    DEFAULT_FLUSH_INTERVAL,
    DEFAULT_MAX_PENDING_BYTES,
    DEFAULT_SPILL_MAX_BYTES,
    DEFAULT_SPILL_RESERVE_BYTES,
    Report,
    ReportReader,
    WriterConfig,
    close_record,
    config_record,
    frame_record,
    mark_record,
    session_record,
    sync_record,
)
from rtrec.store.liveness import RecorderLock
from rtrec.store.session import LiveSession

START_TIMEOUT_S = 60.0
HANG_TIMEOUT_S = 5.0
WATCH_INTERVAL_S = 0.5
RESTART_PAUSE_S = 1.0  # between restarts of a writer that keeps dying
LOST_NOTE_INTERVAL_S = 10.0
MARK_INTERVAL_NS = 100_000_000


class WriterLink:
    """`append()` frames from the event loop; a writer process records them.

    Start with `await start()` (raises DatabaseError if the database cannot be used)
    and end with `await close()`.
    """

    def __init__(
        self,
        db_path: str,
        *,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        max_pending_bytes: int = DEFAULT_MAX_PENDING_BYTES,
        spill_max_bytes: int = DEFAULT_SPILL_MAX_BYTES,
        spill_reserve_bytes: int = DEFAULT_SPILL_RESERVE_BYTES,
        project: bool = True,
        warn: Callable[[str], None] | None = None,
        on_session_complete: Callable[[LiveSession], None] | None = None,
        hang_timeout: float = HANG_TIMEOUT_S,
    ) -> None:
        self.db_path = db_path
        self.flush_interval = flush_interval
        self.max_pending_bytes = max_pending_bytes
        self.spill_max_bytes = spill_max_bytes
        self.spill_reserve_bytes = spill_reserve_bytes
        self.project = project
        self._warn = warn or (lambda message: print(f"rtrec: {message}", file=sys.stderr))
        self._on_session_complete = on_session_complete
        self.hang_timeout = hang_timeout
        self._hung_over = 2 * max_pending_bytes + PIPE_BYTES
        self._drop_over = 4 * max_pending_bytes + 4 * PIPE_BYTES
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: RecorderLock | None = None
        self._child: WriterChild | None = None  # the writer taking frames
        self._reaper: Reaper | None = None
        self._starting = False
        self._reports = ReportReader()
        self._next_record = 0
        self._next_mark_ns = 0
        self._fresh: list[tuple[int, int, int, int, str, str | bytes]] = []  # this turn's
        self._outbox: list[bytes | memoryview] = []  # chunks not yet in the pipe
        self._write_armed = False
        self._waiting_writable = False
        # Frames not yet reported kept: (record number, header, payload).
        self._retained: collections.deque[tuple[int, bytes, bytes]] = collections.deque()
        self._retained_bytes = 0
        self._next_key = 1
        self._keys: dict[LiveSession, int] = {}
        self._sessions: dict[int, LiveSession] = {}  # not finished: wanted by a new writer
        self._last_record: dict[int, int] = {}  # ended session → its last record's number
        self._completing: dict[int, LiveSession] = {}  # ended, projection not complete yet
        self._syncs: dict[int, tuple[bool, asyncio.Future[bool]]] = {}
        self._next_token = 1
        self._ready: asyncio.Future[int] | None = None
        self._closed: asyncio.Future[None] | None = None
        self._closing = False
        self._done = False
        self._progress_at = 0.0
        self._started_at = 0.0
        self._restarts = 0
        self._watch_handle: asyncio.TimerHandle | None = None
        self._lost_owed = 0
        self._lost_said_at = -LOST_NOTE_INTERVAL_S
        self.pid: int | None = None
        self.events_spilled = 0
        self.events_dropped = 0
        self.spill_path = ""
        self.stats: dict[str, Any] = {}

    @property
    def held_bytes(self) -> int:
        """Bytes of frames held until the writer reports them kept."""
        return self._retained_bytes

    @property
    def recorder_id(self) -> str | None:
        return self._lock.recorder_id if self._lock is not None else None

    # -- start and stop -------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._reaper = Reaper(self._loop, self._warn)
        try:
            self._lock = RecorderLock(self.db_path)
        except OSError as exc:
            raise DatabaseError(f"cannot create database {self.db_path}: {exc.strerror}") from exc
        self._starting = True
        try:
            self._spawn(restart=False)
            assert self._ready is not None
            self.pid = await asyncio.wait_for(self._ready, START_TIMEOUT_S)
        except BaseException:
            child = self._child
            self._discard_child()
            if child is not None:
                try:
                    child.process.wait(10)  # it exits on its own once its pipes are gone
                except subprocess.TimeoutExpired:
                    child.process.kill()
                    child.process.wait()
            self._lock.release()
            self._lock = None
            raise
        finally:
            self._starting = False
        self._watch_handle = self._loop.call_later(WATCH_INTERVAL_S, self._watch)

    async def close(self) -> bool:
        """Hand over what is left and wait until the writer has written it and exited.

        False if any event could not be kept, neither in the database nor the spill file.
        """
        if self._loop is None or self._lock is None:
            return True
        self._closing = True
        if self._child is not None:
            self._put(close_record())
        assert self._closed is not None
        restarts = self._restarts
        while not self._closed.done():
            closed = self._closed
            await asyncio.wait({closed}, timeout=1.0)
            if self._child is None and self._restarts - restarts > 5 and not closed.done():
                break  # no writer will start: what is retained is lost
        if self._watch_handle is not None:
            self._watch_handle.cancel()
        assert self._reaper is not None
        await self._reaper.collect_all()
        self._discard_child()
        if self._retained:
            self._warn(f"LOST {len(self._retained)} events: no writer process could take them")
            self.events_dropped += len(self._retained)
            self._retained.clear()
        self._flush_lost_note()
        for _, future in self._syncs.values():
            if not future.done():
                future.set_result(False)
        self._done = True
        self._lock.release()
        return self.events_dropped == 0 and bool(self.stats.get("ok", True))

    # -- called by the relay (hot path: no awaits, no I/O) --------------------------

    def open_session(self, session: LiveSession) -> None:
        key = self._next_key
        self._next_key += 1
        session.recorder = self.recorder_id
        self._keys[session] = key
        self._sessions[key] = session
        self._put(session_record(key, session))

    def update_session(self, session: LiveSession) -> None:
        key = self._keys.get(session)
        if key is None:
            return
        self._put(session_record(key, session))
        if session.ended:
            self._last_record[key] = self._next_record - 1

    def append(self, session: LiveSession, direction: str, frame: str | bytes) -> None:
        """Append a frame that has just arrived."""
        now = time.monotonic_ns()
        if now >= self._next_mark_ns:
            self._next_mark_ns = now + MARK_INTERVAL_NS
            self._put(mark_record(now, self._retained_bytes))
        self.append_at(session, direction, frame, now - session.t0_ns, time.time_ns())

    def append_at(
        self, session: LiveSession, direction: str, frame: str | bytes, t_ns: int, wall_ns: int
    ) -> None:
        """Append with a given time (imports, replays of recorded timelines)."""
        seq = session.next_seq
        session.next_seq = seq + 1
        if self._retained_bytes > self._drop_over:
            self._lost(1)
            return
        # Made into a record at the end of the loop turn, after the frame is sent on.
        self._fresh.append((self._keys[session], seq, t_ns, wall_ns, direction, frame))
        if not self._write_armed:
            assert self._loop is not None  # set by start(), before any session opens
            self._write_armed = True
            self._loop.call_soon(self._write_outbox)

    def _take_fresh(self) -> None:
        """Turn the frames appended this turn into records, in order, and hold them."""
        fresh, self._fresh = self._fresh, []
        number = self._next_record
        retained, outbox = self._retained, self._outbox
        held = 0
        for item in fresh:
            header, payload = frame_record(*item)
            retained.append((number, header, payload))
            outbox.append(header)
            outbox.append(payload)
            held += len(payload)
            number += 1
        self._next_record = number
        self._retained_bytes += held

    async def flush(self, projections: bool = False) -> bool:
        """Wait until everything appended so far is in the database (and, with
        `projections`, in the views); False if the database refused it for now."""
        assert self._loop is not None
        token = self._next_token
        self._next_token += 1
        future: asyncio.Future[bool] = self._loop.create_future()
        self._syncs[token] = (projections, future)
        self._put(sync_record(token, projections))
        return await future

    # -- the pipe to the writer -----------------------------------------------------

    def _put(self, record: bytes) -> None:
        if self._fresh:
            self._take_fresh()  # the frames before it go first
        self._next_record += 1
        self._outbox.append(record)
        if not self._write_armed:
            self._write_armed = True
            assert self._loop is not None
            self._loop.call_soon(self._write_outbox)

    def _write_outbox(self) -> None:
        self._write_armed = False
        if self._fresh:
            self._take_fresh()
        child = self._child
        if child is None or self._waiting_writable:
            return
        if not child.write(self._outbox) and self._outbox:
            assert self._loop is not None
            self._waiting_writable = True
            self._loop.add_writer(child.records_fd, self._writable)

    def _writable(self) -> None:
        assert self._loop is not None and self._child is not None
        self._loop.remove_writer(self._child.records_fd)
        self._waiting_writable = False
        self._write_outbox()

    # -- the writer process -----------------------------------------------------------

    def _spawn(self, *, restart: bool) -> None:
        assert self._loop is not None and self._lock is not None and self._reaper is not None
        self._child = child = WriterChild.start(self._lock.fileno())
        self._reaper.add(child.process)
        self._reports = ReportReader()
        self._ready = self._loop.create_future()
        self._ready.add_done_callback(_ignore_result)
        if self._closed is None or self._closed.done():
            self._closed = self._loop.create_future()
        self._started_at = self._progress_at = time.monotonic()
        self._loop.add_reader(child.reports_fd, self._read_reports)
        config = WriterConfig(
            db_path=self.db_path,
            recorder_id=self._lock.recorder_id,
            first_record=self._next_record,
            flush_interval=self.flush_interval,
            max_pending_bytes=self.max_pending_bytes,
            spill_max_bytes=self.spill_max_bytes,
            spill_reserve_bytes=self.spill_reserve_bytes,
            project=self.project,
            restart=restart,
        )
        self._outbox = [config_record(config)]
        if restart:
            self._hand_over()
        self._write_armed = True
        self._loop.call_soon(self._write_outbox)

    def _hand_over(self) -> None:
        """What a new writer needs from where the dead one stopped."""
        fresh, self._fresh = self._fresh, []  # not records yet: they follow the rest
        for key, session in {**self._completing, **self._sessions}.items():
            self._put(session_record(key, session))
            if key in self._last_record:
                self._last_record[key] = self._next_record - 1
        retained, self._retained = self._retained, collections.deque()
        for _, header, payload in retained:
            self._retained.append((self._next_record, header, payload))
            self._next_record += 1
            self._outbox.append(header)
            self._outbox.append(payload)
        self._fresh = fresh
        self._take_fresh()
        for token, (projections, future) in self._syncs.items():
            if not future.done():
                self._put(sync_record(token, projections))
        if self._closing:
            self._put(close_record())

    def _read_reports(self) -> None:
        assert self._child is not None
        data = self._child.read()
        if data is None:
            return
        if not data:
            self._writer_ended()
            return
        for message in self._reports.feed(data):
            self._on_report(message)

    def _on_report(self, message: list[Any]) -> None:
        name = message[0]
        self._progress_at = time.monotonic()
        if name == Report.KEPT:
            self._kept(message[1])
        elif name == Report.COUNTERS:
            for key, counters in message[1]:
                session = self._sessions.get(key) or self._completing.get(key)
                if session is not None:
                    for field, value in counters.items():
                        setattr(session, field, value)
        elif name == Report.IDS:
            for key, db_id in message[1]:
                session = self._sessions.get(key) or self._completing.get(key)
                if session is not None:
                    session.db_id = db_id
        elif name == Report.SYNCED:
            _, future = self._syncs.pop(message[1], (False, None))
            if future is not None and not future.done():
                future.set_result(bool(message[2]))
        elif name == Report.COMPLETE:
            session = self._completing.pop(message[1], None)
            if session is not None and self._on_session_complete is not None:
                self._on_session_complete(session)
        elif name == Report.NOTE:
            self._warn(message[1])
        elif name == Report.SPILLED:
            self.events_spilled += message[1]
            self.events_dropped += message[2]
        elif name == Report.READY:
            if self._ready is not None and not self._ready.done():
                self._ready.set_result(message[1])
            self.pid, self.spill_path = message[1], message[2]
        elif name == Report.FATAL:
            if self._ready is not None and not self._ready.done():
                self._ready.set_exception(DatabaseError(message[1]))
            else:
                self._warn(message[1])
        elif name == Report.STATS:
            self.stats = message[1]
        elif name == Report.CLOSED:
            self.stats = message[1]
            if self._closed is not None and not self._closed.done():
                self._closed.set_result(None)

    def _kept(self, through: int) -> None:
        retained = self._retained
        while retained and retained[0][0] < through:
            self._retained_bytes -= len(retained.popleft()[2])
        for key, last in list(self._last_record.items()):
            if last < through:
                del self._last_record[key]
                session = self._sessions.pop(key)
                self._keys.pop(session, None)
                if self._on_session_complete is not None:
                    self._completing[key] = session

    def _writer_ended(self) -> None:
        """The reports pipe ended: the writer exited, or died."""
        assert self._loop is not None and self._reaper is not None
        child = self._child
        self._discard_child()
        if self._starting:
            if self._ready is not None and not self._ready.done():
                self._ready.set_exception(DatabaseError("the writer process could not start"))
            return
        if self._closed is not None and self._closed.done():
            self._reaper.collect()
            return  # its work done, it exited
        if child is not None:
            self._reaper.died(child.process, len(self._retained))
        self._reaper.collect()
        pause = RESTART_PAUSE_S if time.monotonic() - self._started_at < RESTART_PAUSE_S else 0.0
        self._loop.call_later(pause, self._restart)

    def _restart(self) -> None:
        if self._done:
            return
        self._restarts += 1
        try:
            self._spawn(restart=True)
        except DatabaseError as exc:
            self._warn(f"{exc}; trying again")
            assert self._loop is not None
            self._started_at = time.monotonic()
            self._loop.call_later(RESTART_PAUSE_S, self._restart)

    def _discard_child(self) -> None:
        """Stop watching the writer's pipes and close them (its records not yet in the
        pipe go with them: what a writer needs is handed over again)."""
        child, self._child = self._child, None
        if child is not None:
            loop = self._loop
            if loop is not None:
                loop.remove_reader(child.reports_fd)
                if self._waiting_writable:
                    loop.remove_writer(child.records_fd)
            child.close()
        self._waiting_writable = False
        self._outbox = []

    def _watch(self) -> None:
        """Every half second: is the writer hung?"""
        assert self._loop is not None
        child = self._child
        if (
            child is not None
            and self._retained_bytes > self._hung_over
            and time.monotonic() - self._progress_at > self.hang_timeout
        ):
            self._warn(
                f"the writer process has written nothing for {self.hang_timeout:g} s with "
                f"{self._retained_bytes // 2**20} MiB waiting; stopping it"
            )
            with contextlib.suppress(OSError):
                child.process.send_signal(signal.SIGKILL)
            self._progress_at = time.monotonic()
        self._flush_lost_note()
        self._watch_handle = self._loop.call_later(WATCH_INTERVAL_S, self._watch)

    def _lost(self, count: int) -> None:
        self.events_dropped += count
        self._lost_owed += count
        if time.monotonic() - self._lost_said_at >= LOST_NOTE_INTERVAL_S:
            self._flush_lost_note()

    def _flush_lost_note(self) -> None:
        if self._lost_owed:
            self._warn(
                f"LOST {self._lost_owed} events: the writer process takes no frames and "
                f"{self._retained_bytes // 2**20} MiB are waiting for it"
            )
            self._lost_owed = 0
            self._lost_said_at = time.monotonic()


def _ignore_result(future: asyncio.Future[int]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved: a writer that failed to start is reported elsewhere
