"""The Realtime fold's bookkeeping between events.  Pure."""

from __future__ import annotations

import msgspec

from rtrec.protocols.realtime.media import RealtimeMedia


class PendingCreate(msgspec.Struct, array_like=True):
    """A client conversation.item.create not yet matched to the item the server added."""

    t_ns: int
    event_id: str | None
    item_id: str | None
    type: str | None
    role: str | None
    call_id: str | None
    previous_item_id: str | None
    input: str | None  # "audio" | "text" for user messages
    audio_bytes: int


class PendingRequest(msgspec.Struct, array_like=True):
    """A client response.create not yet matched to a response.created."""

    t_ns: int
    event_id: str | None
    conversation: str | None


class SpeechMark(msgspec.Struct, array_like=True):
    started_ns: int | None = None
    audio_start_ms: int | None = None
    stopped_ns: int | None = None
    audio_end_ms: int | None = None


class RealtimeWork(msgspec.Struct, kw_only=True, tag="realtime"):
    """The Realtime fold's bookkeeping: requests not yet answered, speech not committed."""

    pending_creates: list[PendingCreate] = msgspec.field(default_factory=list)
    pending_requests: list[PendingRequest] = msgspec.field(default_factory=list)
    speech: dict[str, SpeechMark] = msgspec.field(default_factory=dict)
    client_commit_ns: int | None = None
    buffer_ms: float = 0.0  # input audio appended since the last commit or clear
    current_turn: str | None = None
    turns: int = 0
    media: RealtimeMedia = msgspec.field(default_factory=RealtimeMedia)
