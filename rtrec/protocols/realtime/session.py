"""Session-level events: configuration, input audio, rate limits, errors, client requests.

Client `conversation.item.create` and `response.create` events are remembered until
the server answers them (the item it adds, the response it creates, or an error
naming them), so that items and responses can say which client event made them.
The lists are bounded: a request the server never answered is forgotten eventually.
Pure.
"""

from __future__ import annotations

from typing import Any

from rtrec.projector.event_row import EventRow
from rtrec.projector.projection import Projection
from rtrec.projector.spec import Handlers, spec
from rtrec.protocols.parsing import base64_decoded_length
from rtrec.protocols.realtime import events as ev
from rtrec.protocols.realtime.config import merge_session
from rtrec.protocols.realtime.content import as_text
from rtrec.protocols.realtime.decoding import decoded
from rtrec.protocols.realtime.work import PendingCreate, PendingRequest, RealtimeWork

MAX_PENDING = 16


def on_session(p: Projection, row: EventRow, event: ev.SessionCreated) -> None:
    p.record_config(row, merge_session(p.session.config, event.session), event.session)


def on_append(p: Projection, row: EventRow, _: None) -> None:
    p.work_of(RealtimeWork).buffer_ms += p.count_audio()


def on_rate_limits(p: Projection, row: EventRow, event: ev.RateLimitsUpdated) -> None:
    p.session.rate_limits = as_text(event.rate_limits or [])
    p.session.rate_limits_ns = row.t_ns


def on_error(p: Projection, row: EventRow, event: ev.Error) -> None:
    info = event.error or ev.ErrorInfo()
    client_event_id = info.event_id if isinstance(info.event_id, str) else None
    p.record_error(
        row,
        type=_text(info.type),
        code=_text(info.code),
        message=_text(info.message),
        param=_text(info.param),
        client_event_id=client_event_id,
    )
    if client_event_id is not None:
        # The request failed: the server will not answer it with an item or a response.
        work = p.work_of(RealtimeWork)
        work.pending_creates = [c for c in work.pending_creates if c.event_id != client_event_id]
        work.pending_requests = [r for r in work.pending_requests if r.event_id != client_event_id]


def on_item_create(p: Projection, row: EventRow, event: ev.ItemCreate) -> None:
    item = event.item or ev.Item()
    parts = item.content or []
    audio = sum(base64_decoded_length(part.audio) for part in parts if part.audio)
    kind = None
    if item.role == "user":
        kind = "audio" if any(part.type == "input_audio" for part in parts) else "text"
    pending = p.work_of(RealtimeWork).pending_creates
    pending.append(
        PendingCreate(
            t_ns=row.t_ns,
            event_id=row.event_id,
            item_id=item.id,
            type=item.type,
            role=item.role,
            call_id=item.call_id,
            previous_item_id=event.previous_item_id,
            input=kind,
            audio_bytes=audio,
        )
    )
    del pending[:-MAX_PENDING]


def on_response_create(p: Projection, row: EventRow, event: ev.ResponseCreate) -> None:
    params = event.response if isinstance(event.response, dict) else {}
    conversation = params.get("conversation")
    pending = p.work_of(RealtimeWork).pending_requests
    pending.append(
        PendingRequest(
            t_ns=row.t_ns,
            event_id=row.event_id,
            conversation=conversation if isinstance(conversation, str) else None,
        )
    )
    del pending[:-MAX_PENDING]


def take_create(p: Projection, item_id: str, snapshot: ev.Item) -> PendingCreate | None:
    """The client create that made this server-announced item, if one is waiting."""
    pending = p.work_of(RealtimeWork).pending_creates
    for index, create in enumerate(pending):
        if create.item_id is not None:
            matches = create.item_id == item_id
        else:
            matches = (
                (create.type is None or create.type == snapshot.type)
                and (create.role is None or snapshot.role is None or create.role == snapshot.role)
                and (create.call_id is None or create.call_id == snapshot.call_id)
            )
        if matches:
            del pending[index]
            return create
    return None


def take_request(p: Projection, conversation_id: str | None) -> PendingRequest | None:
    """The client response.create that this response.created answers, if one is waiting."""
    pending = p.work_of(RealtimeWork).pending_requests
    for index, request in enumerate(pending):
        out_of_band = request.conversation == "none"
        if out_of_band and conversation_id is not None:
            continue  # a response in the conversation cannot answer an out-of-band request
        del pending[index]
        return request
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else as_text(value)


HANDLERS: Handlers = {
    "session.created": spec(on_session, decoded(ev.SessionCreated), "server"),
    "session.updated": spec(on_session, decoded(ev.SessionUpdated), "server"),
    "input_audio_buffer.append": spec(on_append, None, "client"),
    "rate_limits.updated": spec(on_rate_limits, decoded(ev.RateLimitsUpdated), "server"),
    "error": spec(on_error, decoded(ev.Error), "server"),
    "conversation.item.create": spec(on_item_create, decoded(ev.ItemCreate), "client"),
    "response.create": spec(on_response_create, decoded(ev.ResponseCreate), "client"),
}
