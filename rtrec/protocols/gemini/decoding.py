"""Decoding a Gemini event row's payload for the projector, and small shared helpers.  Pure."""

from __future__ import annotations

from typing import Any

import msgspec

from rtrec.projector.event_row import EventRow
from rtrec.protocols.gemini.messages import UnknownMessage, decode_message


def decode_row(row: EventRow) -> Any:
    """The row's message; None if it cannot be read (the projector counts it malformed)."""
    frame = row.frame
    message = decode_message(frame) if frame is not None else None
    if message is None or isinstance(message, UnknownMessage):
        return None
    return message


def compact_json(value: Any) -> str:
    """JSON without whitespace, keys in the order they came, UTF-8 as is."""
    return msgspec.json.encode(value).decode()
