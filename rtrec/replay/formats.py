"""The audio formats in force at each point of a recorded session.  Pure: no I/O.

A session's formats change with each `session.created` / `session.updated` the
server sends.  A replay that starts mid-session, or shows only client events,
still needs the formats that were in force, so the few format changes are read
up front (they are tiny) and looked up by sequence number as the replay goes.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

import msgspec

from rtrec.audio_format import DEFAULT_FORMAT, AudioFormat, session_formats


class FormatTrack:
    """(input, output) formats by sequence number."""

    def __init__(self, changes: Iterable[tuple[int, AudioFormat, AudioFormat]] = ()) -> None:
        self._seqs: list[int] = []
        self._formats: list[tuple[AudioFormat, AudioFormat]] = []
        for seq, inp, out in changes:
            self._seqs.append(seq)
            self._formats.append((inp, out))

    @classmethod
    def from_frames(cls, frames: Iterable[tuple[int, str | bytes]]) -> FormatTrack:
        """From the (seq, frame) of a session's session.created/updated events, in order."""
        changes = []
        inp, out = DEFAULT_FORMAT, DEFAULT_FORMAT
        for seq, frame in frames:
            try:
                event = msgspec.json.decode(frame)
            except msgspec.DecodeError:
                continue
            if not isinstance(event, dict):
                continue
            new_in, new_out = session_formats(event.get("session"))
            if (new_in or inp, new_out or out) != (inp, out):
                inp, out = new_in or inp, new_out or out
                changes.append((seq, inp, out))
        return cls(changes)

    def at(self, seq: int) -> tuple[AudioFormat, AudioFormat]:
        """The formats in force when the event with this sequence number was recorded."""
        i = bisect.bisect_right(self._seqs, seq) - 1
        return self._formats[i] if i >= 0 else (DEFAULT_FORMAT, DEFAULT_FORMAT)
