"""`rtrec import`: a JSONL file becomes one session, in one transaction or not at all."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

from rtrec.errors import ImportFormatError
from rtrec.jsonl import BARE_EVENT_SPACING_NS, LineError, parse_line
from rtrec.store.db import transaction
from rtrec.store.session import INSERT_SESSION, UPDATE_SESSION, LiveSession
from rtrec.store.writer import INSERT_EVENT, PendingEvent, event_rows


def import_jsonl(
    conn: sqlite3.Connection,
    lines: Iterable[str | bytes],
    *,
    source_name: str,
    source: str = "import",
) -> LiveSession:
    """Import the lines as a new session; raises ImportFormatError naming the bad line."""
    session = LiveSession(source=source)
    last_t_ns = 0

    def pending() -> Iterator[PendingEvent]:
        nonlocal last_t_ns
        next_bare_t = 0
        for line_no, line in enumerate(lines, start=1):
            try:
                parsed = parse_line(line)
            except LineError as exc:
                raise ImportFormatError(source_name, line_no, str(exc)) from exc
            if parsed is None:
                continue
            t_ns = parsed.t_ns if parsed.t_ns is not None else next_bare_t
            next_bare_t = t_ns + BARE_EVENT_SPACING_NS
            last_t_ns = max(last_t_ns, t_ns)
            seq = session.next_seq
            session.next_seq += 1
            yield (session, seq, t_ns, session.started_ns + t_ns, parsed.direction, parsed.frame)

    with transaction(conn):
        session.db_id = conn.execute(INSERT_SESSION, session.insert_values()).lastrowid
        conn.executemany(INSERT_EVENT, event_rows(pending()))
        if session.next_seq == 0:
            raise ImportFormatError(source_name, 0, "the file holds no events")
        session.end("imported", session.started_ns + last_t_ns)
        conn.execute(UPDATE_SESSION, session.update_values())
    return session
