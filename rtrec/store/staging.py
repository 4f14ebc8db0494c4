"""A new database that appears only when what fills it has succeeded.

`rtrec import` into a database that does not exist yet builds it under a temporary
name beside the target, and links it into place once the import is complete; a
failed import removes it, so no half-made (or empty, but schema'd) database is left
behind.  An existing database is used as it is: the import is one transaction there.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from collections.abc import Iterator

from rtrec.errors import DatabaseError
from rtrec.store.db import explain, open_db

_SIDE_FILES = ("-wal", "-shm", "-journal")


@contextlib.contextmanager
def database_if_complete(path: str | os.PathLike[str]) -> Iterator[sqlite3.Connection]:
    """`open_db(path)`; a database that did not exist is there afterwards only on success."""
    path = os.fspath(path)
    if os.path.lexists(path):
        conn = open_db(path)
        try:
            yield conn
        except sqlite3.DatabaseError as exc:
            raise explain(path, exc) from exc
        finally:
            conn.close()
        return
    directory, name = os.path.split(os.path.abspath(path))
    staged = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.partial")
    try:
        conn = open_db(staged)
    except DatabaseError as exc:
        _remove(staged)
        # Name the database the user asked for, not the temporary one.
        raise DatabaseError(str(exc).replace(staged, path)) from exc
    try:
        try:
            yield conn
            # Fold the WAL into the file now, where a full disk can still be reported.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.DatabaseError as exc:
            raise explain(path, exc) from exc
        finally:
            conn.close()
        if os.path.exists(staged + "-wal"):
            raise DatabaseError(f"cannot finish {path}: its write-ahead log was not folded in")
        try:
            os.link(staged, path)  # unlike rename, never replaces a database made meanwhile
        except FileExistsError:
            raise DatabaseError(
                f"{path} was created by another process during the import; import again"
            ) from None
        except OSError as exc:
            raise DatabaseError(f"cannot create database {path}: {exc.strerror}") from exc
    finally:
        _remove(staged)


def _remove(staged: str) -> None:
    for suffix in ("", *_SIDE_FILES):
        with contextlib.suppress(OSError):  # gone, or never made (a read-only directory)
            os.unlink(staged + suffix)
