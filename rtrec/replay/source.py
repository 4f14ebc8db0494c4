"""Where a replay's frames come from: one recorded session, streamed from the log.

Nothing here runs SQL: the session's row, its sequence bounds and counts come from
`rtrec.store.reader` and `rtrec.store.recorded`, and its frames, client script and
media rows from `rtrec.store.reader`'s paged reads (short transactions, flat memory),
so a replay of an hours-long session neither loads it whole nor holds a read
transaction that would stop a concurrent recorder's checkpoints.  Each consumer (the
terminal player, each client of the mock server) opens its own read-only connection
(`ReplaySource.connect`, through `rtrec.store.reading`) and walks the session at its
own pace.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from rtrec.protocols.base import Adapter, MediaFact, MediaRow
from rtrec.replay.selection import Bound, Selection
from rtrec.replay.strict import STREAM_TYPES, ScriptedEvent
from rtrec.store.connections import Connection
from rtrec.store.paging import NO_END
from rtrec.store.reader import (
    RecordedFrame,
    count_events,
    first_seq_from,
    iter_frames,
    iter_media_rows,
    iter_script,
    max_seq,
    resolve_session,
)
from rtrec.store.reading import connect_reader, open_reader
from rtrec.store.recorded import RecordedSession, recorded_session

__all__ = ["MediaCursor", "RecordedSession", "ReplaySource"]

WINDOW_ROWS = 64  # rows per read of a replay: well under a millisecond of work


@dataclass(frozen=True)
class ReplaySource:
    """A selection of one recorded session, resolved to a range of sequence numbers."""

    db_path: str
    session: RecordedSession
    selection: Selection
    first_seq: int = 0
    last_seq: int = NO_END  # inclusive

    @classmethod
    def open(cls, db_path: str, session_ref: str, selection: Selection) -> ReplaySource:
        """Find the session (RtrecError if there is none) and resolve the selection's bounds."""
        conn = open_reader(db_path)
        try:
            ref = resolve_session(conn, session_ref)
            session = recorded_session(conn, ref)
            first = _first_seq(conn, ref.id, selection.start)
            last = _last_seq(conn, ref.id, selection.end)
        finally:
            conn.close()
        return cls(db_path, session, selection, first, last)

    @property
    def is_empty(self) -> bool:
        return self.first_seq > self.last_seq

    def connect(self) -> Connection:
        """A read-only connection of its own, usable from a worker thread."""
        return connect_reader(self.db_path)

    def frames(self, conn: Connection) -> Iterator[RecordedFrame]:
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
        self, conn: Connection, rows: int = WINDOW_ROWS
    ) -> Callable[[], list[RecordedFrame] | None]:
        """A reader of the selected frames `rows` sequence numbers at a time (for `Feed`).

        Each call returns the next window's frames ([] if none of them is selected),
        or None past the end.  The end is the session's last event when the reader
        was made.
        """
        recorded_last = max_seq(conn, self.session.ref.id)
        last = min(self.last_seq, -1 if recorded_last is None else recorded_last)
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

    def client_script(self, conn: Connection) -> Iterator[ScriptedEvent]:
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

    def count(self, conn: Connection, direction: str | None = None) -> int:
        """Events in the seq range (before type filtering), optionally of one direction."""
        return count_events(
            conn,
            self.session.ref.id,
            from_seq=self.first_seq,
            until_seq=self.last_seq,
            direction=direction,
        )

    def media_cursor(self, conn: Connection) -> MediaCursor:
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


def _first_seq(conn: Connection, session_id: int, bound: Bound | None) -> int:
    if bound is None:
        return 0
    if bound.seq is not None:
        return bound.seq
    assert bound.t_ns is not None
    first = first_seq_from(conn, session_id, bound.t_ns)
    return NO_END if first is None else first


def _last_seq(conn: Connection, session_id: int, bound: Bound | None) -> int:
    if bound is None:
        return NO_END
    if bound.seq is not None:
        return bound.seq
    assert bound.t_ns is not None
    after = first_seq_from(conn, session_id, bound.t_ns, inclusive=False)
    return NO_END if after is None else after - 1
