"""A session's protocol, as the log says it: recorded, or recognised from path and frames."""

from __future__ import annotations

import sqlite3

from rtrec.protocols import DEFAULT_PROTOCOL, protocol_of_frames, protocol_of_path
from rtrec.store.frames import decode_frame

# Frames looked at to recognise a session whose protocol was not recorded: the first
# JSON object decides, and it is nearly always the first or second frame.
_RECOGNITION_FRAMES = 16


def session_protocol(conn: sqlite3.Connection, session_id: int) -> str:
    """The session's protocol: as recorded, else by its path, else by its first frames.

    The recorder applies the same rules when it opens a session (path) and writes its
    first frame (frames), so the answer is the one its rows were encoded with.
    """
    row = conn.execute("SELECT protocol, path FROM session WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        return DEFAULT_PROTOCOL
    protocol, path = row
    if protocol:
        return str(protocol)
    by_path = protocol_of_path(path)
    if by_path is not None:
        return by_path
    frames = conn.execute(
        "SELECT direction, frame, audio, audio_at, flags FROM event WHERE session_id = ? "
        "ORDER BY seq LIMIT ?",
        (session_id, _RECOGNITION_FRAMES),
    ).fetchall()
    return protocol_of_frames(
        (direction, decode_frame(frame, audio, audio_at, flags))
        for direction, frame, audio, audio_at, flags in frames
    )
