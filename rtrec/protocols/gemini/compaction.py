"""Gemini audio frames stored compacted: one audio blob's base64 emptied, its bytes beside.

The base64 sits in a blob's `data`, nested in the message: `realtimeInput.audio`,
`realtimeInput.mediaChunks[0]`, or `serverContent.modelTurn.parts[i].inlineData`.
A frame is compacted only when it holds exactly one `"data"` key, that blob is audio,
and the base64 is canonical in one alphabet: standard (what the server sends) or
URL-safe (what the google-genai SDK sends), flagged AUDIO_URLSAFE so the frame comes
back with the alphabet it had.  Anything else (two blobs, unpadded or mixed base64,
escapes) is kept whole.  Pure.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Collection
from typing import Any

import msgspec

from rtrec.audio_format import PCM16_24K
from rtrec.protocols.base import EncodedFrame
from rtrec.protocols.compaction import canonical_end, string_value_start
from rtrec.protocols.gemini.media import (
    MODEL_CONTENT,
    USER_AUDIO,
    _get,
    audio_format,
    model_blobs,
    user_blobs,
)
from rtrec.protocols.gemini.messages import kind_of
from rtrec.protocols.parsing import UNPARSABLE
from rtrec.secrets import scrub_frame
from rtrec.store.frames import AUDIO_URLSAFE

DATA_KEY = '"data"'
_URLSAFE = b"-_"
# How frames that carry audio begin, as the SDK and the server write them.
_AUDIO_PREFIXES = re.compile(r'\{\s*"(realtime_input|realtimeInput|serverContent|server_content)"')


def leads_with_audio_kind(frame: str) -> bool:
    return _AUDIO_PREFIXES.match(frame) is not None


def decode_strict(text: str) -> tuple[bytes, bool] | None:
    """(bytes, url-safe) of base64 in one alphabet, padded; None if it is anything else."""
    urlsafe = "-" in text or "_" in text
    if urlsafe:
        if "+" in text or "/" in text:
            return None
        text = text.translate(_TO_STANDARD)
    try:
        return binascii.a2b_base64(text, strict_mode=True), urlsafe
    except (binascii.Error, ValueError):
        return None


_TO_STANDARD = str.maketrans("-_", "+/")


def compact(
    frame: str, secrets: Collection[str], patterns: Collection[re.Pattern[str]]
) -> EncodedFrame | None:
    """The frame compacted, or None if it is not an audio frame that comes back exactly."""
    if frame.count(DATA_KEY) != 1:
        return None
    try:
        message: Any = msgspec.json.decode(frame)
    except UNPARSABLE:
        return None
    if not isinstance(message, dict):
        return None
    kind = kind_of(message)
    if kind == USER_AUDIO:
        blobs = user_blobs(message)
    elif kind == MODEL_CONTENT:
        blobs = model_blobs(_get(message, MODEL_CONTENT))
    else:
        return None
    if len(blobs) != 1:
        return None
    blob = blobs[0]
    text = _get(blob, "data")
    if not isinstance(text, str) or audio_format(_get(blob, "mimeType"), PCM16_24K) is None:
        return None
    decoded = decode_strict(text)
    if decoded is None:
        return None
    audio, urlsafe = decoded
    start = string_value_start(frame, DATA_KEY)
    if start < 0:
        return None
    end = canonical_end(frame, start, audio, _URLSAFE if urlsafe else None)
    if end < 0 or end - start != len(text):
        return None
    stripped = frame[:start] + frame[end:]
    if scrub_frame(stripped, secrets, patterns) is not None:
        return None  # rare: let the whole-frame path redact it
    flags = AUDIO_URLSAFE if urlsafe else 0
    return EncodedFrame(kind, None, None, None, flags, stripped, audio, start)
