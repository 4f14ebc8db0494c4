"""Conversation item events: announcements, truncation, deletion, transcription, tool calls.

Where an item goes: `conversation.item.added` (GA) / `.created` (beta) place a new
item after `previous_item_id`; null or an unknown id appends; for an item a client
created with `previous_item_id: "root"` (the server answers null) it goes first.  An
item already placed never moves: real servers send `.done` with `previous_item_id:
null` for items that are not first.  Items of an out-of-band response never enter the
conversation.  Pure.
"""

from __future__ import annotations

from rtrec.projector.event_row import EventRow
from rtrec.projector.projection import Projection
from rtrec.projector.spec import Handlers, spec
from rtrec.projector.state import ItemState, Segment
from rtrec.protocols.realtime import events as ev
from rtrec.protocols.realtime.content import (
    append_transcript,
    as_text,
    merge_item,
    part_at,
    set_transcript,
)
from rtrec.protocols.realtime.decoding import decoded
from rtrec.protocols.realtime.session import take_create
from rtrec.protocols.realtime.turns import client_turn
from rtrec.protocols.realtime.work import RealtimeWork


def merge(p: Projection, item: ItemState, snapshot: ev.Item) -> None:
    """Merge a snapshot; count item and content types rtrec does not know, once each."""
    before = item.type
    for part_type in merge_item(item, snapshot):
        p.count_unknown(f"content:{part_type}", event=False)
    if item.type != before and item.type is not None and item.type not in KNOWN_ITEM_TYPES:
        p.count_unknown(f"item:{item.type}", event=False)


KNOWN_ITEM_TYPES = frozenset(
    {
        "message",
        "function_call",
        "function_call_output",
        "mcp_call",
        "mcp_list_tools",
        "mcp_approval_request",
        "mcp_approval_response",
    }
)


def announce(
    p: Projection, row: EventRow, event: ev.ItemAdded, *, may_restore: bool
) -> ItemState | None:
    snapshot = event.item or ev.Item()
    item_id = snapshot.id or row.item_id
    if not item_id:
        p.session.malformed_events += 1
        return None
    item = p.item(item_id, row.t_ns)
    after = event.previous_item_id
    create = None
    if item.source is None:
        create = take_create(p, item_id, snapshot)
        item.source = "client" if create is not None else "server"
        if create is not None:
            item.client_ns = create.t_ns
            item.client_event_id = create.event_id
            if create.audio_bytes:
                item.audio_bytes = create.audio_bytes
                item.audio_ms = p.work_of(RealtimeWork).media.input.duration_ms(create.audio_bytes)
            if after is None:
                after = create.previous_item_id
    merge(p, item, snapshot)
    response = p.responses.get(item.response_id) if item.response_id else None
    if response is not None and response.conversation == "none":
        return item  # out of band: never part of the conversation
    if not item.deleted or may_restore:
        p.conversation.insert(item, after)
        if item.added_ns is None:
            item.added_ns = row.t_ns
            item.previous_item_id = after
    if response is not None and response.conversation is None:
        response.conversation = "auto"
        p.dirty_responses.add(response.response_id)
    if create is not None:
        client_turn(p, item, create, row.t_ns)
    return item


def on_added(p: Projection, row: EventRow, event: ev.ItemAdded) -> None:
    announce(p, row, event, may_restore=True)


def on_done(p: Projection, row: EventRow, event: ev.ItemDone) -> None:
    item = announce(p, row, event, may_restore=False)
    if item is not None and item.done_ns is None:
        item.done_ns = row.t_ns


def on_retrieved(p: Projection, row: EventRow, event: ev.ItemRetrieved) -> None:
    snapshot = event.item or ev.Item()
    if not snapshot.id:
        p.session.malformed_events += 1
        return
    item = p.item(snapshot.id, row.t_ns)
    merge(p, item, snapshot)
    if not item.in_conversation:  # the server says it is in the conversation
        p.conversation.insert(item, None)
        item.added_ns = item.added_ns or row.t_ns


def on_truncated(p: Projection, row: EventRow, event: ev.ItemTruncated) -> None:
    item_id = event.item_id or row.item_id
    if item_id is None:
        return
    item = p.item(item_id, row.t_ns)
    item.truncated_ms = event.audio_end_ms if event.audio_end_ms is not None else 0
    item.truncated_index = event.content_index


def on_deleted(p: Projection, row: EventRow, _: None) -> None:
    item = p.items.get(row.item_id) if row.item_id else None
    if item is not None:
        p.conversation.delete(item, row.t_ns)


# -- input audio transcription -----------------------------------------------------


def _user_item(p: Projection, row: EventRow, item_id: str | None) -> ItemState | None:
    item_id = item_id or row.item_id
    if item_id is None:
        return None
    item = p.item(item_id, row.t_ns)
    item.type = item.type or "message"
    item.role = item.role or "user"
    return item


def on_transcription_delta(p: Projection, row: EventRow, event: ev.TranscriptionDelta) -> None:
    item = _user_item(p, row, event.item_id)
    if item is None or item.transcription_status == "completed":
        return  # a late delta would repeat what the completed transcript holds
    append_transcript(item, event.content_index, event.delta or "", "input_audio")
    item.transcription_status = "in_progress"


def on_transcription_completed(
    p: Projection, row: EventRow, event: ev.TranscriptionCompleted
) -> None:
    item = _user_item(p, row, event.item_id)
    if item is None:
        return
    set_transcript(item, event.content_index, event.transcript or "", "input_audio")
    item.transcription_status = "completed"
    item.transcription_error = None


def on_transcription_failed(p: Projection, row: EventRow, event: ev.TranscriptionFailed) -> None:
    item = _user_item(p, row, event.item_id)
    if item is None:
        return
    part_at(item, event.content_index, "input_audio")
    item.transcription_status = "failed"
    error = event.error
    message = error.get("message") if isinstance(error, dict) else None
    item.transcription_error = message if isinstance(message, str) else as_text(error)


def on_transcription_segment(p: Projection, row: EventRow, event: ev.TranscriptionSegment) -> None:
    item = _user_item(p, row, event.item_id)
    if item is None:
        return
    part_at(item, event.content_index, "input_audio")
    item.segments.append(Segment(event.text or "", event.speaker, event.start, event.end))
    if item.transcription_status is None:
        item.transcription_status = "in_progress"


# -- function and MCP calls --------------------------------------------------------------


def _call_item(p: Projection, row: EventRow, item_id: str | None, kind: str) -> ItemState | None:
    item_id = item_id or row.item_id
    if item_id is None:
        return None
    item = p.item(item_id, row.t_ns)
    item.type = item.type or kind
    if item.response_id is None and row.response_id is not None:
        item.response_id = row.response_id
    return item


def on_arguments_delta(
    p: Projection, row: EventRow, event: ev.FunctionCallArgumentsDelta | ev.McpCallArgumentsDelta
) -> None:
    kind = "function_call" if row.type == "response.function_call_arguments.delta" else "mcp_call"
    item = _call_item(p, row, event.item_id, kind)
    if item is None or item.status == "completed":
        return
    if isinstance(event, ev.FunctionCallArgumentsDelta) and event.call_id:
        item.call_id = event.call_id
    item.arguments = (item.arguments or "") + (event.delta or "")


def on_arguments_done(
    p: Projection, row: EventRow, event: ev.FunctionCallArgumentsDone | ev.McpCallArgumentsDone
) -> None:
    kind = "function_call" if row.type == "response.function_call_arguments.done" else "mcp_call"
    item = _call_item(p, row, event.item_id, kind)
    if item is None:
        return
    if event.arguments is not None:
        item.arguments = event.arguments
    if isinstance(event, ev.FunctionCallArgumentsDone):
        if event.call_id:
            item.call_id = event.call_id
        if event.name:
            item.name = event.name
    if item.done_ns is None:  # the call is complete: a client can act on it from here
        item.done_ns = row.t_ns


_MCP_STATUS = {
    "response.mcp_call.in_progress": ("mcp_call", "in_progress"),
    "response.mcp_call.completed": ("mcp_call", "completed"),
    "response.mcp_call.failed": ("mcp_call", "failed"),
    "mcp_list_tools.in_progress": ("mcp_list_tools", "in_progress"),
    "mcp_list_tools.completed": ("mcp_list_tools", "completed"),
    "mcp_list_tools.failed": ("mcp_list_tools", "failed"),
}


def on_mcp_status(
    p: Projection, row: EventRow, event: ev.McpCallInProgress | ev.McpListToolsInProgress
) -> None:
    kind, status = _MCP_STATUS[row.type or ""]
    item = _call_item(p, row, event.item_id, kind)
    if item is not None:
        item.status = status


HANDLERS: Handlers = {
    "conversation.item.added": spec(on_added, decoded(ev.ItemAdded), "server"),
    "conversation.item.created": spec(on_added, decoded(ev.ItemCreated), "server"),
    "conversation.item.done": spec(on_done, decoded(ev.ItemDone), "server"),
    "conversation.item.retrieved": spec(on_retrieved, decoded(ev.ItemRetrieved), "server"),
    "conversation.item.truncated": spec(on_truncated, decoded(ev.ItemTruncated), "server"),
    "conversation.item.deleted": spec(on_deleted, None, "server"),
    "conversation.item.input_audio_transcription.delta": spec(
        on_transcription_delta, decoded(ev.TranscriptionDelta), "server"
    ),
    "conversation.item.input_audio_transcription.completed": spec(
        on_transcription_completed, decoded(ev.TranscriptionCompleted), "server"
    ),
    "conversation.item.input_audio_transcription.failed": spec(
        on_transcription_failed, decoded(ev.TranscriptionFailed), "server"
    ),
    "conversation.item.input_audio_transcription.segment": spec(
        on_transcription_segment, decoded(ev.TranscriptionSegment), "server"
    ),
    "response.function_call_arguments.delta": spec(
        on_arguments_delta, decoded(ev.FunctionCallArgumentsDelta), "server"
    ),
    "response.function_call_arguments.done": spec(
        on_arguments_done, decoded(ev.FunctionCallArgumentsDone), "server"
    ),
    "response.mcp_call_arguments.delta": spec(
        on_arguments_delta, decoded(ev.McpCallArgumentsDelta), "server"
    ),
    "response.mcp_call_arguments.done": spec(
        on_arguments_done, decoded(ev.McpCallArgumentsDone), "server"
    ),
    "response.mcp_call.in_progress": spec(on_mcp_status, decoded(ev.McpCallInProgress), "server"),
    "response.mcp_call.completed": spec(on_mcp_status, decoded(ev.McpCallCompleted), "server"),
    "response.mcp_call.failed": spec(on_mcp_status, decoded(ev.McpCallFailed), "server"),
    "mcp_list_tools.in_progress": spec(on_mcp_status, decoded(ev.McpListToolsInProgress), "server"),
    "mcp_list_tools.completed": spec(on_mcp_status, decoded(ev.McpListToolsCompleted), "server"),
    "mcp_list_tools.failed": spec(on_mcp_status, decoded(ev.McpListToolsFailed), "server"),
}
