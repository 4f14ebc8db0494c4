"""Reading a database exactly as it is, writing nothing: what exporters read through.

A reading command must not change the file, nor create any beside it.  SQLite's
read-only mode still creates the `-wal` and `-shm` files of a WAL database that
nobody has open; such a database (no `-wal`, no `-shm`: nobody is writing it) is read
as immutable instead, and the file is checked unchanged after each session's read.
If a writer opened it meanwhile, that read raises DatabaseChanged and is done again,
now through the files the writer created.

The views read projection tables.  A session whose projection is missing, behind its
events or from another projector version is folded here, in memory, into TEMP copies
of those tables and views, so its rows are the ones a catch-up would write, and the
database is never written.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rtrec.errors import DatabaseError, NoDatabase
from rtrec.store import projection
from rtrec.store.connections import closed_on_failure
from rtrec.store.liveness import recorder_running
from rtrec.store.migrate import applied_version, check_not_newer, latest_version
from rtrec.store.projection_rows import PER_SESSION_TABLES, PROJECTOR_VERSION
from rtrec.store.reading import connect_in_mode, explain, reader_mode

# The views an exporter reads, in the order of the contract.
VIEWS = (
    "sessions",
    "events",
    "items",
    "responses",
    "turns",
    "session_updates",
    "errors",
    "tool_calls",
)
# The one view that reads no projection table.
_LOG_VIEW = "events"

# main. throughout: once the in-memory fold's TEMP tables exist, unqualified names
# would find those first.
_SELECT_SESSIONS = (
    "SELECT s.id, s.uuid, s.started_at, s.ended_ns, s.end_reason, s.recorder, "
    "(SELECT max(e.seq) FROM main.event e WHERE e.session_id = s.id), p.version, p.last_seq "
    "FROM main.session s LEFT JOIN main.projected_session p ON p.session_id = s.id"
)


class DatabaseChanged(Exception):
    """The database file changed under an immutable read; read that session again."""


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """What says whether a session changed, and whether it is still being recorded."""

    id: int
    uuid: str
    started_at: str
    ended_ns: int | None
    end_reason: str | None
    last_seq: int  # -1 with no events
    projected: bool  # the stored projection covers every event, at this projector version
    recording: bool  # open, and its recorder process is running

    @property
    def date(self) -> str:
        """The UTC date it started (YYYY-MM-DD)."""
        return self.started_at[:10]

    def fingerprint(self) -> dict[str, object]:
        """Equal fingerprints: the session's rows in every view are the same."""
        return {
            "last_seq": self.last_seq,
            "ended_ns": self.ended_ns,
            "end_reason": self.end_reason,
            "projector": PROJECTOR_VERSION,
        }


class LogSnapshot:
    """A database opened for reading only, sessions read one consistent snapshot each."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        if os.path.isdir(self.path):
            raise DatabaseError(f"{self.path} is a directory, not a database file")
        if not os.path.exists(self.path):
            raise NoDatabase(self.path)
        self._conn: sqlite3.Connection | None = None
        self._immutable_stat: tuple[int, int, int] | None = None
        self._scratch = False
        self.schema_version = 0
        self.reopen()

    @property
    def conn(self) -> sqlite3.Connection:
        assert self._conn is not None
        return self._conn

    def reopen(self) -> None:
        self.close()
        # Never read-write: an exporter's reads are long, and the file is left exactly
        # as it was (immutable when nobody is writing it, checked after each read).
        mode = reader_mode(self.path, short_lived=True)
        self._immutable_stat = self._stat() if mode == "immutable" else None
        conn = connect_in_mode(self.path, mode)
        with closed_on_failure(conn, self.path, explain):
            try:
                version = applied_version(conn)
            except DatabaseError as exc:
                raise DatabaseError(f"{self.path}: {exc}") from exc
            check_not_newer(self.path, version)
            if version < latest_version():
                raise DatabaseError(
                    f"{self.path} is from an older rtrec (schema {version}, this rtrec's is "
                    f"{latest_version()}); open it once with a command that writes, such as "
                    "`rtrec reproject`, to bring it up to date"
                )
        self._conn = conn
        self._scratch = False
        self.schema_version = version

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _stat(self) -> tuple[int, int, int]:
        st = os.stat(self.path)
        return st.st_ino, st.st_size, st.st_mtime_ns

    def check_unchanged(self) -> None:
        """Raise DatabaseChanged if an immutable read may have seen a file being written."""
        if self._immutable_stat is None:
            return
        if self._stat() != self._immutable_stat or any(
            os.path.exists(self.path + end) for end in ("-wal", "-shm")
        ):
            raise DatabaseChanged(self.path)

    def view_columns(self, view: str) -> list[tuple[str, str]]:
        """(name, declared type) of each column of a view, in order ('' for expressions)."""
        rows = self.conn.execute(f"PRAGMA main.table_info({view})").fetchall()
        if not rows:
            raise DatabaseError(f"{self.path} has no {view} view")
        return [(row[1], row[2] or "") for row in rows]

    def sessions(self) -> list[SessionInfo]:
        """Every session, in id order."""
        rows = self.conn.execute(_SELECT_SESSIONS + " ORDER BY s.id").fetchall()
        return [self._info(row) for row in rows]

    def _info(self, row: tuple[Any, ...]) -> SessionInfo:
        """A row of _SELECT_SESSIONS, as SQLite gives it (integers, text or NULL)."""
        sid, uuid, started_at, ended_ns, end_reason, recorder, last_seq, version, done = row
        last = -1 if last_seq is None else int(last_seq)
        projected = last < 0 or (
            version == PROJECTOR_VERSION and done is not None and int(done) >= last
        )
        recording = ended_ns is None and recorder_running(self.path, recorder)
        return SessionInfo(
            int(sid),
            str(uuid),
            str(started_at),
            None if ended_ns is None else int(ended_ns),
            None if end_reason is None else str(end_reason),
            last,
            projected,
            recording,
        )

    @contextlib.contextmanager
    def session(self, session_id: int) -> Iterator[SessionRead]:
        """One snapshot of a session's rows in every view; DatabaseChanged at the end if
        the file changed under an immutable read (discard what was read, reopen, retry)."""
        conn = self.conn
        tracked: projection.Tracked | None = None
        while True:
            conn.execute("BEGIN")
            row = conn.execute(_SELECT_SESSIONS + " WHERE s.id = ?", (session_id,)).fetchone()
            if row is None:
                conn.execute("COMMIT")
                raise DatabaseError(f"{self.path} has no session {session_id}")
            info = self._info(row)
            if info.projected or tracked is not None:
                break
            # A fresh projector for the in-memory fold, made outside the snapshot (loading
            # one takes its own), from the empty TEMP tables.
            conn.execute("COMMIT")
            tracked = self._fresh_projector(session_id)
        try:
            schema = "main"
            if not info.projected:
                assert tracked is not None
                self._fold_into_scratch(tracked)
                schema = "temp"
            yield SessionRead(conn, info, schema)
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("COMMIT")
            if self._scratch:
                for table in PER_SESSION_TABLES:
                    conn.execute(f"DELETE FROM temp.{table}")
        self.check_unchanged()

    def _fresh_projector(self, session_id: int) -> projection.Tracked:
        if not self._scratch:
            self._create_scratch()
        tracked = projection.load(self.conn, session_id)  # from TEMP: nothing there yet
        assert tracked.stored_seq is None
        return tracked

    def _fold_into_scratch(self, tracked: projection.Tracked) -> None:
        while True:
            folded = projection.fold_new(self.conn, tracked)
            projection.write_rows(self.conn, tracked)
            if folded < projection.FLUSH_EVERY:
                return

    def _create_scratch(self) -> None:
        """TEMP copies of the projection tables, and of the views that read them.

        Unqualified names resolve to TEMP first, so the copied views (and the
        projection's own INSERTs) use the copies, while `event` and `session` stay main's.
        """
        conn = self.conn
        tables = ", ".join("?" for _ in PER_SESSION_TABLES)
        views = ", ".join("?" for _ in VIEWS)
        rows = conn.execute(
            "SELECT type, name, sql FROM main.sqlite_schema WHERE sql IS NOT NULL AND "
            f"(type = 'table' AND name IN ({tables}) OR type = 'view' AND name IN ({views}))",
            (*PER_SESSION_TABLES, *VIEWS),
        ).fetchall()
        for kind, name, sql in sorted(rows, key=lambda r: r[0] != "table"):
            if name == _LOG_VIEW:
                continue
            keyword = "TABLE" if kind == "table" else "VIEW"
            temp_sql = re.sub(rf"^\s*CREATE\s+{keyword}\b", f"CREATE TEMP {keyword}", sql, count=1)
            conn.execute(temp_sql)
        self._scratch = True


class SessionRead:
    """A session's rows, view by view, within one snapshot."""

    def __init__(self, conn: sqlite3.Connection, info: SessionInfo, schema: str) -> None:
        self.conn = conn
        self.info = info
        self._schema = schema  # main, or temp for a session folded in memory

    def rows(self, view: str, page_rows: int) -> Iterator[list[tuple[object, ...]]]:
        """The view's rows for this session, in pages of at most `page_rows`."""
        schema = "main" if view == _LOG_VIEW else self._schema
        cursor = self.conn.execute(
            f"SELECT * FROM {schema}.{view} WHERE session_id = ?", (self.info.id,)
        )
        while True:
            page = cursor.fetchmany(page_rows)
            if not page:
                return
            yield page

    def event_rows(
        self, page_rows: int, *, with_audio: bool = False
    ) -> Iterator[list[tuple[object, ...]]]:
        """The events view's rows in seq order; with `with_audio`, each followed by the
        audio the log holds for it (the decoded bytes of a compacted audio frame)."""
        if not with_audio:
            sql = "SELECT * FROM main.events WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?"
        else:
            sql = (
                "SELECT v.*, e.audio FROM main.events v JOIN main.event e "
                "ON e.session_id = v.session_id AND e.seq = v.seq "
                "WHERE v.session_id = ? AND v.seq > ? ORDER BY v.seq LIMIT ?"
            )
        last = -1
        while True:
            cursor = self.conn.execute(sql, (self.info.id, last, page_rows))
            seq_at = [d[0] for d in cursor.description].index("seq")
            page = cursor.fetchall()
            if not page:
                return
            last = page[-1][seq_at]
            yield page
            if len(page) < page_rows:
                return
