"""`rtrec import`: a JSONL file becomes a session, in one transaction or not at all.

A spill file (written when the database refused writes during a recording) is
recognised by its first line and restored into the sessions it came from instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from rtrec.errors import ImportFormatError
from rtrec.jsonl import BARE_EVENT_SPACING_NS, LineError, decode_object, parse_line, parse_object
from rtrec.store.db import transaction
from rtrec.store.frames import REDACTED
from rtrec.store.metadata import session_protocol
from rtrec.store.projection import catch_up, invalidate
from rtrec.store.session import INSERT_SESSION, SESSION_COLUMNS, UPDATE_SESSION, LiveSession
from rtrec.store.writer import INSERT_EVENT, PendingEvent, event_row, event_rows


def import_jsonl(
    conn: sqlite3.Connection,
    lines: Iterable[str | bytes],
    *,
    source_name: str,
    source: str = "import",
    project: bool = True,
) -> LiveSession:
    """Import the lines as a new session; raises ImportFormatError naming the bad line.

    With `project`, the session's projection (items, responses, turns…) is built too,
    so the views show it at once.
    """
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
    if project:
        assert session.db_id is not None
        catch_up(conn, [session.db_id])
    return session


@dataclass
class SpillRestore:
    sessions: list[str] = field(default_factory=list)  # uuids touched
    added: int = 0
    already_there: int = 0


_END_COLUMNS = (
    "ended_at",
    "ended_ns",
    "end_reason",
    "client_close_code",
    "client_close_reason",
    "upstream_close_code",
    "upstream_close_reason",
    "error",
)
_INSERT_OR_IGNORE_EVENT = INSERT_EVENT.replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)
_RESTORE_BATCH = 1000


def is_spill(first_line: str | bytes) -> bool:
    try:
        obj = decode_object(first_line)
    except LineError:
        return False
    return obj is not None and ("spill_session" in obj or ("session" in obj and "seq" in obj))


def restore_spill(
    conn: sqlite3.Connection, lines: Iterable[str | bytes], *, source_name: str
) -> SpillRestore:
    """Bring a spill file's events back into their sessions; one transaction, idempotent."""
    result = SpillRestore()
    ids: dict[str, LiveSession] = {}  # uuid → the session as far as encoding is concerned
    rows: list[tuple[object, ...]] = []

    def write_rows() -> None:
        if rows:
            before = conn.total_changes
            conn.executemany(_INSERT_OR_IGNORE_EVENT, rows)
            added = conn.total_changes - before
            result.added += added
            result.already_there += len(rows) - added
            rows.clear()

    with transaction(conn):
        for line_no, line in enumerate(lines, start=1):
            try:
                obj = decode_object(line)
                if obj is None:
                    continue
                if "spill_session" in obj:
                    write_rows()
                    uuid, session_id = _restore_session(conn, obj["spill_session"])
                    ids[uuid] = _stand_in(conn, session_id)
                    if uuid not in result.sessions:
                        result.sessions.append(uuid)
                    continue
                rows.append(_restore_event(conn, obj, ids))
            except LineError as exc:
                raise ImportFormatError(source_name, line_no, str(exc)) from exc
            if len(rows) >= _RESTORE_BATCH:
                write_rows()
        write_rows()
        # Restored events may sit before a projection's checkpoint: rebuild those.
        invalidate(conn, [session.db_id for session in ids.values() if session.db_id])
    return result


def _restore_session(conn: sqlite3.Connection, meta: object) -> tuple[str, int]:
    if not isinstance(meta, dict) or not isinstance(meta.get("uuid"), str):
        raise LineError('"spill_session" must be an object with a "uuid"')
    uuid = meta["uuid"]
    row = conn.execute("SELECT id FROM session WHERE uuid = ?", (uuid,)).fetchone()
    if row is None:
        values = [None if name == "recorder" else meta.get(name) for name in SESSION_COLUMNS]
        inserted = conn.execute(INSERT_SESSION, values).lastrowid
        assert inserted is not None  # an INSERT's rowid
        return uuid, inserted
    if meta.get("end_reason") is not None:
        # The spill knows how the session really ended; "interrupted" was only a guess.
        assignments = ", ".join(f"{name} = ?" for name in _END_COLUMNS)
        conn.execute(
            f"UPDATE session SET {assignments}, recorder = NULL "
            "WHERE id = ? AND (end_reason IS NULL OR end_reason = 'interrupted')",
            [meta.get(name) for name in _END_COLUMNS] + [row[0]],
        )
    return uuid, int(row[0])


def _stand_in(conn: sqlite3.Connection, session_id: int) -> LiveSession:
    """A session to encode spilled frames with: already scrubbed, nothing left to hide,
    and of the protocol it was recorded with."""
    session = LiveSession(source="spill", protocol=session_protocol(conn, session_id))
    session.db_id = session_id
    return session


def _restore_event(
    conn: sqlite3.Connection, obj: dict[str, object], ids: dict[str, LiveSession]
) -> tuple[object, ...]:
    uuid, seq, wall_ns = obj.get("session"), obj.get("seq"), obj.get("wall_ns")
    if not isinstance(uuid, str) or not isinstance(seq, int) or not isinstance(wall_ns, int):
        raise LineError('a spilled event needs "session" (uuid), "seq" and "wall_ns"')
    if uuid not in ids:
        row = conn.execute("SELECT id FROM session WHERE uuid = ?", (uuid,)).fetchone()
        if row is None:
            raise LineError(f"session {uuid} is neither in the database nor described above")
        ids[uuid] = _stand_in(conn, int(row[0]))
    parsed = parse_object(obj)
    if parsed.t_ns is None:
        raise LineError('a spilled event needs "t"')
    row = event_row(ids[uuid], seq, parsed.t_ns, wall_ns, parsed.direction, parsed.frame)
    if obj.get("redacted") is True:  # scrubbed when spilled: flagged as the log would have
        row = (*row[:9], row[9] | REDACTED, *row[10:])
    return row
