"""A reader opened inside a process that is writing the log must not break its locks.

POSIX locks belong to a process: closing any descriptor of the database file drops
every lock SQLite holds on it there.  Another process closing its last connection
would then take the writer's WAL for abandoned, checkpoint and remove it, and every
later commit of the writer would go to a file nobody reads (this happened to
`rtrec record --otel`, whose trace worker reads the database it records into).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from rtrec.store.db import open_db
from rtrec.store.reading import open_reader


def _rows_seen_elsewhere(db_path: str) -> int:
    """Count sessions from another process, opening and closing a connection there."""
    code = (
        "import sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1])\n"
        "print(conn.execute('SELECT count(*) FROM session').fetchone()[0])\n"
        "conn.close()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, db_path], capture_output=True, text=True, check=True
    )
    return int(out.stdout)


def _add_session(conn: sqlite3.Connection, n: int) -> None:
    conn.execute(
        "INSERT INTO session (uuid, source, started_at, started_ns) VALUES (?, 'record', '', 0)",
        (f"uuid-{n}",),
    )
    conn.commit()


def test_a_reader_in_the_writing_process_keeps_the_writers_commits_visible(db_path: str) -> None:
    writer = open_db(db_path)
    try:
        _add_session(writer, 1)
        reader = open_reader(db_path)  # in the process that holds the writer's locks
        assert reader.execute("SELECT count(*) FROM session").fetchone()[0] == 1
        reader.close()
        assert _rows_seen_elsewhere(db_path) == 1  # that process's connection closes
        _add_session(writer, 2)
        assert _rows_seen_elsewhere(db_path) == 2
    finally:
        writer.close()
