"""What every protocol adapter answers, in one shape for all three families.  Pure.

An adapter knows one family's wire format (OpenAI Realtime, OpenAI GPT-Live, Google
Gemini Live).  Every reader goes through it, so no two readers can disagree:

- recognition: which sessions are its own (the request path, then the first frames);
- the row columns of a frame (`envelope`) and how its audio is stored compacted;
- media: `media()` is a fold over the session's rows that says, for each audio chunk,
  which track it belongs to, its format and its media time, plus the marks that shape
  the tracks (an item's audio ended, a truncation, a barge-in).  The writer's live
  counters, the projector's audio seconds, the terminal replay and export-wav all take
  their formats and durations from it;
- projection: `handlers` rebuild items, replies, turns, tool calls and usage into the
  projector's state (rtrec/projector);
- the terminal replay's one-line descriptions (`describe`).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Collection
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from rtrec.audio_format import DEFAULT_FORMAT, AudioFormat

if TYPE_CHECKING:
    from rtrec.projector.fold import Handlers
    from rtrec.protocols.describe import Description

Json = dict[str, Any]

# JSON that cannot be parsed: malformed, or nested deeper than the parser recurses.
UNPARSABLE = (msgspec.DecodeError, RecursionError)

Track = Literal["user", "assistant"]


def base64_decoded_length(text: str) -> int:
    """Bytes that a canonical base64 string decodes to, without decoding it."""
    n = len(text)
    if n == 0:
        return 0
    return n // 4 * 3 - (text.endswith("==") + text.endswith("="))


def decode_base64(text: str) -> bytes:
    """Standard or URL-safe base64 (Gemini sends either), padded or not; strict otherwise."""
    padded = text + "=" * (-len(text) % 4)
    if "-" in text or "_" in text:
        return base64.b64decode(padded, altchars=b"-_", validate=True)
    return base64.b64decode(padded, validate=True)


def parse_json(frame: str | bytes | None) -> Any:
    """The frame's JSON value, or None if it is not JSON."""
    if frame is None:
        return None
    try:
        return msgspec.json.decode(frame)
    except UNPARSABLE:
        return None


def parse_object(frame: str | bytes | None) -> Json | None:
    """The frame as a JSON object, or None."""
    value = parse_json(frame)
    return value if isinstance(value, dict) else None


class Envelope(msgspec.Struct):
    """The columns of an event row taken from the frame: its type and ids.

    A Struct so that an adapter's decoder can read straight into it (or a subclass)
    on the hot path of the writer.
    """

    type: str | None = None
    event_id: str | None = None
    item_id: str | None = None
    response_id: str | None = None


NO_ENVELOPE = Envelope()


# -- media ------------------------------------------------------------------------------


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


# -- compaction -------------------------------------------------------------------------


class EncodedFrame(msgspec.Struct):
    """The columns of an event row that depend on the frame."""

    type: str | None
    event_id: str | None
    item_id: str | None
    response_id: str | None
    flags: int
    frame: str | bytes
    audio: bytes | None = None
    audio_at: int | None = None


# -- the adapter ------------------------------------------------------------------------


class Adapter:
    """One protocol family.  Subclasses set the attributes and override the methods."""

    name: str = ""
    # The endpoint a session of this family is opened at, when a recording has no path
    # of its own (an import): where `replay --to ORIGIN` re-sends it.
    default_path: str = ""
    # Row types whose frames may carry audio, and the control types the media fold
    # reads besides them (formats, item and reply boundaries, truncations).
    audio_types: frozenset[str] = frozenset()
    control_types: frozenset[str] = frozenset()
    # Row types whose frames may hold credentials in known places (see `scrub`).
    scrub_types: frozenset[str] = frozenset()
    # What its audio events are, for "this session has no audio (…)".
    audio_description: str = "no audio events"
    # Every type the adapter interprets; others are counted as unknown.
    known_types: frozenset[str] = frozenset()
    # Why export-wav's --split means nothing for this family (None: it splits by
    # response and item).
    split_refusal: str | None = None
    # Whether the media fold reads the frame text of compacted audio rows too (their
    # audio is never loaded for it); Realtime's knows each chunk's format without it.
    audio_frames: bool = False
    # Whether binary frames may hold this family's JSON messages (Gemini's server sends
    # them so): such frames are typed and compacted like text frames, and stay binary.
    json_in_binary: bool = False

    @cached_property
    def media_types(self) -> frozenset[str]:
        return self.audio_types | self.control_types

    def claims_path(self, path: str) -> bool:
        """Whether a request path is one of this family's endpoints."""
        return False

    def claims_frame(self, direction: str, obj: Json) -> bool:
        """Whether a first JSON frame (from this side) opens one of this family's sessions."""
        return False

    def envelope(self, frame: str) -> Envelope | None:
        """Type and ids of a text frame; None if it is not JSON."""
        raise NotImplementedError

    def compact(
        self, frame: str, secrets: Collection[str], patterns: Collection[re.Pattern[str]]
    ) -> EncodedFrame | None:
        """The frame stored compacted (audio as bytes), if that gives it back exactly."""
        return None

    def audio_key(self, frame: str) -> str | None:
        """The quoted name of the field holding a frame's base64 audio, when it leads with
        an audio type (the spill's cheap scrub skips that field); None otherwise."""
        return None

    def direction_of_object(self, obj: Json) -> str | None:
        """The side that sends this event object, if it is one of this family's."""
        return None

    def kind_of_untyped(self, frame: str | bytes) -> str | None:
        """The row type of a frame whose row has none (rows written before the protocol's
        adapter existed: older rtrecs typed every frame by Realtime's `type` field)."""
        return None

    @property
    def types_untyped(self) -> Callable[[str | bytes], str | None] | None:
        """`kind_of_untyped` if this adapter types untyped rows; None: they stay untyped."""
        if type(self).kind_of_untyped is Adapter.kind_of_untyped:
            return None
        return self.kind_of_untyped

    def media(self) -> MediaFold:
        raise NotImplementedError

    def work(self) -> Any:
        """Fresh bookkeeping for a session of this family (its member of
        rtrec/protocols/work.py's `Work`, tagged with the family's name)."""
        raise NotImplementedError

    @property
    def handlers(self) -> Handlers:
        raise NotImplementedError

    def describe(self, event_type: str | None, frame: str) -> Description:
        """How the terminal replay shows one text frame (of this row type), or the text of
        a binary frame the adapter typed (see `json_in_binary`)."""
        raise NotImplementedError

    def scrub(self, frame: str) -> str | None:
        """The frame with this family's structural secrets removed; None if it holds none.

        Beyond the generic scrubbing (rtrec/secrets.py: the client's own credentials,
        key-shaped strings), some events carry credentials in known places (GPT-Live's
        MCP tool `authorization` and `headers` in `session.start`).
        """
        return None
