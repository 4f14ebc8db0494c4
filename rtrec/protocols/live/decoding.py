"""Decoding a GPT-Live event row's payload for the projector.  Pure."""

from __future__ import annotations

from typing import Any

import msgspec

from rtrec.projector.event_row import EventRow
from rtrec.protocols.live.events import EVENT_CLASSES, UnknownEvent, decode_event

_CLASS_BY_TYPE: dict[str, type] = {
    cls.__struct_config__.tag: cls  # type: ignore[misc]
    for cls in EVENT_CLASSES
}


def decode_row(row: EventRow) -> Any:
    """The row's event; None if it cannot be read (the projector counts it malformed)."""
    frame = row.frame
    event = decode_event(frame) if frame is not None else None
    if isinstance(event, UnknownEvent):
        event = _salvage(event)
    return event


def _salvage(event: UnknownEvent) -> Any:
    """A known type with an unexpected shape: accept what lax conversion can read."""
    cls = _CLASS_BY_TYPE.get(event.type or "")
    if cls is None or not isinstance(event.data, dict):
        return None
    try:
        return msgspec.convert(event.data, cls, strict=False)
    except (msgspec.ValidationError, RecursionError):
        return None
