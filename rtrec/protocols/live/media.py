"""A GPT-Live session's audio: one format both ways, and the sideband's timed copies.

Primary connection: the client's `session.input_audio.append` (`audio`) is the user's
track, the server's `session.output_audio.delta` (`delta`) the assistant's, both in
the one format `session.start` chose (`session.audio.format`); a start that names
none takes the server's resolved `session.started` format, and 24 kHz PCM16 is the
default.  Output audio is one continuous stream, silence included, with no times.

Sideband connection (`…/attach`): the server sends copies of both directions, always
PCM16 at 24 kHz — `session.input_audio.append` from the server side, and output
deltas carrying `start_ms`/`end_ms` on the session clock.  Those are placed there
(`AudioChunk.media_ms`); frames the sideband dropped leave gaps, exported as silence.
There are no items, replies or truncations to report.  Pure.
"""

from __future__ import annotations

from typing import Any

import msgspec

from rtrec.audio_format import DEFAULT_FORMAT, PCM16_24K, AudioFormat
from rtrec.protocols.live.config import session_format
from rtrec.protocols.media import AudioChunk, MediaFact, MediaFold, MediaRow, chunk_audio

INPUT_AUDIO = "session.input_audio.append"
OUTPUT_AUDIO = "session.output_audio.delta"
AUDIO_TYPES = frozenset({INPUT_AUDIO, OUTPUT_AUDIO})
# session.start (a fork's too) chooses the format; session.started resolves it.
CONTROL_TYPES = frozenset({"session.start", "session.started"})
SIDEBAND_FORMAT = PCM16_24K


class _Timed(msgspec.Struct):
    start_ms: Any = None


class _Session(msgspec.Struct):
    session: Any = None


_timed = msgspec.json.Decoder(_Timed)
_session = msgspec.json.Decoder(_Session)


def media_ms(frame: str | bytes | None) -> float | None:
    """Where a sideband output copy belongs on the session clock; None on the primary."""
    if frame is None:
        return None
    marker: Any = b'"start_ms"' if isinstance(frame, bytes) else '"start_ms"'
    if marker not in frame:
        return None
    try:
        start = _timed.decode(frame).start_ms
    except (msgspec.DecodeError, RecursionError):
        return None
    if isinstance(start, bool) or not isinstance(start, int | float):
        return None
    return float(start)


class LiveMedia(msgspec.Struct, MediaFold, kw_only=True):
    fmt: AudioFormat = DEFAULT_FORMAT
    chosen: bool = False  # session.start named the format (session.started may not override)

    def formats(self) -> tuple[AudioFormat, AudioFormat]:
        return self.fmt, self.fmt

    def feed(self, row: MediaRow, *, decode: bool = True) -> list[MediaFact]:
        kind = row.type
        if kind == INPUT_AUDIO:
            # The client's audio on the primary; the server's copy of it on a sideband.
            fmt = self.fmt if row.direction == "client" else SIDEBAND_FORMAT
            data, nbytes, problem = chunk_audio(row, ("audio",), decode)
            return [AudioChunk("user", fmt, nbytes, data, problem=problem)]
        if kind == OUTPUT_AUDIO:
            if row.direction != "server":
                return []
            at = media_ms(row.frame)
            fmt = self.fmt if at is None else SIDEBAND_FORMAT
            data, nbytes, problem = chunk_audio(row, ("delta",), decode)
            return [AudioChunk("assistant", fmt, nbytes, data, media_ms=at, problem=problem)]
        if kind in CONTROL_TYPES:
            self._configure(row)
        return []

    def _configure(self, row: MediaRow) -> None:
        client = row.type == "session.start"
        if client != (row.direction == "client") or (not client and self.chosen):
            return
        try:
            session = _session.decode(row.frame or b"").session
        except (msgspec.DecodeError, RecursionError):
            return
        fmt = session_format(session)
        if fmt is not None:
            self.fmt = fmt
            self.chosen = self.chosen or client
