"""Reading the log: finding sessions, their sequence bounds and counts, and streaming a
session's frames (and its media rows, and its client script) back exactly.

Frames are read in pages with short transactions rather than through one long
cursor: a replay at real-time speed can run for hours, and a read transaction held
that long would stop a concurrent recorder's WAL from being checkpointed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from rtrec.errors import SessionNotFound
from rtrec.protocols.base import MediaRow
from rtrec.store.frames import decode_frame
from rtrec.store.paging import NO_END, PAGE_BYTES, PAGE_ROWS


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


_REF_COLUMNS = "id, uuid, started_ns, parent_id"


def session_ref(conn: sqlite3.Connection, session_id: int) -> SessionRef | None:
    """The session with this id, or None."""
    row = conn.execute(f"SELECT {_REF_COLUMNS} FROM session WHERE id = ?", (session_id,)).fetchone()
    return SessionRef(*row) if row is not None else None


def resolve_session(conn: sqlite3.Connection, ref: str) -> SessionRef:
    """A session by id, uuid (or a unique prefix of it), or `last`."""
    columns = _REF_COLUMNS
    ref = ref.strip()
    if ref == "last":
        row = conn.execute(f"SELECT {columns} FROM session ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            raise SessionNotFound(ref="last")
        return SessionRef(*row)
    if ref.isdigit() and int(ref) < 2**63:  # larger numbers cannot be ids in SQLite
        found = session_ref(conn, int(ref))
        if found is not None:
            return found
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
            raise SessionNotFound(ref=ref, matches=[r[1][:8] for r in rows[:5]])
    raise SessionNotFound(ref=ref)


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
    limit = until_seq if until_seq is not None else NO_END
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
                seq, t_ns, wall_ns, dir_, type_, flags, decode_frame(frame, audio, audio_at, flags)
            )
        if len(rows) < PAGE_ROWS:
            return
        last = rows[-1][0]


# A session's audio and the events that shape it, for the protocol's media fold.  Audio
# rows are compacted in the log, so most chunks need no base64 at all; pages are bounded
# in rows and in bytes, each its own short read.


def iter_media_rows(
    conn: sqlite3.Connection,
    session_id: int,
    types: Collection[str],
    *,
    audio: bool = True,
    audio_frames: bool = False,
    untyped: Callable[[str | bytes], str | None] | None = None,
) -> Iterator[MediaRow]:
    """The session's rows of these types, in order.

    With `audio`, compacted rows carry their bytes, else only their length.  The frame
    text of a compacted row comes only with `audio_frames` (protocols whose media fold
    reads the text around the audio).  With `untyped`, rows without a type (written
    before their protocol's adapter existed) are typed by it from their frame.
    """
    ordered = sorted(types)
    audio_column = "audio" if audio else "NULL"
    frame_column = "frame" if audio_frames else "CASE WHEN audio IS NULL THEN frame END"
    or_untyped = " OR type IS NULL" if untyped is not None else ""
    sql = (
        f"SELECT seq, t_ns, direction, type, item_id, response_id, {audio_column}, "
        f"length(audio), {frame_column}, flags "
        "FROM event WHERE session_id = ? AND seq > ? "
        f"AND (type IN ({', '.join('?' for _ in ordered)}){or_untyped}) "
        f"ORDER BY seq LIMIT {PAGE_ROWS}"
    )
    last = -1
    while True:
        count = 0
        size = 0
        cursor = conn.execute(sql, (session_id, last, *ordered))
        try:
            for (
                seq,
                t_ns,
                direction,
                type_,
                item_id,
                response_id,
                data,
                length,
                frame,
                flags,
            ) in cursor:
                count += 1
                last = seq
                if type_ is None and untyped is not None:
                    type_ = untyped(frame) if frame is not None else None
                    if type_ not in types:
                        continue
                yield MediaRow(
                    seq, t_ns, direction, type_, item_id, response_id, data, length, frame, flags
                )
                size += len(data or b"") + len(frame or "")
                if size >= PAGE_BYTES:
                    break
        finally:
            cursor.close()
        if count < PAGE_ROWS and size < PAGE_BYTES:
            return


# -- sequence bounds -------------------------------------------------------------------


def max_seq(conn: sqlite3.Connection, session_id: int) -> int | None:
    """The seq of the session's last event, or None when it has none."""
    row = conn.execute("SELECT max(seq) FROM event WHERE session_id = ?", (session_id,)).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def last_seq(conn: sqlite3.Connection, session_id: int) -> int:
    """The seq of the session's last event, 0 when it has none."""
    return max_seq(conn, session_id) or 0


def first_seq_from(
    conn: sqlite3.Connection, session_id: int, t_ns: int, *, inclusive: bool = True
) -> int | None:
    """The seq of the session's first event at (or, not `inclusive`, after) `t_ns`."""
    sql = f"SELECT min(seq) FROM event WHERE session_id = ? AND t_ns {'>=' if inclusive else '>'} ?"
    row = conn.execute(sql, (session_id, t_ns)).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def count_events(
    conn: sqlite3.Connection,
    session_id: int,
    *,
    from_seq: int = 0,
    until_seq: int = NO_END,
    direction: str | None = None,
) -> int:
    """The session's events from `from_seq` to `until_seq` (inclusive), of one direction."""
    sql = "SELECT count(*) FROM event WHERE session_id = ? AND seq >= ? AND seq <= ?"
    params: tuple[object, ...] = (session_id, from_seq, until_seq)
    if direction is not None:
        sql += " AND direction = ?"
        params += (direction,)
    return int(conn.execute(sql, params).fetchone()[0])


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
    limit = until_seq if until_seq is not None else NO_END
    skip = ", ".join("?" for _ in frames_unless) or "NULL"
    wanted = f"direction = 'client' AND coalesce(type, '') NOT IN ({skip})"
    # Columns of rows that are not wanted are not even read: server audio stays on disk.
    sql = (
        f"SELECT seq, direction, type, CASE WHEN {wanted} THEN frame END, "
        f"CASE WHEN {wanted} THEN audio END, audio_at, flags, {wanted} FROM event "
        f"WHERE session_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT {PAGE_ROWS}"
    )
    while True:
        params = (*frames_unless, *frames_unless, *frames_unless, session_id, last, limit)
        rows = conn.execute(sql, params).fetchall()
        for seq, direction, type_, frame, audio, audio_at, flags, is_wanted in rows:
            exact = decode_frame(frame, audio, audio_at, flags) if is_wanted else None
            yield seq, direction, type_, exact
        if len(rows) < PAGE_ROWS:
            return
        last = rows[-1][0]
