"""The events the exporter reads, and the event types it reads them by.  Pure: no I/O."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import msgspec

from rtrec.events import AUDIO_FIELD

INPUT_AUDIO = "input_audio_buffer.append"
OUTPUT_AUDIO = frozenset({"response.output_audio.delta", "response.audio.delta"})
AUDIO_TYPES = frozenset({INPUT_AUDIO, *OUTPUT_AUDIO})
OUTPUT_AUDIO_DONE = frozenset({"response.output_audio.done", "response.audio.done"})

SESSION_CONFIRMS = frozenset(
    {
        "session.created",
        "session.updated",
        "transcription_session.created",
        "transcription_session.updated",
    }
)
SESSION_REQUESTS = frozenset({"session.update", "transcription_session.update"})
FORMAT_TYPES = frozenset(
    {
        *SESSION_CONFIRMS,
        *SESSION_REQUESTS,
        "response.create",
        "response.created",
        "response.done",
        "error",
    }
)
TRUNCATE_TYPES = frozenset({"conversation.item.truncate", "conversation.item.truncated", "error"})
# Everything the main pass reads besides the audio itself.
CONTROL_TYPES = frozenset(
    {
        *FORMAT_TYPES,
        "input_audio_buffer.committed",
        "input_audio_buffer.clear",
        *OUTPUT_AUDIO_DONE,
    }
)


@dataclass(slots=True)
class Row:
    """One event the exporter cares about.

    Audio rows carry `audio` (the decoded bytes) or, when the frame's audio cannot be
    decoded, `problem`; other rows carry the parsed `event`.
    """

    seq: int
    t_ns: int
    direction: str
    type: str
    item_id: str | None = None
    response_id: str | None = None
    audio: bytes | None = None
    problem: str | None = None
    event: dict[str, Any] | None = None


def audio_from_frame(event_type: str, frame: str | bytes | None) -> tuple[bytes | None, str | None]:
    """(audio, None) from a whole audio frame, or (None, why it cannot be decoded)."""
    event = parse_event(frame)
    if event is None:
        return None, "the frame is not a JSON object"
    field = AUDIO_FIELD[event_type]
    value = event.get(field, "")
    if not isinstance(value, str):
        return None, f"its {field!r} is not a string"
    try:
        return base64.b64decode(value, validate=True), None
    except (binascii.Error, ValueError):
        return None, f"its {field!r} is not valid base64"


def parse_event(frame: str | bytes | None) -> dict[str, Any] | None:
    """The frame as a JSON object, or None."""
    if frame is None:
        return None
    try:
        event = msgspec.json.decode(frame)
    except msgspec.DecodeError:
        return None
    return event if isinstance(event, dict) else None
