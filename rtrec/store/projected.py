"""Reading a session's projected state back from the views, as plain dicts.

This is what `rtrec show --json` prints and what the readable transcript is drawn
from.  JSON columns come back parsed; times are milliseconds since session start.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from typing import Any

from rtrec.store.reading import current_views

_JSON_COLUMNS = {
    "content",
    "segments",
    "output_item_ids",
    "modalities",
    "metadata",
    "status_details",
    "usage",
    "config",
    "output_modalities",
    "tools",
    "rate_limits",
    "unknown_types",
}


def refresh(conn: sqlite3.Connection, session_id: int | None = None) -> str | None:
    """Bring the views current before reading (in memory: see rtrec/store/reading.py).

    Everything already written is shown, sessions being recorded included: a database
    left behind by a killed recorder, or written by an older rtrec, reads current, and
    so does one a recorder is writing right now.  Returns a line for stderr, if any.
    """
    return current_views(conn, session_id)


def parsed_rows(
    conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]
) -> list[dict[str, Any]]:
    """The query's rows as dicts, the JSON columns of the views parsed."""
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    out = []
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        for key in _JSON_COLUMNS.intersection(row):
            if isinstance(row[key], str):
                with contextlib.suppress(ValueError):  # a plain string stays one
                    row[key] = json.loads(row[key])
        out.append(row)
    return out


def read_projection(conn: sqlite3.Connection, session_id: int) -> dict[str, Any]:
    """Everything projected for one session, ready to print or dump as JSON."""
    one = (session_id,)
    sessions = parsed_rows(conn, "SELECT * FROM sessions WHERE session_id = ?", one)
    extra = parsed_rows(
        conn,
        "SELECT config, rate_limits, rate_limits_ns / 1e6 AS rate_limits_ms, unknown_types, "
        "malformed_events FROM projected_session WHERE session_id = ?",
        one,
    )
    # Why a refused session was refused: the upstream's answer, or the relay's own.
    why = parsed_rows(conn, "SELECT error, refused_body FROM session WHERE id = ?", one)
    session = {
        **(sessions[0] if sessions else {}),
        **(extra[0] if extra else {}),
        **(why[0] if why else {}),
    }
    return {
        "session": session,
        "items": parsed_rows(
            conn, "SELECT * FROM items WHERE session_id = ? ORDER BY ordinal", one
        ),
        "responses": parsed_rows(
            conn, "SELECT * FROM responses WHERE session_id = ? ORDER BY created_ms", one
        ),
        "out_of_band_items": parsed_rows(
            conn,
            "SELECT item_id, type, role, status, text, call_id, name, arguments, output, "
            "response_id FROM projected_item WHERE session_id = ? AND NOT in_conversation "
            "AND response_id IS NOT NULL ORDER BY first_ns",
            one,
        ),
        "turns": parsed_rows(conn, "SELECT * FROM turns WHERE session_id = ? ORDER BY turn", one),
        "tool_calls": parsed_rows(conn, "SELECT * FROM tool_calls WHERE session_id = ?", one),
        "session_updates": parsed_rows(
            conn, "SELECT * FROM session_updates WHERE session_id = ? ORDER BY seq", one
        ),
        "errors": parsed_rows(conn, "SELECT * FROM errors WHERE session_id = ? ORDER BY seq", one),
    }
