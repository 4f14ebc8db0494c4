"""Reading frames: JSON that may not parse, base64 that may be URL-safe.  Pure.

The small helpers every adapter and reader shares; nothing here knows a protocol.
"""

from __future__ import annotations

import base64
from typing import Any

import msgspec

Json = dict[str, Any]

# JSON that cannot be parsed: malformed, or nested deeper than the parser recurses.
UNPARSABLE = (msgspec.DecodeError, RecursionError)


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
