"""Opening the event log: create it safely, migrate it, refuse what is not ours."""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3

from rtrec.errors import DatabaseError, NoDatabase
from rtrec.store.connections import closed_on_failure
from rtrec.store.liveness import recorder_alive
from rtrec.store.migrate import applied_version, check_not_newer, migrate
from rtrec.store.spill import reclaim_spills
from rtrec.timefmt import iso_from_ns

# Audio rows of 1-16 KB stay inside a 64 KB page instead of spilling into overflow
# pages, which wastes half a page per row at the 4 KB default (see bench/storage).
PAGE_SIZE = 65536
BUSY_TIMEOUT_MS = 10_000


def default_db_path() -> str:
    return os.environ.get("RTREC_DB") or "rtrec.db"


def open_db(path: str | os.PathLike[str], *, create: bool = True) -> sqlite3.Connection:
    """A read-write connection to an up-to-date rtrec database.

    Creates the file (owner-only) when `create` is set and it does not exist, applies
    pending migrations, marks sessions whose recorder died as interrupted, and removes
    the spill files such recorders left with nothing in them.
    """
    path = os.fspath(path)
    is_new = _ensure_file(path, create)
    if not is_new:
        _check_writable(path)
    with closed_on_failure(_connect(path), path, explain) as conn:
        if is_new:
            # Page size must be set before the first table; WAL before the first write.
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        _configure(conn, path)
        before = applied_version(conn, path)
        if migrate(conn, path) != before:
            # A new or migrated schema goes into the file itself at once: a recorder
            # keeps its connections open for hours, and a power cut that takes the WAL
            # must not leave a file with no schema at all.
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        mark_interrupted(conn, path)
        reclaim_spills(path)
    return conn


def is_writable(path: str) -> bool:
    """Whether the database and its directory (for the WAL files) can be written."""
    directory = os.path.dirname(os.path.abspath(path))
    if not (os.access(path, os.W_OK) and os.access(directory, os.W_OK)):
        return False
    # Root passes every access check; a read-only mount still refuses.
    return not os.statvfs(directory).f_flag & os.ST_RDONLY


def _check_writable(path: str) -> None:
    """DatabaseError saying why, if this process cannot write the database."""
    directory = os.path.dirname(os.path.abspath(path))
    if os.statvfs(directory).f_flag & os.ST_RDONLY:
        raise DatabaseError(f"cannot write to {path}: it is on a read-only file system")
    if not os.access(path, os.W_OK):
        raise DatabaseError(f"cannot write to {path}: permission denied (the file is read-only)")
    if not os.access(directory, os.W_OK):
        raise DatabaseError(
            f"cannot write to {path}: permission denied in {directory} "
            "(SQLite keeps its -wal and -shm files beside the database)"
        )


def writer_pragmas() -> list[str]:
    """Pragmas for every connection that appends to the log."""
    return [
        f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
        # WAL + NORMAL: a crash loses at most the last commits, never corrupts the file.
        "PRAGMA synchronous = NORMAL",
        # 1000 pages (SQLite's default count) of 64 KB: a checkpoint per 64 MB of WAL.
        # Checkpoints copy each page once, however often it was rewritten since the last,
        # so fewer of them is less work; the WAL is cut back to 64 MB afterwards.
        "PRAGMA wal_autocheckpoint = 1000",
        "PRAGMA journal_size_limit = 67108864",
    ]


def _ensure_file(path: str, create: bool) -> bool:
    """True when this call created the (empty) file."""
    if os.path.isdir(path):
        raise DatabaseError(f"{path} is a directory, not a database file")
    if os.path.exists(path):
        return False
    if not create:
        raise NoDatabase(path)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    except OSError as exc:
        raise DatabaseError(f"cannot create database {path}: {exc.strerror}") from exc
    os.close(fd)
    return True


def _connect(path: str) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.OperationalError as exc:
        raise DatabaseError(f"cannot open database {path}: {exc}") from exc
    return conn


def _configure(conn: sqlite3.Connection, path: str) -> None:
    # The first statement that reads the file tells a non-database apart.
    conn.execute("PRAGMA schema_version").fetchone()
    check_not_newer(path, applied_version(conn, path))
    (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
    if mode != "wal":
        raise DatabaseError(f"cannot use WAL mode on {path} (journal mode {mode})")
    for pragma in writer_pragmas():
        conn.execute(pragma)


# What a database failing under a command raises (a full disk, an I/O error, a file
# cut short): the CLI words it with `explain`, and so needs no sqlite3 of its own.
StoreFailure = sqlite3.DatabaseError


def explain(path: str, exc: sqlite3.DatabaseError) -> DatabaseError:
    """A sqlite3 error as one line a user can act on."""
    message = str(exc)
    if "file is not a database" in message or "file is encrypted" in message:
        return DatabaseError(f"{path} is not an SQLite database")
    if isinstance(exc, sqlite3.OperationalError) and "readonly" in message:
        return DatabaseError(f"cannot write to {path}: the file or its directory is read-only")
    if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in message:
        return DatabaseError(f"cannot write to {path}: {os.strerror(errno.ENOSPC)}")
    return DatabaseError(f"cannot use database {path}: {message}")


MARK_INTERRUPTED = (
    "UPDATE session SET ended_at = ?, ended_ns = ?, end_reason = 'interrupted', "
    "recorder = NULL WHERE id = ? AND ended_at IS NULL"
)


def cut_sessions(
    conn: sqlite3.Connection, db_path: str, *, reclaim: bool = True
) -> list[tuple[str, int, int]]:
    """(ended_at, ended_ns, session id) of each session left open by a recorder that is gone.

    They end at their last event.  A session a live process is still recording is not
    among them.  `reclaim` removes the dead recorders' lock files.
    """
    open_sessions = conn.execute(
        "SELECT id, recorder, started_ns FROM session WHERE ended_at IS NULL"
    ).fetchall()
    alive: dict[str | None, bool] = {}
    cut = []
    for session_id, recorder, started_ns in open_sessions:
        if recorder not in alive:
            alive[recorder] = recorder_alive(db_path, recorder, reclaim=reclaim)
        if not alive[recorder]:
            last = conn.execute(
                "SELECT wall_ns FROM event WHERE session_id = ? ORDER BY seq DESC LIMIT 1",
                (session_id,),
            ).fetchone()
            ended_ns = last[0] if last else started_ns
            cut.append((iso_from_ns(ended_ns), ended_ns, session_id))
    return cut


def mark_interrupted(conn: sqlite3.Connection, db_path: str) -> list[int]:
    """End sessions left open by a recorder that is no longer running.

    A session still being recorded by a live process is left alone.
    """
    cut = cut_sessions(conn, db_path)
    if cut:
        with transaction(conn):
            conn.executemany(MARK_INTERRUPTED, cut)
    return [session_id for *_, session_id in cut]


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection, *, immediate: bool = True):  # noqa: ANN201
    """BEGIN … COMMIT on an autocommit connection; ROLLBACK on any exception."""
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        # SQLite may have rolled back already (a full disk does): the error that
        # matters is the one that got us here, not "no transaction is active".
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise
