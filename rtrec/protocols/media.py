"""The media fold's vocabulary: the rows it reads and the facts it answers with.  Pure.

Every protocol's media fold (rtrec/protocols/<name>/media.py) is a `MediaFold`: fed the
session's audio and control rows (`MediaRow`) in order, it says, for each audio chunk,
which track it belongs to, its format and its media time (`AudioChunk`), plus the
marks that shape the tracks (an item's audio ended, a truncation, a barge-in).
"""

from __future__ import annotations

import binascii
from typing import Any, Literal

import msgspec

from rtrec.audio_format import DEFAULT_FORMAT, AudioFormat
from rtrec.protocols.parsing import base64_decoded_length, decode_base64, parse_object

Track = Literal["user", "assistant"]


class MediaRow(msgspec.Struct):
    """One event row as the media fold reads it.

    `audio` holds the decoded bytes of a compacted audio row (or its length only, in
    `audio_len`, when the reader did not load them); `frame` holds the frame text (for a
    compacted row, the text with its base64 emptied).
    """

    seq: int
    t_ns: int
    direction: str
    type: str | None
    item_id: str | None = None
    response_id: str | None = None
    audio: bytes | None = None
    audio_len: int | None = None
    frame: str | bytes | None = None
    flags: int = 0


class AudioChunk(msgspec.Struct):
    """A chunk of one track's audio.

    `data` is the decoded audio, or None when the reader asked for lengths only
    (`nbytes` is always set) or the chunk could not be decoded (`problem` says why).
    `media_ms`, when set, is where the chunk belongs on the session's clock (GPT-Live
    sideband copies carry it); otherwise the chunk is placed by its arrival.
    """

    track: Track
    fmt: AudioFormat
    nbytes: int
    data: bytes | None = None
    item_id: str | None = None
    response_id: str | None = None
    media_ms: float | None = None
    problem: str | None = None

    @property
    def duration_ms(self) -> float:
        return self.fmt.duration_ms(self.nbytes)


class ItemAudioDone(msgspec.Struct, frozen=True):
    """The assistant's audio for this item (or reply) is complete."""

    item_id: str | None


class ReplyDone(msgspec.Struct, frozen=True):
    """A model reply ended: its audio (of every item) is complete."""

    response_id: str | None


class UserCommitted(msgspec.Struct, frozen=True):
    """The user audio sent since the last commit or clear became this item."""

    item_id: str | None


class UserCleared(msgspec.Struct, frozen=True):
    """The user audio sent since the last commit was thrown away."""


class Truncated(msgspec.Struct, frozen=True):
    """The client cut this assistant item's audio at `audio_end_ms` of it (as heard)."""

    item_id: str
    audio_end_ms: int
    confirmed: bool  # by the server; a request alone counts unless an error names it
    request_id: str | None = None


class RequestFailed(msgspec.Struct, frozen=True):
    """An error named this client request: it took no effect."""

    request_id: str


class AssistantFlushed(msgspec.Struct, frozen=True):
    """A barge-in: assistant audio not yet played when this row arrived was never heard."""


MediaFact = (
    AudioChunk
    | ItemAudioDone
    | ReplyDone
    | UserCommitted
    | UserCleared
    | Truncated
    | RequestFailed
    | AssistantFlushed
)


class MediaFold:
    """A protocol's media state machine: rows in, facts out.

    Feed it the session's rows of `Adapter.media_types`, in order.  Subclasses are
    msgspec Structs (this is a field-less mixin) so that the projector can keep their
    state across restarts.
    """

    __slots__ = ()

    def feed(self, row: MediaRow, *, decode: bool = True) -> list[MediaFact]:
        """The facts of one row; with decode=False, chunks carry lengths only."""
        raise NotImplementedError

    def formats(self) -> tuple[AudioFormat, AudioFormat]:
        """(user, assistant) formats in force now, for display."""
        return DEFAULT_FORMAT, DEFAULT_FORMAT


def chunk_audio(
    row: MediaRow, path: tuple[str | int, ...], decode: bool
) -> tuple[bytes | None, int, str | None]:
    """(data, nbytes, problem) of the base64 audio at `path` in an audio row's frame.

    A compacted row already holds the bytes (or their length); otherwise the frame is
    parsed, and with decode=False only the length of the base64 text is taken.
    """
    if row.audio is not None:
        return (row.audio if decode else None), len(row.audio), None
    if row.audio_len is not None:
        return None, row.audio_len, None
    value: Any = parse_object(row.frame)
    if value is None:
        return None, 0, "the frame is not a JSON object"
    for key in path:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            value = None
            break
    field = str(path[-1])
    if not isinstance(value, str):
        return None, 0, f"its {field!r} is not a string"
    if not decode:
        return None, base64_decoded_length(value), None
    try:
        data = decode_base64(value)
    except (binascii.Error, ValueError):
        return None, 0, f"its {field!r} is not valid base64"
    return data, len(data), None
