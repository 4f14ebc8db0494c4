"""The projector's input: the columns of one event row, not the decoded frame.

The log already keeps type, ids, time and direction in columns, and the byte length
of compacted audio, so most events (audio above all) are folded without parsing
their frame.  `frame` is the frame text for rows whose payload is needed, and None
for compacted audio rows.  Pure.
"""

from __future__ import annotations

from typing import NamedTuple


class EventRow(NamedTuple):
    seq: int
    t_ns: int
    direction: str
    type: str | None
    event_id: str | None
    item_id: str | None
    response_id: str | None
    audio_len: int | None  # length(event.audio): decoded bytes of a compacted audio frame
    frame: str | bytes | None
