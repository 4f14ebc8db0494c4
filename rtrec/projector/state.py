"""What the projector knows about one session: plain records, one per projection row.

Each record maps onto one row of a projection table (rtrec/store/projection_rows.py
does the mapping both ways), so the state can be written incrementally and read back
exactly after a restart.  Times are nanoseconds since session start (`*_ns`), the
clock of the event log; the views turn them into milliseconds.  Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

import msgspec

from rtrec.protocols.work import RealtimeWork, Work

Json = dict[str, Any]


class Part(msgspec.Struct, omit_defaults=True):
    """One content part of an item: its type and the text it carries so far."""

    type: str | None = None
    text: str | None = None  # input_text / output_text
    transcript: str | None = None  # input_audio (transcription) / output_audio

    def value(self) -> str | None:
        return self.text if self.text is not None else self.transcript


class Segment(msgspec.Struct, array_like=True):
    """A diarized input-transcription segment."""

    text: str
    speaker: str | None = None
    start: float | None = None
    end: float | None = None


class ItemState(msgspec.Struct, kw_only=True):
    item_id: str
    # Place in the conversation: `ordinal` counts deleted items too (they keep their
    # slot, so a transcript can show where they were); `position` counts live items only.
    ordinal: int | None = None
    position: int | None = None
    in_conversation: bool = False
    deleted: bool = False
    type: str | None = None
    role: str | None = None
    status: str | None = None
    parts: list[Part] = msgspec.field(default_factory=list)
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    output: str | None = None
    server_label: str | None = None  # MCP items
    approval_request_id: str | None = None
    approve: bool | None = None
    mcp_error: str | None = None  # JSON text
    mcp_tools: str | None = None  # JSON text
    # Who made it: "client" (conversation.item.create), "response", "input_audio_buffer",
    # or None when only the server's announcement was seen.
    source: str | None = None
    response_id: str | None = None  # the response that produced it
    previous_item_id: str | None = None  # as given when it entered the conversation
    audio_bytes: int = 0
    audio_ms: float | None = None
    truncated_ms: int | None = None
    truncated_index: int | None = None
    transcription_status: str | None = None  # in_progress | completed | failed
    transcription_error: str | None = None
    segments: list[Segment] = msgspec.field(default_factory=list)
    first_ns: int | None = None  # first event naming it
    added_ns: int | None = None  # entered the conversation
    done_ns: int | None = None
    deleted_ns: int | None = None
    client_ns: int | None = None  # the client's conversation.item.create, when it made it
    client_event_id: str | None = None

    def text(self) -> str | None:
        """Text parts and transcripts, joined (None when the item carries no text)."""
        values = [v for v in (p.value() for p in self.parts) if v]
        if not values and self.segments:
            values = [" ".join(s.text for s in self.segments if s.text)]
        return "\n".join(values) if values else None


class ResponseState(msgspec.Struct, kw_only=True):
    response_id: str
    status: str | None = None
    status_details: str | None = None  # JSON text
    conversation: str | None = None  # "auto" | "none" (out of band) | None (not known)
    conversation_id: str | None = None
    output_item_ids: list[str] = msgspec.field(default_factory=list)
    created_ns: int | None = None
    first_text_ns: int | None = None
    first_transcript_ns: int | None = None
    first_audio_ns: int | None = None
    done_ns: int | None = None
    requested_ns: int | None = None  # the client's response.create
    request_event_id: str | None = None
    audio_bytes: int = 0
    audio_ms: float = 0.0
    output_format: str | None = None
    voice: str | None = None
    modalities: str | None = None  # JSON text
    metadata: str | None = None  # JSON text
    usage: str | None = None  # JSON text
    turn_item_id: str | None = None


class TurnState(msgspec.Struct, kw_only=True):
    """A user turn: speech committed from the input buffer, or a message the client sent."""

    item_id: str
    turn_index: int
    input: str  # "audio" | "text"
    speech_started_ns: int | None = None
    speech_stopped_ns: int | None = None
    committed_ns: int | None = None
    client_commit_ns: int | None = None
    client_ns: int | None = None
    audio_start_ms: int | None = None
    audio_end_ms: int | None = None
    first_response_id: str | None = None
    response_id: str | None = None  # the response that answered it (see turn rules)
    responses: int = 0
    # Set by protocols whose turns are not measured from a response's events
    # (GPT-Live: transcript deltas on the session clock; see DESIGN.md).
    end_kind: str | None = None  # what marked the end of the user's speech
    first_audio_ns: int | None = None  # the first assistant audio after it
    audio_source: str | None = None  # what marked that first audio

    def end_ns(self) -> int | None:
        """When the user finished: VAD's speech_stopped, else the commit, else the send."""
        for value in (self.speech_stopped_ns, self.client_commit_ns, self.client_ns):
            if value is not None:
                return value
        return self.committed_ns


class SessionState(msgspec.Struct, kw_only=True):
    session_id: int
    last_seq: int = -1  # the checkpoint: every event up to this seq is applied
    events: int = 0
    config: Json = msgspec.field(default_factory=dict)
    audio_in_bytes: int = 0
    audio_in_ms: float = 0.0
    audio_out_bytes: int = 0
    audio_out_ms: float = 0.0
    rate_limits: str | None = None  # JSON text
    rate_limits_ns: int | None = None
    unknown_events: int = 0
    unknown_types: dict[str, int] = msgspec.field(default_factory=dict)
    malformed_events: int = 0
    errors: int = 0
    # The protocol family (rtrec/protocols) and what the provider reported.
    protocol: str = "realtime"
    provider_session_id: str | None = None
    usage_seconds: float | None = None  # GPT-Live: the session's billed seconds
    closed_reason: str | None = None  # why the provider ended it (GPT-Live session.closed)
    # The protocol's own bookkeeping between events, its media fold included.
    work: Work = msgspec.field(default_factory=RealtimeWork)


class SessionUpdateRow(msgspec.Struct, kw_only=True):
    seq: int
    t_ns: int
    event_type: str
    config: Json


class ErrorRow(msgspec.Struct, kw_only=True):
    seq: int
    t_ns: int
    type: str | None
    code: str | None
    message: str | None
    param: str | None
    client_event_id: str | None
