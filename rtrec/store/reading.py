"""Opening the event log to read it: nothing is created, changed or removed.

Every reading command (sessions, show, sql, diff, export, replay, export-wav) opens
the database here.  It must already be an rtrec database of this rtrec's schema: a
missing path, an empty file, a file that is not SQLite, a foreign SQLite database,
or one from an older or a newer rtrec is refused with one line, and left as it was.

How the file is opened depends on who else may be using it:

- writable, and no `-wal` file (nobody is writing it now): read-write, so that SQLite
  removes the `-wal` and `-shm` files it makes for the connection when it closes,
  leaving the directory as it was; an authorizer refuses every write to the file;
- read-only, and no `-wal` file: immutable (nobody is writing it, and nobody can);
- a `-wal` file exists (a recorder is writing, or one was killed): read-only.

Views that are behind the log (a call being recorded, a recorder killed before its
projections were written, rows from an older projector) and sessions whose recorder
died are brought current in memory (`current_views`): the projection tables and
`session` are copied into the connection's TEMP schema, which SQLite searches first,
and the views are re-created there over them.  The database is never written.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from rtrec.errors import DatabaseError, NoDatabase, OlderDatabase
from rtrec.store.connections import closed_on_failure
from rtrec.store.db import BUSY_TIMEOUT_MS, cut_sessions, is_writable
from rtrec.store.migrate import applied_version, check_not_newer, latest_version
from rtrec.store.projection import catch_up, sessions_behind
from rtrec.store.projection_rows import PER_SESSION_TABLES

# What the views read and current_views may have to change: copied into TEMP.
SHADOWED_TABLES = ("session", *PER_SESSION_TABLES)

_WRITES = {
    sqlite3.SQLITE_INSERT,
    sqlite3.SQLITE_UPDATE,
    sqlite3.SQLITE_DELETE,
    sqlite3.SQLITE_CREATE_INDEX,
    sqlite3.SQLITE_CREATE_TABLE,
    sqlite3.SQLITE_CREATE_TRIGGER,
    sqlite3.SQLITE_CREATE_VIEW,
    sqlite3.SQLITE_DROP_INDEX,
    sqlite3.SQLITE_DROP_TABLE,
    sqlite3.SQLITE_DROP_TRIGGER,
    sqlite3.SQLITE_DROP_VIEW,
    sqlite3.SQLITE_ALTER_TABLE,
    sqlite3.SQLITE_REINDEX,
    sqlite3.SQLITE_ANALYZE,
    sqlite3.SQLITE_CREATE_VTABLE,
    sqlite3.SQLITE_DROP_VTABLE,
}
# VACUUM and VACUUM INTO attach their target; nothing here attaches anything.
ATTACHES = {sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH}
# SQLite reports these while it sets up a pragma's table-valued function; they change
# nothing (the schema table cannot be written without writable_schema).
SCHEMA_TABLES = {"sqlite_master", "sqlite_temp_master", "sqlite_schema", "sqlite_temp_schema"}


def open_reader(path: str | os.PathLike[str], *, short_lived: bool = False) -> sqlite3.Connection:
    """A connection for reading an up-to-date rtrec database; DatabaseError if it is not one."""
    path = os.fspath(path)
    check_file(path)
    conn = connect_reader(path, short_lived=short_lived)
    with closed_on_failure(conn, path, explain):
        version = applied_version(conn, path)
        check_not_newer(path, version)
        if version == 0:
            raise DatabaseError(f"{path} is an empty SQLite database, not an rtrec database")
        if version < latest_version():
            raise OlderDatabase(path, version, latest_version())
    return conn


@contextlib.contextmanager
def reading(
    path: str | os.PathLike[str], *, short_lived: bool = False
) -> Iterator[sqlite3.Connection]:
    """`open_reader`'s connection for the block, closed however the block ends."""
    conn = open_reader(path, short_lived=short_lived)
    try:
        yield conn
    finally:
        conn.close()


def check_file(path: str) -> None:
    """DatabaseError unless `path` is a file that could hold a database.

    Only stat: the file is not opened here.  A process that has the database open
    through SQLite (a recorder whose trace worker reads it) would lose SQLite's locks
    on it when any other descriptor of the file is closed (POSIX locks are per
    process), and another process could then take its WAL for abandoned.  Whether
    the file is SQLite at all, SQLite itself says when it is read (see `explain`).
    """
    if not path:
        raise NoDatabase("")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise NoDatabase(path) from None
    except OSError as exc:
        raise DatabaseError(f"cannot read {path}: {exc.strerror}") from exc
    if stat.S_ISDIR(info.st_mode):
        raise DatabaseError(f"{path} is a directory, not a database file")
    if info.st_size == 0:
        raise DatabaseError(f"{path} is an empty file, not an rtrec database")
    if not os.access(path, os.R_OK):
        raise DatabaseError(f"cannot read {path}: permission denied")


def connect_reader(path: str, *, short_lived: bool = False) -> sqlite3.Connection:
    """A connection that does not write the database (see the module's docstring).

    `short_lived` (a server's connection per request) reads a database nobody is
    writing as immutable even where it could be opened read-write: SQLite then makes
    no `-wal`/`-shm` files beside it at all, not even while the connection is open.
    A recorder that starts meanwhile is seen by the next connection.
    """
    return connect_in_mode(path, reader_mode(path, short_lived=short_lived))


ReaderMode = Literal["rw", "ro", "immutable"]


def reader_mode(path: str, *, short_lived: bool = False) -> ReaderMode:
    """How `connect_reader` opens the file now (see the module's docstring)."""
    has_wal = os.path.exists(path + "-wal")
    if not has_wal and not short_lived and is_writable(path):
        return "rw"
    if not has_wal and not os.path.exists(path + "-shm"):
        return "immutable"
    return "ro"


def connect_in_mode(path: str, mode: ReaderMode) -> sqlite3.Connection:
    """A connection in this mode; read-write ones refuse every write to the file."""
    uri = Path(path).resolve().as_uri()
    uri += "?mode=ro&immutable=1" if mode == "immutable" else f"?mode={mode}"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # The TEMP schema of current_views lives in memory, not in a file in $TMPDIR.
        conn.execute("PRAGMA temp_store = MEMORY")
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot open database {path}: {exc}") from exc
    if mode == "rw":
        conn.set_authorizer(_no_writes_to_the_file)
    return conn


def explain(path: str, exc: sqlite3.DatabaseError) -> DatabaseError:
    message = str(exc)
    if "file is not a database" in message or "file is encrypted" in message:
        return DatabaseError(f"{path} is not an SQLite database")
    return DatabaseError(f"cannot read database {path}: {message}")


def _no_writes_to_the_file(
    action: int, arg1: str | None, arg2: str | None, db_name: str | None, source: str | None
) -> int:
    if action in ATTACHES:
        return sqlite3.SQLITE_DENY
    if action in _WRITES and db_name != "temp" and arg1 not in SCHEMA_TABLES:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


# -- views brought current in memory ---------------------------------------------------


def current_views(conn: sqlite3.Connection, session_id: int | None = None) -> str | None:
    """Make the views show everything in the log (for one session, or all); never writes.

    Returns a note for stderr when sessions that nobody is recording had to be folded
    here (they will be again next time, until a writing command stores them).
    """
    path = _main_path(conn)
    behind = sessions_behind(conn)
    cut = cut_sessions(conn, path, reclaim=False) if path else []
    if session_id is not None:
        behind = [s for s in behind if s == session_id]
        cut = [c for c in cut if c[2] == session_id]
    if not behind and not cut:
        return None
    stale = _not_live(conn, behind, {c[2] for c in cut})
    try:
        _shadow(conn)
        conn.execute("BEGIN")
        conn.executemany(_MARK_CUT_IN_TEMP, cut)
        conn.execute("COMMIT")
        catch_up(conn, behind, immediate=False)
    except sqlite3.Error as exc:
        return f"the views may be behind the event log ({exc})"
    if not stale:
        return None
    count = f"{len(stale)} session{'s' if len(stale) != 1 else ''}"
    return (
        f"note: the views of {count} ({', '.join(map(str, stale[:5]))}"
        f"{', …' if len(stale) > 5 else ''}) were behind the log and were rebuilt in memory; "
        "`rtrec reproject` stores them"
    )


_MARK_CUT_IN_TEMP = (
    "UPDATE temp.session SET ended_at = ?, ended_ns = ?, end_reason = 'interrupted', "
    "recorder = NULL WHERE id = ? AND ended_at IS NULL"
)


def _main_path(conn: sqlite3.Connection) -> str:
    for _, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return str(file or "")
    return ""


def _not_live(conn: sqlite3.Connection, behind: list[int], cut: set[int]) -> list[int]:
    """The sessions behind that no running recorder is writing (a recorder's follower
    keeps its own sessions current)."""
    if not behind:
        return []
    marks = ", ".join("?" for _ in behind)
    open_ids = {
        sid
        for (sid,) in conn.execute(
            f"SELECT id FROM session WHERE id IN ({marks}) AND ended_at IS NULL", behind
        )
    }
    return [s for s in behind if s not in open_ids or s in cut]


_CREATE = re.compile(r"^CREATE (TABLE|VIEW) ", re.IGNORECASE)
_CREATE_INDEX = re.compile(r"^CREATE (UNIQUE )?INDEX ", re.IGNORECASE)


def _shadow(conn: sqlite3.Connection) -> None:
    """Copy what the views read into TEMP, and re-create the views there, over the copies."""
    if conn.execute("SELECT count(*) FROM temp.sqlite_schema").fetchone()[0]:
        return  # done already on this connection
    schema: list[Any] = conn.execute(
        "SELECT type, name, tbl_name, sql FROM main.sqlite_schema WHERE sql IS NOT NULL"
    ).fetchall()
    conn.execute("BEGIN")
    try:
        for kind, name, _, sql in schema:
            if kind == "table" and name in SHADOWED_TABLES:
                conn.execute(_CREATE.sub(r"CREATE TEMP \1 ", sql, count=1))
                conn.execute(f'INSERT INTO temp."{name}" SELECT * FROM main."{name}"')
        for kind, _, table, sql in schema:
            if kind == "index" and table in SHADOWED_TABLES:
                conn.execute(_CREATE_INDEX.sub(r"CREATE \1INDEX temp.", sql, count=1))
            elif kind == "view":
                conn.execute(_CREATE.sub(r"CREATE TEMP \1 ", sql, count=1))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


@contextlib.contextmanager
def one_snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Reads inside see one state of the database, even while a recorder appends."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")
