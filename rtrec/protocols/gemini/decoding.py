"""Decoding a Gemini event row's payload for the projector, and small shared helpers.  Pure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from rtrec.projector.event_row import EventRow
from rtrec.protocols.event_union import decoding_as
from rtrec.protocols.gemini.messages import UnknownMessage, decode_message

T = TypeVar("T")


def decoded(cls: type[T]) -> Callable[[EventRow], T | None]:
    """The row decoder of the handler that takes a `cls` message."""
    return decoding_as(decode_row, cls)


def decode_row(row: EventRow) -> object:
    """The row's message; None if it cannot be read (the projector counts it malformed)."""
    frame = row.frame
    message = decode_message(frame) if frame is not None else None
    if message is None or isinstance(message, UnknownMessage):
        return None
    return message


def compact_json(value: Any) -> str:
    """JSON without whitespace, keys in the order they came, UTF-8 as is."""
    return msgspec.json.encode(value).decode()
