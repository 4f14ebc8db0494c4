"""Every session at a glance, for the session list of `rtrec ui`: one row of the
`sessions` view each, with the latencies of its rows in `turns`."""

from __future__ import annotations

import sqlite3
from typing import Any


def session_overviews(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """The `sessions` view's rows, newest first, each with `turn_latencies_ms`.

    `turn_latencies_ms` lists the session's `turns.latency_ms` in turn order, None
    for a turn nothing answered.
    """
    cursor = conn.execute("SELECT * FROM sessions ORDER BY session_id DESC")
    names = [d[0] for d in cursor.description]
    sessions = [dict(zip(names, row, strict=True)) for row in cursor]
    latencies: dict[int, list[float | None]] = {}
    for session_id, latency_ms in conn.execute(
        "SELECT session_id, latency_ms FROM turns ORDER BY session_id, turn"
    ):
        latencies.setdefault(session_id, []).append(latency_ms)
    for session in sessions:
        session["turn_latencies_ms"] = latencies.get(session["session_id"], [])
    return sessions
