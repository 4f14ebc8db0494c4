"""A connection that only reads: for `rtrec ui`, which must never write or create a file.

`open_db_readonly` may first open the file writable to migrate it; this does not.
SQLite's read-only mode still creates the `-wal`/`-shm` files of a WAL database when
they are missing, so where there is no `-wal` (nobody is writing right now) the file
is read as immutable instead.  Connections are meant to be short-lived (one per
request): a recorder that starts later creates the WAL files itself, and the next
connection reads through them.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from rtrec.errors import DatabaseError
from rtrec.store.db import BUSY_TIMEOUT_MS
from rtrec.store.migrate import applied_version, check_not_newer, latest_version


def open_snapshot(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A read-only connection to an rtrec database at this rtrec's schema version."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise DatabaseError(f"{path} is a directory, not a database file")
    if not os.path.exists(path):
        raise DatabaseError(f"no database at {path} (record a session first, or pass --db)")
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    if not os.path.exists(path + "-wal"):
        uri += "&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    except sqlite3.OperationalError as exc:
        raise DatabaseError(f"cannot open database {path}: {exc}") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA query_only = ON")
        version = applied_version(conn)
        check_not_newer(path, version)
        if version < latest_version():
            raise DatabaseError(
                f"{path} is from an older rtrec (schema {version}) and this command only "
                "reads: bring it up to date first (for instance with `rtrec reproject`)"
            )
    except sqlite3.DatabaseError as exc:
        conn.close()
        message = str(exc)
        if "file is not a database" in message or "file is encrypted" in message:
            raise DatabaseError(f"{path} is not an SQLite database") from exc
        raise DatabaseError(f"cannot use database {path}: {message}") from exc
    except BaseException:
        conn.close()
        raise
    return conn


@contextlib.contextmanager
def one_snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Reads inside see one state of the database, even while a recorder appends."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")
