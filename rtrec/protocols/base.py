"""What every protocol adapter answers, in one shape for all three families.  Pure.

An adapter knows one family's wire format (OpenAI Realtime, OpenAI GPT-Live, Google
Gemini Live).  Every reader goes through it, so no two readers can disagree:

- recognition: which sessions are its own (the request path, then the first frames);
- the row columns of a frame (`envelope`) and how its audio is stored compacted;
- media: `media()` is a fold over the session's rows (rtrec/protocols/media.py) that
  says, for each audio chunk, which track it belongs to, its format and its media time,
  plus the marks that shape the tracks (an item's audio ended, a truncation, a
  barge-in).  The writer's live
  counters, the projector's audio seconds, the terminal replay and export-wav all take
  their formats and durations from it;
- projection: `handlers` rebuild items, replies, turns, tool calls and usage into the
  projector's state (rtrec/projector);
- the terminal replay's one-line descriptions (`describe`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from functools import cached_property
from typing import TYPE_CHECKING, Any

import msgspec

# The layer's vocabulary, named here too (most readers import it from this module).
from rtrec.protocols.media import (
    AssistantFlushed,
    AudioChunk,
    ItemAudioDone,
    MediaFact,
    MediaFold,
    MediaRow,
    ReplyDone,
    RequestFailed,
    Track,
    Truncated,
    UserCleared,
    UserCommitted,
    chunk_audio,
)
from rtrec.protocols.parsing import (
    UNPARSABLE,
    Json,
    base64_decoded_length,
    decode_base64,
    parse_json,
    parse_object,
)

if TYPE_CHECKING:
    from rtrec.projector.spec import Handlers
    from rtrec.protocols.describe import Description


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


__all__ = [
    "NO_ENVELOPE",
    "UNPARSABLE",
    "Adapter",
    "AssistantFlushed",
    "AudioChunk",
    "EncodedFrame",
    "Envelope",
    "ItemAudioDone",
    "Json",
    "MediaFact",
    "MediaFold",
    "MediaRow",
    "ReplyDone",
    "RequestFailed",
    "Track",
    "Truncated",
    "UserCleared",
    "UserCommitted",
    "base64_decoded_length",
    "chunk_audio",
    "decode_base64",
    "parse_json",
    "parse_object",
]
