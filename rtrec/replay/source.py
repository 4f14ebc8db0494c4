"""Where a replay's frames come from: one recorded session, streamed from the log.

Everything here reads in pages through `rtrec.store.reader` (short transactions,
flat memory), so a replay of an hours-long session neither loads it whole nor
holds a read transaction that would stop a concurrent recorder's checkpoints.
Each consumer (the terminal player, each client of the mock server) opens its own
read-only connection and walks the session at its own pace.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from rtrec.protocols import adapter_named
from rtrec.protocols.base import Adapter, MediaFact, MediaRow
from rtrec.replay.selection import Bound, Selection
from rtrec.replay.strict import STREAM_TYPES, ScriptedEvent
from rtrec.store.metadata import session_protocol
from rtrec.store.reader import (
    RecordedFrame,
    SessionRef,
    iter_frames,
    iter_media_rows,
    iter_script,
    resolve_session,
)
from rtrec.store.reading import connect_reader, open_reader

_NEVER = 2**62
WINDOW_ROWS = 64  # rows per read of a replay: well under a millisecond of work


@dataclass(frozen=True)
class RecordedSession:
    """What a replay needs to know about the original session besides its frames."""

    ref: SessionRef
    path: str | None = None
    query: str | None = None
    model: str | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    end_reason: str | None = None
    client_close_code: int | None = None
    client_close_reason: str | None = None
    upstream_close_code: int | None = None
    upstream_close_reason: str | None = None
    event_count: int = 0
    protocol: str = "realtime"

    @property
    def label(self) -> str:
        return f"session {self.ref.id} ({self.ref.uuid[:8]})"

    @property
    def adapter(self) -> Adapter:
        return adapter_named(self.protocol)


@dataclass(frozen=True)
class ReplaySource:
    """A selection of one recorded session, resolved to a range of sequence numbers."""

    db_path: str
    session: RecordedSession
    selection: Selection
    first_seq: int = 0
    last_seq: int = _NEVER  # inclusive

    @classmethod
    def open(cls, db_path: str, session_ref: str, selection: Selection) -> ReplaySource:
        """Find the session (RtrecError if there is none) and resolve the selection's bounds."""
        conn = open_reader(db_path)
        try:
            ref = resolve_session(conn, session_ref)
            session = _load_session(conn, ref)
            first = _first_seq(conn, ref.id, selection.start)
            last = _last_seq(conn, ref.id, selection.end)
        finally:
            conn.close()
        return cls(db_path, session, selection, first, last)

    @property
    def is_empty(self) -> bool:
        return self.first_seq > self.last_seq

    def connect(self) -> sqlite3.Connection:
        """A read-only connection of its own, usable from a worker thread."""
        return connect_reader(self.db_path)

    def frames(self, conn: sqlite3.Connection) -> Iterator[RecordedFrame]:
        """The selected frames, in recorded order."""
        accepts = self.selection.types.accepts
        untyped = self.session.adapter.types_untyped
        for frame in iter_frames(
            conn,
            self.session.ref.id,
            from_seq=self.first_seq,
            until_seq=self.last_seq,
            direction=self.selection.only,
        ):
            frame = _typed(frame, untyped)
            if accepts(frame.type):
                yield frame

    def window_reader(
        self, conn: sqlite3.Connection, rows: int = WINDOW_ROWS
    ) -> Callable[[], list[RecordedFrame] | None]:
        """A reader of the selected frames `rows` sequence numbers at a time (for `Feed`).

        Each call returns the next window's frames ([] if none of them is selected),
        or None past the end.  The end is the session's last event when the reader
        was made.
        """
        (max_seq,) = conn.execute(
            "SELECT max(seq) FROM event WHERE session_id = ?", (self.session.ref.id,)
        ).fetchone()
        last = min(self.last_seq, -1 if max_seq is None else max_seq)
        accepts = self.selection.types.accepts
        untyped = self.session.adapter.types_untyped
        next_seq = self.first_seq

        def read() -> list[RecordedFrame] | None:
            nonlocal next_seq
            if next_seq > last:
                return None
            until = min(last, next_seq + rows - 1)
            frames = iter_frames(
                conn,
                self.session.ref.id,
                from_seq=next_seq,
                until_seq=until,
                direction=self.selection.only,
            )
            next_seq = until + 1
            typed = (_typed(frame, untyped) for frame in frames)
            return [frame for frame in typed if accepts(frame.type)]

        return read

    def client_script(self, conn: sqlite3.Connection) -> Iterator[ScriptedEvent]:
        """The selected client events in order, for --strict: each with its stretch (the
        number of selected server events before it), frames read for all but audio."""
        accepts = self.selection.types.accepts
        stretch = 0
        for seq, direction, event_type, frame in iter_script(
            conn,
            self.session.ref.id,
            from_seq=self.first_seq,
            until_seq=self.last_seq,
            frames_unless=STREAM_TYPES,
        ):
            if not accepts(event_type):
                continue
            if direction == "server":
                stretch += 1
            else:
                yield ScriptedEvent(seq, event_type, frame, stretch)

    def count(self, conn: sqlite3.Connection, direction: str | None = None) -> int:
        """Events in the seq range (before type filtering), optionally of one direction."""
        sql = "SELECT count(*) FROM event WHERE session_id = ? AND seq >= ? AND seq <= ?"
        params: tuple[object, ...] = (self.session.ref.id, self.first_seq, self.last_seq)
        if direction is not None:
            sql += " AND direction = ?"
            params += (direction,)
        return int(conn.execute(sql, params).fetchone()[0])

    def media_cursor(self, conn: sqlite3.Connection) -> MediaCursor:
        """The media facts of each frame, from a fold over the whole session's media rows.

        A replay that starts mid-session, or hides some frames, still needs the formats
        in force and the durations of the audio it shows.
        """
        adapter = self.session.adapter
        rows = iter_media_rows(
            conn,
            self.session.ref.id,
            adapter.media_types,
            audio=False,
            audio_frames=adapter.audio_frames,
            untyped=adapter.types_untyped,
        )
        return MediaCursor(adapter, rows)


class MediaCursor:
    """Walks a session's media rows alongside a replay that moves forward through it."""

    def __init__(self, adapter: Adapter, rows: Iterator[MediaRow]) -> None:
        self._fold = adapter.media()
        self._rows = rows
        self._next: MediaRow | None = None

    def close(self) -> None:
        """Stop reading (before the connection closes)."""
        close = getattr(self._rows, "close", None)
        if close is not None:
            close()

    def __call__(self, frame: RecordedFrame) -> list[MediaFact]:
        while True:
            if self._next is None:
                self._next = next(self._rows, None)
                if self._next is None:
                    return []
            row = self._next
            if row.seq > frame.seq:
                return []
            self._next = None
            facts = self._fold.feed(row, decode=False)
            if row.seq == frame.seq:
                return facts


def _typed(
    frame: RecordedFrame, untyped: Callable[[str | bytes], str | None] | None
) -> RecordedFrame:
    """The frame with the type its protocol reads in it, if its row had none."""
    if frame.type is not None or untyped is None or isinstance(frame.frame, bytes):
        return frame
    return dataclasses.replace(frame, type=untyped(frame.frame))


def _load_session(conn: sqlite3.Connection, ref: SessionRef) -> RecordedSession:
    row = conn.execute(
        "SELECT path, query, model, request_headers, end_reason, client_close_code, "
        "client_close_reason, upstream_close_code, upstream_close_reason, "
        "(SELECT count(*) FROM event WHERE session_id = session.id) "
        "FROM session WHERE id = ?",
        (ref.id,),
    ).fetchone()
    headers: dict[str, str] = {}
    if row[3]:
        try:
            loaded = json.loads(row[3])
        except ValueError:
            loaded = None
        if isinstance(loaded, dict):
            headers = {str(k): str(v) for k, v in loaded.items()}
    return RecordedSession(
        ref,
        row[0],
        row[1],
        row[2],
        headers,
        *row[4:9],
        event_count=row[9],
        protocol=session_protocol(conn, ref.id),
    )


def _first_seq(conn: sqlite3.Connection, session_id: int, bound: Bound | None) -> int:
    if bound is None:
        return 0
    if bound.seq is not None:
        return bound.seq
    row = conn.execute(
        "SELECT min(seq) FROM event WHERE session_id = ? AND t_ns >= ?", (session_id, bound.t_ns)
    ).fetchone()
    return _NEVER if row[0] is None else int(row[0])


def _last_seq(conn: sqlite3.Connection, session_id: int, bound: Bound | None) -> int:
    if bound is None:
        return _NEVER
    if bound.seq is not None:
        return bound.seq
    row = conn.execute(
        "SELECT min(seq) FROM event WHERE session_id = ? AND t_ns > ?", (session_id, bound.t_ns)
    ).fetchone()
    return _NEVER if row[0] is None else int(row[0]) - 1
