"""Frame ⇄ event row: what the log stores for each frame, and how the frame comes back.

The session's protocol adapter reads the row columns from the frame (type and ids)
and stores audio frames compacted where it can prove the frame comes back exactly
(see rtrec/protocols/compaction.py); everything else (binary frames, malformed JSON,
anything unproven) is kept whole.  Secrets are scrubbed on the way in.  Pure: no I/O.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Collection

from rtrec.protocols import adapter_named
from rtrec.protocols.base import NO_ENVELOPE, Adapter, EncodedFrame
from rtrec.protocols.compaction import string_value_start
from rtrec.secrets import REDACTED as REDACTED_TEXT
from rtrec.secrets import scrub_frame

BINARY = 1
REDACTED = 2
NOT_JSON = 4
AUDIO_URLSAFE = 8  # the compacted audio's base64 used the URL-safe alphabet (Gemini)

_REALTIME: Adapter | None = None


def _default_adapter() -> Adapter:
    global _REALTIME
    if _REALTIME is None:
        _REALTIME = adapter_named(None)
    return _REALTIME


def encode_frame(
    frame: str | bytes,
    secrets: Collection[str] = (),
    patterns: Collection[re.Pattern[str]] = (),
    adapter: Adapter | None = None,
) -> EncodedFrame:
    """The row columns for one frame of a session of this protocol; never raises.

    `secrets` are values to scrub wherever they appear, `patterns` the user's --redact
    regular expressions; a frame they change is stored changed and flagged REDACTED.
    """
    adapter = adapter or _default_adapter()
    if isinstance(frame, bytes):
        if adapter.json_in_binary:
            try:
                typed = _encode_binary_json(frame, secrets, patterns, adapter)
            except Exception:  # as for text frames: a frame must be kept, whatever it holds
                typed = None
            if typed is not None:
                return typed
        return EncodedFrame(None, None, None, None, BINARY, frame)
    adapter = adapter or _default_adapter()
    try:
        return _encode_text(frame, secrets, patterns, adapter)
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
    frame: str,
    secrets: Collection[str],
    patterns: Collection[re.Pattern[str]],
    adapter: Adapter,
) -> EncodedFrame:
    compact = adapter.compact(frame, secrets, patterns)
    if compact is not None:
        return compact
    envelope = adapter.envelope(frame)
    flags = 0
    if envelope is None:
        envelope = NO_ENVELOPE
        flags |= NOT_JSON
    elif envelope.type in adapter.scrub_types:
        structural = adapter.scrub(frame)
        if structural is not None:
            frame = structural
            flags |= REDACTED
    scrubbed = scrub_frame(frame, secrets, patterns)
    if scrubbed is not None:
        frame = scrubbed
        flags |= REDACTED
    return EncodedFrame(
        envelope.type,
        envelope.event_id,
        envelope.item_id,
        envelope.response_id,
        flags,
        frame,
    )


def _encode_binary_json(
    frame: bytes,
    secrets: Collection[str],
    patterns: Collection[re.Pattern[str]],
    adapter: Adapter,
) -> EncodedFrame | None:
    """A binary frame holding a UTF-8 JSON object, typed (and compacted) like a text frame.

    Gemini Live's server sends its JSON messages as binary frames.  The row keeps the
    BINARY flag, so the frame comes back as bytes: whole frames as the bytes (or their
    scrubbed text, encoded), compacted ones as their text with the audio put back,
    encoded.  None: keep it as an untyped binary frame.
    """
    try:
        text = frame.decode("utf-8")
    except UnicodeDecodeError:
        return None
    enc = _encode_text(text, secrets, patterns, adapter)
    if enc.flags & NOT_JSON or enc.type is None:
        return None
    enc.flags |= BINARY
    if enc.audio is None:
        enc.frame = frame if not enc.flags & REDACTED else str(enc.frame).encode()
    return enc


def scrubbed_text(
    frame: str,
    secrets: Collection[str] = (),
    patterns: Collection[re.Pattern[str]] = (),
    adapter: Adapter | None = None,
) -> tuple[str, bool]:
    """The frame as the log keeps it, secrets scrubbed, without decoding its audio.

    Mirrors encode_frame: in an audio frame only the text around the base64 is looked
    at, unless something there needs scrubbing.  For the spill file, which must be
    cheap when the database has fallen behind.  Returns (text, whether it changed).
    """
    adapter = adapter or _default_adapter()
    key = adapter.audio_key(frame)
    if key is not None:
        start = string_value_start(frame, key)
        end = frame.find('"', start) if start >= 0 else -1
        if end >= 0 and scrub_frame(frame[:start] + frame[end:], secrets, patterns) is None:
            return frame, False
    changed = False
    if adapter.scrub_types:
        envelope = adapter.envelope(frame)
        if envelope is not None and envelope.type in adapter.scrub_types:
            structural = adapter.scrub(frame)
            if structural is not None:
                frame, changed = structural, True
    scrubbed = scrub_frame(frame, secrets, patterns)
    return (frame, changed) if scrubbed is None else (scrubbed, True)


def decode_frame(
    frame: str | bytes, audio: bytes | None, audio_at: int | None, flags: int = 0
) -> str | bytes:
    """The frame exactly as it crossed the wire (or as redacted, for flagged rows)."""
    if audio is None or audio_at is None:
        return frame
    assert isinstance(frame, str)
    b64 = binascii.b2a_base64(audio, newline=False)
    if flags & AUDIO_URLSAFE:
        b64 = b64.translate(_URLSAFE)
    text = frame[:audio_at] + b64.decode("ascii") + frame[audio_at:]
    return text.encode() if flags & BINARY else text


_URLSAFE = bytes.maketrans(b"+/", b"-_")
