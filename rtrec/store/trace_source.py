"""What a session's trace is drawn from: its rows in the views, read once, as plain dicts.

`rtrec otel` and `rtrec record --otel` read through here (see rtrec/otel/).  Rows come
from the stable views (sessions, turns, responses, items, tool_calls, errors,
session_updates), so a trace says what `rtrec sql` says.  Times in rows are ms since
the session's start; `started_ns` (wall clock, ns since the epoch) places them.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from rtrec.store.projected import parsed_rows
from rtrec.store.reader import SessionRef, resolve_session

# Output items of responses: what the model said and called (content, opt-in).
_OUTPUT_ITEMS = (
    "SELECT item_id, response_id, type, role, status, text, call_id, name, arguments, "
    "truncated_ms, audio_ms FROM items WHERE session_id = ? AND response_id IS NOT NULL "
    "ORDER BY ordinal"
)


def read_trace_source(conn: sqlite3.Connection, session_id: int) -> dict[str, Any]:
    """One session's rows, in the order a trace needs them."""
    one = (session_id,)
    session = parsed_rows(
        conn,
        "SELECT v.*, s.started_ns, s.ended_ns FROM sessions v "
        "JOIN session s ON s.id = v.session_id WHERE v.session_id = ?",
        one,
    )
    if not session:
        raise LookupError(f"no session {session_id}")
    updates = parsed_rows(
        conn,
        "SELECT t_ms, model, voice, instructions, tools, config FROM session_updates "
        "WHERE session_id = ? ORDER BY seq DESC LIMIT 1",
        one,
    )
    return {
        "session": session[0],
        "config": updates[0] if updates else {},
        "turns": parsed_rows(conn, "SELECT * FROM turns WHERE session_id = ? ORDER BY turn", one),
        "responses": parsed_rows(
            conn,
            "SELECT * FROM responses WHERE session_id = ? ORDER BY created_ms, response_id",
            one,
        ),
        "output_items": parsed_rows(conn, _OUTPUT_ITEMS, one),
        "tool_calls": parsed_rows(
            conn, "SELECT * FROM tool_calls WHERE session_id = ? ORDER BY called_ms", one
        ),
        "errors": parsed_rows(conn, "SELECT * FROM errors WHERE session_id = ? ORDER BY seq", one),
    }


def sessions_to_trace(
    conn: sqlite3.Connection,
    refs: tuple[str, ...] = (),
    *,
    every: bool = False,
    since_ns: int | None = None,
) -> list[tuple[SessionRef, bool]]:
    """The sessions asked for, oldest first, each with whether it has ended.

    `refs` are what `resolve_session` accepts; `every` takes all sessions; `since_ns`
    keeps those started at or after that wall-clock time (with refs or alone).
    """
    if refs:
        chosen = {ref.id: ref for ref in (resolve_session(conn, r) for r in refs)}
        ids = sorted(chosen)
        where, params = f"id IN ({', '.join('?' for _ in ids)})", tuple(ids)
    elif every or since_ns is not None:
        where, params = "1", ()
    else:
        return []
    if since_ns is not None:
        where, params = f"({where}) AND started_ns >= ?", (*params, since_ns)
    rows = conn.execute(
        f"SELECT id, uuid, started_ns, parent_id, ended_at IS NOT NULL FROM session "
        f"WHERE {where} ORDER BY id",
        params,
    ).fetchall()
    return [(SessionRef(*row[:4]), bool(row[4])) for row in rows]
