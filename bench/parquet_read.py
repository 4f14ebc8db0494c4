"""The plain read bench/parquet.py measures export-parquet against: sqlite3 and nothing else.

Its own module, so that the child process that runs it imports nothing but sqlite3.
"""

from __future__ import annotations

import sqlite3
import sys

VIEWS = ("events", "sessions", "items", "responses", "turns", "session_updates", "errors",
         "tool_calls")  # fmt: skip
PAGE_ROWS = 4096


def plain_read(db_path: str, session_id: int) -> int:
    """The session's rows in every view (events in pages by seq); how many."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    last, rows = -1, 0
    while True:
        page = conn.execute(
            "SELECT * FROM events WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (session_id, last, PAGE_ROWS),
        ).fetchall()
        rows += len(page)
        if len(page) < PAGE_ROWS:
            break
        last = page[-1][1]
    for view in VIEWS[1:]:
        cursor = conn.execute(f"SELECT * FROM {view} WHERE session_id = ?", (session_id,))
        while page := cursor.fetchmany(PAGE_ROWS):
            rows += len(page)
    conn.close()
    return rows


if __name__ == "__main__":
    plain_read(sys.argv[1], int(sys.argv[2]))
    from bench.peak import MARKER, peak_kib

    print(MARKER, peak_kib(), file=sys.stderr)
