"""The GPT-Live event model: msgspec Structs for the events rtrec interprets.

As for the Realtime API (rtrec/protocols/realtime/events.py), two levels:

- `Envelope`: type and ids, cheap to decode, for the event row's columns.  GPT-Live
  has no conversation items; the ids worth a column are the delegation's
  (`delegation.id`, `delegation_id`) and, inside `response.event`, the nested
  Responses event's item and response.
- `Event`: a tagged union over `type` of the client and server events of the openai
  SDK's `types/live` (openai >= 3.57).  Unknown types, and known types with
  unexpected shapes, decode to `UnknownEvent` keeping the parsed JSON.

Two types travel both ways: `session.input_audio.append` (the client's audio on the
primary connection; the server's copy of it on a sideband) and `transport.dtmf.send`.
Field types are loose on purpose: a compatible server may send `null` anywhere.
Pure.
"""

from __future__ import annotations

from typing import Any

import msgspec

from rtrec.protocols.event_union import EventUnion
from rtrec.protocols.parsing import UNPARSABLE, Json

# -- Envelope -----------------------------------------------------------------


class _Delegation(msgspec.Struct):
    id: Any = None
    response_id: Any = None


class _Nested(msgspec.Struct):
    """The Responses event inside `response.event`: just its ids."""

    item_id: Any = None
    response_id: Any = None
    item: Any = None
    response: Any = None


class Envelope(msgspec.Struct):
    type: Any = None
    event_id: Any = None
    delegation_id: Any = None
    delegation: _Delegation | None = None
    event: _Nested | None = None

    def item_ref(self) -> str | None:
        nested = self.event
        if nested is not None:
            found = _text(nested.item_id) or _id_of(nested.item)
            if found is not None:
                return found
        if self.delegation is not None and _text(self.delegation.id) is not None:
            return _text(self.delegation.id)
        return _text(self.delegation_id)

    def response_ref(self) -> str | None:
        nested = self.event
        if nested is not None:
            found = _text(nested.response_id) or _id_of(nested.response)
            if found is not None:
                return found
        return _text(self.delegation.response_id) if self.delegation is not None else None


_envelope_decoder = msgspec.json.Decoder(Envelope)


def decode_envelope(frame: str | bytes) -> Envelope | None:
    """The envelope of a text frame; None if it is not JSON (any JSON value gets one)."""
    try:
        return _envelope_decoder.decode(frame)
    except msgspec.ValidationError:
        return Envelope()  # not an object, or nested fields of other shapes
    except UNPARSABLE:
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _id_of(value: Any) -> str | None:
    return _text(value.get("id")) if isinstance(value, dict) else None


# -- Events -------------------------------------------------------------------


class Event(msgspec.Struct, tag_field="type", kw_only=True):
    event_id: str | None = None


class ServerEvent(Event):
    client_event_id: str | None = None


class ClientEvent(Event):
    pass


# Client events (primary WebSocket; forks and sidebands send a subset).


class SessionStart(ClientEvent, tag="session.start"):
    session: Any = None


class SessionUpdate(ClientEvent, tag="session.update"):
    session: Any = None


class InputAudioAppend(ClientEvent, tag="session.input_audio.append"):
    """The client's audio; on a sideband the server's copy of it (no event_id)."""

    audio: str | None = None


class InputAudioMute(ClientEvent, tag="session.input_audio.mute"):
    pass


class InputAudioUnmute(ClientEvent, tag="session.input_audio.unmute"):
    pass


class FixturePlay(ClientEvent, tag="session.output_audio.fixture.play"):
    audio: str | None = None


class ContextAppend(ClientEvent):
    """Context the client appends, general or for one delegation."""

    content: Any = None
    delegation_id: str | None = None


class InstructionsAppend(ContextAppend, tag="session.instructions.append"):
    pass


class ThinkingAppend(ContextAppend, tag="session.thinking.append"):
    pass


class CommentaryAppend(ContextAppend, tag="session.commentary.append"):
    pass


class DecisionCreate(ClientEvent, tag="decision.create"):
    pass


class DecisionItemCreate(ClientEvent, tag="decision.item.create"):
    item: Any = None


class DecisionItemDelete(ClientEvent, tag="decision.item.delete"):
    item_id: str | None = None


class ResponseItemCreate(ClientEvent, tag="response.item.create"):
    item: Any = None


class ResponseCreate(ClientEvent, tag="response.create"):
    pass


class SessionClose(ClientEvent, tag="session.close"):
    pass


class DtmfSend(ClientEvent, tag="transport.dtmf.send"):
    """A client command on a sideband; also a legacy server notification of that name."""

    event: Any = None
    client_event_id: str | None = None


# Server events.


class SessionSnapshot(ServerEvent):
    """The server's resolved configuration."""

    session: Any = None


class SessionStarted(SessionSnapshot, tag="session.started"):
    pass


class SessionUpdated(SessionSnapshot, tag="session.updated"):
    pass


class SessionResumed(ServerEvent, tag="session.resumed"):
    pass


class SessionPaused(ServerEvent, tag="session.paused"):
    pass


class InputAudioMuted(ServerEvent, tag="session.input_audio.muted"):
    pass


class InputAudioUnmuted(ServerEvent, tag="session.input_audio.unmuted"):
    pass


class FixturePlaying(ServerEvent, tag="session.output_audio.fixture.playing"):
    pass


class FixturePlayed(ServerEvent, tag="session.output_audio.fixture.played"):
    pass


class Appended(ServerEvent):
    """Context the client appended, placed on the session clock."""

    start_ms: int | None = None
    end_ms: int | None = None


class InstructionsAppended(Appended, tag="session.instructions.appended"):
    pass


class ThinkingAppended(Appended, tag="session.thinking.appended"):
    pass


class CommentaryAppended(Appended, tag="session.commentary.appended"):
    pass


class OutputAudioDelta(ServerEvent, tag="session.output_audio.delta"):
    """Output audio; a sideband's copies carry where they belong on the session clock."""

    delta: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None


class TranscriptDelta(ServerEvent):
    delta: str | None = None
    start_ms: int | float | None = None
    end_ms: int | float | None = None


class InputTranscriptDelta(TranscriptDelta, tag="session.input_transcript.delta"):
    pass


class OutputTranscriptDelta(TranscriptDelta, tag="session.output_transcript.delta"):
    pass


class Delegation(msgspec.Struct):
    id: str | None = None
    type: str | None = None
    target: str | None = None  # client | responses | decisions
    response_id: str | None = None


class DelegationCreated(ServerEvent, tag="session.delegation.created"):
    delegation: Delegation | None = None
    offset_ms: int | None = None


class DecisionEvent(ServerEvent, tag="decision.event"):
    delegation_id: str | None = None
    event: Any = None
    source_event_id: str | None = None
    source_event_type: str | None = None
    trigger_id: str | None = None


class DecisionItemCreated(ServerEvent, tag="decision.item.created"):
    item: Any = None


class DecisionItemDeleted(ServerEvent, tag="decision.item.deleted"):
    item_id: str | None = None


class ResponseEvent(ServerEvent, tag="response.event"):
    """A Responses API streaming event from the backend a delegation went to."""

    event: Json | None = None
    delegation_id: str | None = None


class Usage(msgspec.Struct):
    seconds: float | None = None
    active_seconds: float | None = None
    paused_seconds: float | None = None


class UsageUpdated(ServerEvent, tag="session.usage.updated"):
    usage: Usage | None = None
    context_window: Any = None


class SessionClosed(ServerEvent, tag="session.closed"):
    reason: str | None = None
    session: Any = None
    usage: Usage | None = None


class ErrorInfo(msgspec.Struct):
    type: Any = None
    code: Any = None
    message: Any = None
    param: Any = None
    client_event_id: Any = None


class Error(ServerEvent, tag="error"):
    error: ErrorInfo | None = None


class Info(ServerEvent, tag="info"):
    code: Any = None
    message: Any = None


class DtmfReceived(ServerEvent, tag="transport.dtmf.received"):
    event: Any = None


class DtmfSent(ServerEvent, tag="transport.dtmf.sent"):
    event: Any = None


class TransportRinging(ServerEvent, tag="transport.ringing"):
    session_id: str | None = None


class TransportAnswered(ServerEvent, tag="transport.answered"):
    session_id: str | None = None


class TransportFailed(ServerEvent, tag="transport.failed"):
    session_id: str | None = None
    error: Any = None


# The union of the classes above, and what it derives from their tags.
EVENTS = EventUnion(Event, ClientEvent)
EVENT_CLASSES: tuple[type[Event], ...] = EVENTS.classes
EVENT_TYPES: frozenset[str] = EVENTS.types
CLIENT_EVENT_TYPES: frozenset[str] = EVENTS.client_types
decode_event = EVENTS.decode
# Sent by either side (the sideband's copies of client audio; DTMF's two meanings).
BOTH_WAYS: frozenset[str] = frozenset({"session.input_audio.append", "transport.dtmf.send"})


def direction_of(event_type: str | None) -> str | None:
    """The side that sends this type (client for the two-way ones); None if not GPT-Live's."""
    if event_type in CLIENT_EVENT_TYPES:
        return "client"
    if event_type in EVENT_TYPES:
        return "server"
    return None
