"""Reading a session's audio, and the events that shape it, straight from the log.

Audio rows are compacted in the log (the decoded bytes in `event.audio`), so most
chunks need no base64 at all; a row whose `audio` is NULL holds its whole frame (tiny
or invalid-base64 chunks) and is parsed.  Rows are read in pages bounded in rows and
in bytes, each page its own short read, so memory stays flat and a concurrent
recorder's WAL can still be checkpointed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator

from rtrec.replay.wav.rows import AUDIO_TYPES, Row, audio_from_frame, parse_event

PAGE_ROWS = 512
PAGE_BYTES = 16 << 20


def iter_rows(conn: sqlite3.Connection, session_id: int, types: Collection[str]) -> Iterator[Row]:
    """The session's events of these types, in order: audio decoded, others parsed."""
    ordered = sorted(types)
    sql = (
        "SELECT seq, t_ns, direction, type, item_id, response_id, audio, "
        "CASE WHEN audio IS NULL THEN frame END "
        "FROM event WHERE session_id = ? AND seq > ? "
        f"AND type IN ({', '.join('?' for _ in ordered)}) "
        f"ORDER BY seq LIMIT {PAGE_ROWS}"
    )
    last = -1
    while True:
        count = 0
        size = 0
        cursor = conn.execute(sql, (session_id, last, *ordered))
        try:
            for seq, t_ns, direction, type_, item_id, response_id, audio, frame in cursor:
                count += 1
                last = seq
                row = Row(seq, t_ns, direction, type_, item_id, response_id)
                if type_ in AUDIO_TYPES:
                    if audio is not None:
                        row.audio = audio
                    else:
                        row.audio, row.problem = audio_from_frame(type_, frame)
                    size += len(row.audio or b"")
                else:
                    row.event = parse_event(frame) or {}
                    size += len(frame or "")
                yield row
                if size >= PAGE_BYTES:
                    break
        finally:
            cursor.close()
        if count < PAGE_ROWS and size < PAGE_BYTES:
            return


def first_audio_seq(conn: sqlite3.Connection, session_id: int, direction: str) -> int | None:
    """The seq of the session's first audio chunk from this side, or None."""
    types = sorted(AUDIO_TYPES)
    row = conn.execute(
        "SELECT seq FROM event WHERE session_id = ? AND direction = ? "
        f"AND type IN ({', '.join('?' for _ in types)}) ORDER BY seq LIMIT 1",
        (session_id, direction, *types),
    ).fetchone()
    return row[0] if row else None


def last_seq(conn: sqlite3.Connection, session_id: int) -> int:
    row = conn.execute("SELECT max(seq) FROM event WHERE session_id = ?", (session_id,)).fetchone()
    return row[0] if row and row[0] is not None else 0
