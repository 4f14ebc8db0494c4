"""Frame ⇄ event row: what the log stores for each frame, and how the frame comes back.

Audio dominates a Realtime session and base64 costs a third more than the audio,
so audio frames are stored compacted: the frame text with its base64 string emptied,
the decoded bytes beside it, and the offset where the base64 goes back.  A frame is
compacted only after proving that the reverse gives it back exactly; anything else
(binary frames, malformed JSON, non-canonical base64, escaped slashes) is kept whole.
Pure: no I/O.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Union

import msgspec

from rtrec.events import AUDIO_FIELD, UNPARSABLE, Envelope, decode_envelope
from rtrec.secrets import REDACTED as REDACTED_TEXT
from rtrec.secrets import scrub_frame

BINARY = 1
REDACTED = 2
NOT_JSON = 4


@dataclass(slots=True)
class EncodedFrame:
    """The columns of an event row that depend on the frame."""

    type: str | None
    event_id: str | None
    item_id: str | None
    response_id: str | None
    flags: int
    frame: str | bytes
    audio: bytes | None = None
    audio_at: int | None = None


# Audio events decoded with the base64 field as bytes: msgspec decodes base64 several
# times faster than binascii, in the same pass that finds the ids.
class _AppendBytes(msgspec.Struct, tag="input_audio_buffer.append", tag_field="type"):
    audio: bytes
    event_id: str | None = None


class _DeltaBytes(msgspec.Struct, tag="response.output_audio.delta", tag_field="type"):
    delta: bytes
    event_id: str | None = None
    item_id: str | None = None
    response_id: str | None = None


class _BetaDeltaBytes(_DeltaBytes, tag="response.audio.delta"):
    pass


# The same events with the field as text, to check the emptied frame.
class _AppendText(msgspec.Struct, tag="input_audio_buffer.append", tag_field="type"):
    audio: str


class _DeltaText(msgspec.Struct, tag="response.output_audio.delta", tag_field="type"):
    delta: str


class _BetaDeltaText(_DeltaText, tag="response.audio.delta"):
    pass


_audio_bytes_decoder = msgspec.json.Decoder(Union[_AppendBytes, _DeltaBytes, _BetaDeltaBytes])  # noqa: UP007
_audio_text_decoder = msgspec.json.Decoder(Union[_AppendText, _DeltaText, _BetaDeltaText])  # noqa: UP007


def encode_frame(
    frame: str | bytes,
    secrets: Collection[str] = (),
    patterns: Collection[re.Pattern[str]] = (),
) -> EncodedFrame:
    """The row columns for one frame; never raises on any input.

    `secrets` are values to scrub wherever they appear, `patterns` the user's --redact
    regular expressions; a frame they change is stored changed and flagged REDACTED.
    """
    if isinstance(frame, bytes):
        return EncodedFrame(None, None, None, None, BINARY, frame)
    try:
        return _encode_text(frame, secrets, patterns)
    except Exception:  # a frame must be kept, whatever it holds
        # Last resort for input no parser here can take: keep it whole, secrets scrubbed
        # by plain text replacement.
        scrubbed = frame
        for secret in secrets:
            scrubbed = scrubbed.replace(secret, REDACTED_TEXT)
        for pattern in patterns:
            scrubbed = pattern.sub(REDACTED_TEXT, scrubbed)
        flags = NOT_JSON | (REDACTED if scrubbed != frame else 0)
        return EncodedFrame(None, None, None, None, flags, scrubbed)


def _encode_text(
    frame: str, secrets: Collection[str], patterns: Collection[re.Pattern[str]]
) -> EncodedFrame:
    leading = _leading_type(frame)
    if leading is None or leading in AUDIO_FIELD:
        compact = _compact_audio(frame, secrets, patterns)
        if compact is not None:
            return compact
    envelope = decode_envelope(frame)
    flags = 0
    if envelope is None:
        envelope = Envelope()
        flags |= NOT_JSON
    scrubbed = scrub_frame(frame, secrets, patterns)
    if scrubbed is not None:
        frame = scrubbed
        flags |= REDACTED
    return EncodedFrame(
        envelope.type,
        envelope.event_id,
        envelope.item_ref(),
        envelope.response_ref(),
        flags,
        frame,
    )


def _leading_type(frame: str) -> str | None:
    """The type of a frame that starts with it, as servers and most clients write them.

    It spares other frames a failed tagged-union decode; None means "look closer".
    """
    for prefix in ('{"type":"', '{"type": "'):
        if frame.startswith(prefix):
            end = frame.find('"', len(prefix))
            if end > 0:
                return frame[len(prefix) : end]
    return None


def _compact_audio(
    frame: str, secrets: Collection[str], patterns: Collection[re.Pattern[str]]
) -> EncodedFrame | None:
    try:
        event = _audio_bytes_decoder.decode(frame)
    except (msgspec.ValidationError, *UNPARSABLE):
        return None  # not an audio event, or its base64 is invalid: keep the frame whole
    if isinstance(event, _AppendBytes):
        audio, event_type, key = event.audio, "input_audio_buffer.append", '"audio"'
        item_id = response_id = None
    else:
        audio, key = event.delta, '"delta"'
        event_type = (
            "response.audio.delta"
            if isinstance(event, _BetaDeltaBytes)
            else ("response.output_audio.delta")
        )
        item_id, response_id = event.item_id, event.response_id
    start = _string_value_start(frame, key)
    if start < 0:
        return None
    n = len(audio)
    end = start + (n + 2) // 3 * 4
    # A quote exactly where canonical base64 of n bytes would end means the string held
    # no JSON escapes (base64 has no quote; an escape would make the text longer).
    if frame[end : end + 1] != '"':
        return None
    # Strict base64 can still differ in the unused bits of the last quantum.
    if n:
        tail = n % 3 or 3
        if binascii.b2a_base64(audio[n - tail :], newline=False).decode() != frame[end - 4 : end]:
            return None
    stripped = frame[:start] + frame[end:]
    # The emptied string must be the field msgspec decoded, not a nested or repeated key.
    try:
        check = _audio_text_decoder.decode(stripped)
    except (msgspec.ValidationError, *UNPARSABLE):
        return None
    if (check.audio if isinstance(check, _AppendText) else check.delta) != "":
        return None
    if scrub_frame(stripped, secrets, patterns) is not None:
        return None  # rare: let the whole-frame path redact it
    return EncodedFrame(event_type, event.event_id, item_id, response_id, 0, stripped, audio, start)


_JSON_SPACE = " \t\n\r"


def _string_value_start(frame: str, key: str) -> int:
    """Index just inside the opening quote of the first `key: "…"` pair, or -1.

    Clients differ in spacing (the openai SDK sends `"audio": "…"`), so JSON whitespace
    around the colon is allowed.
    """
    at = frame.find(key)
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


def scrubbed_text(
    frame: str, secrets: Collection[str] = (), patterns: Collection[re.Pattern[str]] = ()
) -> tuple[str, bool]:
    """The frame as the log keeps it, secrets scrubbed, without decoding its audio.

    Mirrors encode_frame: in an audio frame only the text around the base64 is looked
    at, unless something there needs scrubbing.  For the spill file, which must be
    cheap when the database has fallen behind.  Returns (text, whether it changed).
    """
    leading = _leading_type(frame)
    key = AUDIO_FIELD.get(leading) if leading is not None else None
    if key is not None:
        start = _string_value_start(frame, f'"{key}"')
        end = frame.find('"', start) if start >= 0 else -1
        if end >= 0 and scrub_frame(frame[:start] + frame[end:], secrets, patterns) is None:
            return frame, False
    scrubbed = scrub_frame(frame, secrets, patterns)
    return (frame, False) if scrubbed is None else (scrubbed, True)


def decode_frame(frame: str | bytes, audio: bytes | None, audio_at: int | None) -> str | bytes:
    """The frame exactly as it crossed the wire (or as redacted, for flagged rows)."""
    if audio is None or audio_at is None:
        return frame
    assert isinstance(frame, str)
    b64 = binascii.b2a_base64(audio, newline=False).decode("ascii")
    return frame[:audio_at] + b64 + frame[audio_at:]
