"""Every session at a glance: the `sessions` view's rows, for `rtrec sessions` and the
session list of `rtrec ui` (there with the latencies of its rows in `turns`)."""

from __future__ import annotations

import sqlite3
from typing import Any


def session_rows(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """The `sessions` view's rows, oldest first, as they are (JSON columns as text)."""
    return _dicts(conn.execute("SELECT * FROM sessions ORDER BY session_id"))


def session_overviews(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """The `sessions` view's rows, newest first, each with `turn_latencies_ms`.

    `turn_latencies_ms` lists the session's `turns.latency_ms` in turn order, None
    for a turn nothing answered.
    """
    sessions = _dicts(conn.execute("SELECT * FROM sessions ORDER BY session_id DESC"))
    latencies: dict[int, list[float | None]] = {}
    for session_id, latency_ms in conn.execute(
        "SELECT session_id, latency_ms FROM turns ORDER BY session_id, turn"
    ):
        latencies.setdefault(session_id, []).append(latency_ms)
    for session in sessions:
        session["turn_latencies_ms"] = latencies.get(session["session_id"], [])
    return sessions


def session_count(conn: sqlite3.Connection) -> int:
    """How many sessions the log holds."""
    return int(conn.execute("SELECT count(*) FROM session").fetchone()[0])


def latest_session_id(conn: sqlite3.Connection, source: str) -> int | None:
    """The id of the last session recorded from `source` (demo, import…), or None."""
    row = conn.execute(
        "SELECT id FROM session WHERE source = ? ORDER BY id DESC LIMIT 1", (source,)
    ).fetchone()
    return None if row is None else int(row[0])


def _dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]
