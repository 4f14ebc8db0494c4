"""Audio frames stored compacted: the frame text with its base64 emptied, the bytes beside it.

Audio dominates a voice session and base64 costs a third more than the audio, so an
audio frame is stored as the frame with its base64 string emptied, the decoded bytes,
and the offset where the base64 goes back.  A frame is compacted only after proving
that the reverse gives it back exactly; anything else (malformed JSON, non-canonical
base64, escaped slashes, the field in an unexpected place) is kept whole.

`FieldCompactor` handles the OpenAI shape: a `type` tag and the base64 in one
top-level string field (`audio` or `delta`).  Pure: no I/O.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Collection, Mapping
from typing import Any, Union

import msgspec

from rtrec.protocols.base import EncodedFrame
from rtrec.protocols.parsing import UNPARSABLE
from rtrec.secrets import scrub_frame

_JSON_SPACE = " \t\n\r"


def leading_type(frame: str) -> str | None:
    """The type of a frame that starts with it, as servers and most clients write them.

    It spares other frames a failed tagged-union decode; None means "look closer".
    """
    for prefix in ('{"type":"', '{"type": "'):
        if frame.startswith(prefix):
            end = frame.find('"', len(prefix))
            if end > 0:
                return frame[len(prefix) : end]
    return None


def string_value_start(frame: str, key: str, start: int = 0) -> int:
    """Index just inside the opening quote of the first `key: "…"` pair, or -1.

    Clients differ in spacing (the openai SDK sends `"audio": "…"`), so JSON whitespace
    around the colon is allowed.
    """
    at = frame.find(key, start)
    while at >= 0:
        i = at + len(key)
        while i < len(frame) and frame[i] in _JSON_SPACE:
            i += 1
        if frame[i : i + 1] == ":":
            i += 1
            while i < len(frame) and frame[i] in _JSON_SPACE:
                i += 1
            return i + 1 if frame[i : i + 1] == '"' else -1
        at = frame.find(key, at + 1)
    return -1


def canonical_end(frame: str, start: int, audio: bytes, altchars: bytes | None = None) -> int:
    """Where the base64 of `audio` written from `start` ends, or -1 if the frame differs.

    A quote exactly where canonical base64 of n bytes would end means the string held
    no JSON escapes (base64 has no quote; an escape would make the text longer).  Strict
    base64 can still differ in the unused bits of the last quantum, so that is checked.
    """
    n = len(audio)
    end = start + (n + 2) // 3 * 4
    if frame[end : end + 1] != '"':
        return -1
    if n:
        tail = n % 3 or 3
        last = binascii.b2a_base64(audio[n - tail :], newline=False)
        if altchars is not None:
            last = last.translate(bytes.maketrans(b"+/", altchars))
        if last.decode() != frame[end - 4 : end]:
            return -1
    return end


class FieldCompactor:
    """Compacts events whose base64 audio sits in one top-level string field.

    `fields` maps event type → field name.  The decoders are built once: one pass of
    msgspec finds the ids and decodes the base64 (several times faster than binascii).
    """

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = dict(fields)
        byte_structs = []
        text_structs = []
        for event_type, field in self.fields.items():
            name = "".join(part.title() for part in re.split(r"[._]", event_type))
            byte_structs.append(
                msgspec.defstruct(
                    name + "Bytes",
                    [
                        (field, bytes),
                        ("event_id", Union[str, None], None),  # noqa: UP007
                        ("item_id", Union[str, None], None),  # noqa: UP007
                        ("response_id", Union[str, None], None),  # noqa: UP007
                    ],
                    tag=event_type,
                    tag_field="type",
                )
            )
            text_structs.append(
                msgspec.defstruct(name + "Text", [(field, str)], tag=event_type, tag_field="type")
            )
        self._bytes = msgspec.json.Decoder(Union[tuple(byte_structs)])  # noqa: UP007
        self._text = msgspec.json.Decoder(Union[tuple(text_structs)])  # noqa: UP007
        self._keys = {event_type: f'"{field}"' for event_type, field in self.fields.items()}

    def compact(
        self, frame: str, secrets: Collection[str], patterns: Collection[re.Pattern[str]]
    ) -> EncodedFrame | None:
        leading = leading_type(frame)
        if leading is not None and leading not in self.fields:
            return None  # most frames: not audio, known without a failed decode
        try:
            event: Any = self._bytes.decode(frame)
        except (msgspec.ValidationError, *UNPARSABLE):
            return None  # not an audio event, or its base64 is invalid: keep it whole
        event_type = event.__struct_config__.tag
        field = self.fields[event_type]
        audio: bytes = getattr(event, field)
        start = string_value_start(frame, self._keys[event_type])
        if start < 0:
            return None
        end = canonical_end(frame, start, audio)
        if end < 0:
            return None
        stripped = frame[:start] + frame[end:]
        # The emptied string must be the field msgspec decoded, not a nested or repeated key.
        try:
            check = self._text.decode(stripped)
        except (msgspec.ValidationError, *UNPARSABLE):
            return None
        if getattr(check, field) != "":
            return None
        if scrub_frame(stripped, secrets, patterns) is not None:
            return None  # rare: let the whole-frame path redact it
        return EncodedFrame(
            event_type, event.event_id, event.item_id, event.response_id, 0, stripped, audio, start
        )

    def audio_key(self, frame: str) -> str | None:
        """The quoted field name of a frame that leads with an audio type, else None."""
        leading = leading_type(frame)
        return self._keys.get(leading) if leading is not None else None
