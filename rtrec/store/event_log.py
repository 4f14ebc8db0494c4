"""A session's frames as the `events` view shows them (audio elided), page by page.

For the event log of `rtrec view` and `rtrec ui`: what the page lists is what
`SELECT … FROM events` returns, read in short transactions so that a long session
neither holds a read open against a recorder's WAL nor sits whole in memory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import NamedTuple

from rtrec.store.paging import EVENTS_PAGE_ROWS, NO_END


class LoggedEvent(NamedTuple):
    seq: int
    t_ms: float
    direction: str
    type: str | None
    frame_size: int
    payload: str | None  # JSON text, audio elided; None for binary or unreadable frames


_SELECT = (
    "SELECT seq, t_ms, direction, type, frame_size, payload FROM events "
    "WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?"
)


def iter_logged_events(
    conn: sqlite3.Connection, session_id: int, *, after_seq: int = -1, limit: int | None = None
) -> Iterator[LoggedEvent]:
    """The session's events after `after_seq`, in order (at most `limit` of them)."""
    remaining = limit if limit is not None else NO_END
    last = after_seq
    while remaining > 0:
        page = min(EVENTS_PAGE_ROWS, remaining)
        rows = conn.execute(_SELECT, (session_id, last, page)).fetchall()
        for row in rows:
            yield LoggedEvent(*row)
        if len(rows) < page:
            return
        remaining -= len(rows)
        last = rows[-1][0]


def logged_event(conn: sqlite3.Connection, session_id: int, seq: int) -> LoggedEvent | None:
    row = conn.execute(
        "SELECT seq, t_ms, direction, type, frame_size, payload FROM events "
        "WHERE session_id = ? AND seq = ?",
        (session_id, seq),
    ).fetchone()
    return LoggedEvent(*row) if row is not None else None


def last_logged_event(conn: sqlite3.Connection, session_id: int) -> tuple[int, float] | None:
    """(seq, t_ms) of the session's last event, or None when it has none."""
    row = conn.execute(
        "SELECT seq, t_ns / 1e6 FROM event WHERE session_id = ? ORDER BY seq DESC LIMIT 1",
        (session_id,),
    ).fetchone()
    return (row[0], row[1]) if row is not None else None
