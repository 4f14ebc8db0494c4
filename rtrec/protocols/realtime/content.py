"""An item's content: snapshots from the server merged with what deltas delivered.

Servers announce an item several times (added, done, output_item.done, retrieved)
and stream its text between.  A snapshot fills in what it knows and never erases
what deltas delivered with an empty or missing value.  Once the client truncated an
item's audio, its transcript stays as it was delivered: the API drops the unheard
part of the transcript server-side, but the user of rtrec wants what was said.  Pure.
"""

from __future__ import annotations

import msgspec

from rtrec.projector.state import ItemState, Part
from rtrec.protocols.realtime.events import ContentPart, Item

MAX_PARTS = 64  # a content_index beyond this is a server bug, not a reason to use memory

# Beta and the content_part events use short names; items use the GA ones.
_ASSISTANT_PART_TYPES = {"text": "output_text", "audio": "output_audio"}
KNOWN_PART_TYPES = frozenset(
    {
        "input_text",
        "input_audio",
        "input_image",
        "output_text",
        "output_audio",
        "text",
        "audio",
    }
)


def part_at(item: ItemState, index: int | None, default_type: str | None = None) -> Part:
    """The part at `index`, created (with `default_type`) if the item has none there yet."""
    i = index if isinstance(index, int) and 0 <= index < MAX_PARTS else 0
    parts = item.parts
    while len(parts) <= i:
        parts.append(Part())
    part = parts[i]
    if part.type is None and default_type is not None:
        part.type = default_type
    return part


def normalize_part_type(part_type: str | None, role: str | None) -> str | None:
    if part_type is None:
        return None
    if role != "user":
        return _ASSISTANT_PART_TYPES.get(part_type, part_type)
    return part_type


def merge_part(item: ItemState, index: int | None, snapshot: ContentPart) -> str | None:
    """Merge a snapshot of one part; returns the part type if it is one rtrec does not know."""
    part = part_at(item, index)
    unknown = None
    part_type = normalize_part_type(snapshot.type, item.role)
    # A short beta/content_part name gives way to the item's GA name, never the reverse.
    replaceable = part.type is None or part.type in _ASSISTANT_PART_TYPES
    if part_type is not None and part.type != part_type and replaceable:
        part.type = part_type
        if part_type not in KNOWN_PART_TYPES:
            unknown = part_type
    if item.truncated_ms is not None:
        return unknown
    if snapshot.text is not None and (snapshot.text or part.text is None):
        part.text = snapshot.text
    if snapshot.transcript is not None and (snapshot.transcript or part.transcript is None):
        part.transcript = snapshot.transcript
    return unknown


def merge_item(item: ItemState, snapshot: Item) -> list[str]:
    """Merge an item snapshot; returns the unknown content types it introduced."""
    if snapshot.type:
        item.type = snapshot.type
    if snapshot.role:
        item.role = snapshot.role
    if snapshot.status:
        item.status = snapshot.status
    if snapshot.call_id:
        item.call_id = snapshot.call_id
    if snapshot.name:
        item.name = snapshot.name
    if snapshot.arguments is not None and (snapshot.arguments or item.arguments is None):
        item.arguments = snapshot.arguments
    if snapshot.output is not None:
        item.output = as_text(snapshot.output)
    if snapshot.server_label:
        item.server_label = snapshot.server_label
    if snapshot.approval_request_id:
        item.approval_request_id = snapshot.approval_request_id
    if snapshot.approve is not None:
        item.approve = snapshot.approve
    if snapshot.error is not None:
        item.mcp_error = as_text(snapshot.error)
    if snapshot.tools is not None:
        item.mcp_tools = as_text(snapshot.tools)
    unknown = []
    for index, part in enumerate(snapshot.content or ()):
        found = merge_part(item, index, part)
        if found is not None:
            unknown.append(found)
    return unknown


def append_text(item: ItemState, index: int | None, delta: str) -> None:
    part = part_at(item, index, "output_text")
    part.text = (part.text or "") + delta


def set_text(item: ItemState, index: int | None, text: str | None) -> None:
    if text is not None and item.truncated_ms is None:
        part_at(item, index, "output_text").text = text


def append_transcript(item: ItemState, index: int | None, delta: str, default_type: str) -> None:
    part = part_at(item, index, default_type)
    part.transcript = (part.transcript or "") + delta


def set_transcript(
    item: ItemState, index: int | None, transcript: str | None, default_type: str
) -> None:
    if transcript is not None and item.truncated_ms is None:
        part_at(item, index, default_type).transcript = transcript


def as_text(value: object) -> str:
    """A string as is; anything else as JSON text."""
    if isinstance(value, str):
        return value
    return msgspec.json.encode(value).decode()
