"""Reading the log: finding sessions, and streaming a session's frames back exactly.

Frames are read in pages with short transactions rather than through one long
cursor: a replay at real-time speed can run for hours, and a read transaction held
that long would stop a concurrent recorder's WAL from being checkpointed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from rtrec.errors import SessionNotFound
from rtrec.store.frames import decode_frame

PAGE_ROWS = 512


@dataclass(frozen=True, slots=True)
class SessionRef:
    id: int
    uuid: str
    started_ns: int
    parent_id: int | None


@dataclass(frozen=True, slots=True)
class RecordedFrame:
    seq: int
    t_ns: int
    wall_ns: int
    direction: str
    type: str | None
    flags: int
    frame: str | bytes


def resolve_session(conn: sqlite3.Connection, ref: str) -> SessionRef:
    """A session by id, uuid (or a unique prefix of it), or `last`."""
    columns = "id, uuid, started_ns, parent_id"
    ref = ref.strip()
    if ref == "last":
        row = conn.execute(f"SELECT {columns} FROM session ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            raise SessionNotFound("no sessions recorded yet")
        return SessionRef(*row)
    if ref.isdigit() and int(ref) < 2**63:  # larger numbers cannot be ids in SQLite
        row = conn.execute(f"SELECT {columns} FROM session WHERE id = ?", (int(ref),)).fetchone()
        if row is not None:
            return SessionRef(*row)
    prefix = ref.lower()
    # Any length of hex names a uuid prefix, but a number shorter than 4 digits is an id
    # only: `show 7` must not find some session whose uuid happens to start with 7.
    hex_prefix = bool(prefix) and all(c in "0123456789abcdef-" for c in prefix)
    if hex_prefix and (len(prefix) >= 4 or not prefix.isdigit()):
        rows = conn.execute(
            f"SELECT {columns} FROM session WHERE uuid >= ? AND uuid < ? ORDER BY id LIMIT 6",
            (prefix, prefix + "\uffff"),
        ).fetchall()
        if len(rows) == 1:
            return SessionRef(*rows[0])
        if len(rows) > 1:
            shown = ", ".join(r[1][:8] for r in rows[:5])
            raise SessionNotFound(f"session {ref!r} is ambiguous: it matches {shown}…")
    raise SessionNotFound(
        f"no session {ref!r} (give an id, a uuid prefix, or 'last'; rtrec sessions lists them)"
    )


def iter_frames(
    conn: sqlite3.Connection,
    session_id: int,
    *,
    from_seq: int = 0,
    until_seq: int | None = None,
    direction: str | None = None,
) -> Iterator[RecordedFrame]:
    """The session's frames in order, exactly as they crossed the wire."""
    last = from_seq - 1
    limit = until_seq if until_seq is not None else 2**62
    where = "session_id = ? AND seq > ? AND seq <= ?"
    if direction is not None:
        where += " AND direction = ?"
    while True:
        params: tuple[object, ...] = (session_id, last, limit)
        if direction is not None:
            params += (direction,)
        rows = conn.execute(
            "SELECT seq, t_ns, wall_ns, direction, type, flags, frame, audio, audio_at "
            f"FROM event WHERE {where} ORDER BY seq LIMIT {PAGE_ROWS}",
            params,
        ).fetchall()
        for seq, t_ns, wall_ns, dir_, type_, flags, frame, audio, audio_at in rows:
            yield RecordedFrame(
                seq, t_ns, wall_ns, dir_, type_, flags, decode_frame(frame, audio, audio_at)
            )
        if len(rows) < PAGE_ROWS:
            return
        last = rows[-1][0]


def iter_script(
    conn: sqlite3.Connection,
    session_id: int,
    *,
    from_seq: int = 0,
    until_seq: int | None = None,
    frames_unless: frozenset[str] = frozenset(),
) -> Iterator[tuple[int, str, str | None, str | bytes | None]]:
    """(seq, direction, type, frame) of every event, in order, paged.

    Only client frames are read (None for server events, and for client events of the
    types in `frames_unless`): what `--strict` compares, without reading audio.
    """
    last = from_seq - 1
    limit = until_seq if until_seq is not None else 2**62
    skip = ", ".join("?" for _ in frames_unless) or "NULL"
    wanted = f"direction = 'client' AND coalesce(type, '') NOT IN ({skip})"
    # Columns of rows that are not wanted are not even read: server audio stays on disk.
    sql = (
        f"SELECT seq, direction, type, CASE WHEN {wanted} THEN frame END, "
        f"CASE WHEN {wanted} THEN audio END, audio_at, {wanted} FROM event "
        f"WHERE session_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT {PAGE_ROWS}"
    )
    while True:
        params = (*frames_unless, *frames_unless, *frames_unless, session_id, last, limit)
        rows = conn.execute(sql, params).fetchall()
        for seq, direction, type_, frame, audio, audio_at, is_wanted in rows:
            yield seq, direction, type_, decode_frame(frame, audio, audio_at) if is_wanted else None
        if len(rows) < PAGE_ROWS:
            return
        last = rows[-1][0]
