"""The Realtime event model: msgspec Structs for the events rtrec interprets.

Two levels, as in msgspec's guidance for many event types:

- `Envelope`: the few fields every consumer needs (type and ids), cheap to decode,
  for code that only files events.
- `Event`: a tagged union over `type` of the events rtrec interprets, in both the
  GA and the beta spelling (a beta class re-tags its GA parent).  Types it does not
  know, and known types whose fields have unexpected shapes, decode to
  `UnknownEvent`, keeping the parsed JSON, so nothing is ever dropped.

Decoding never alters a frame: the log keeps the frame itself; these are views of it.
Field types are deliberately loose (Optional, `Any` where servers disagree) because
real servers send `null` where the documentation promises a value.
"""

from __future__ import annotations

from typing import Any

import msgspec

from rtrec.protocols import base
from rtrec.protocols.event_union import EventUnion
from rtrec.protocols.parsing import UNPARSABLE, Json

# -- Envelope -----------------------------------------------------------------


class IdRef(msgspec.Struct):
    id: str | None = None


class Envelope(base.Envelope):
    """Type and ids of an event, read without decoding the rest.

    Ids nested in the event's item or response count when the top-level one is absent.
    """

    item: IdRef | None = None
    response: IdRef | None = None

    def item_ref(self) -> str | None:
        if self.item_id is not None:
            return self.item_id
        return self.item.id if self.item is not None else None

    def response_ref(self) -> str | None:
        if self.response_id is not None:
            return self.response_id
        return self.response.id if self.response is not None else None


_envelope_decoder = msgspec.json.Decoder(Envelope)


def decode_envelope(frame: str | bytes) -> Envelope | None:
    """The envelope of a text frame; None if it is not JSON.

    A JSON value that is not an object, or has ids of unexpected types, still gets an
    envelope with whatever string fields it has.
    """
    try:
        return _envelope_decoder.decode(frame)
    except msgspec.ValidationError:
        pass
    except UNPARSABLE:
        return None
    try:
        obj = msgspec.json.decode(frame)
    except UNPARSABLE:
        return None
    if not isinstance(obj, dict):
        return Envelope()

    def text(value: Any) -> str | None:
        return value if isinstance(value, str) else None

    def nested_id(value: Any) -> IdRef | None:
        return IdRef(text(value.get("id"))) if isinstance(value, dict) else None

    return Envelope(
        type=text(obj.get("type")),
        event_id=text(obj.get("event_id")),
        item_id=text(obj.get("item_id")),
        response_id=text(obj.get("response_id")),
        item=nested_id(obj.get("item")),
        response=nested_id(obj.get("response")),
    )


# -- Shared payload shapes ----------------------------------------------------


class ContentPart(msgspec.Struct, omit_defaults=True):
    type: str | None = None
    text: str | None = None
    transcript: str | None = None
    audio: str | None = None  # base64, on input_audio parts a client creates
    image_url: str | None = None
    detail: str | None = None


class Item(msgspec.Struct, omit_defaults=True):
    """A conversation item: message, function call or output, MCP item."""

    id: str | None = None
    type: str | None = None
    object: str | None = None
    status: str | None = None
    role: str | None = None
    content: list[ContentPart] | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    output: Any = None
    # MCP items
    server_label: str | None = None
    approval_request_id: str | None = None
    approve: bool | None = None
    reason: str | None = None
    error: Any = None
    tools: Any = None


class Response(msgspec.Struct, omit_defaults=True):
    id: str | None = None
    object: str | None = None
    status: str | None = None
    status_details: Any = None
    output: list[Item] | None = None
    usage: Json | None = None
    conversation_id: str | None = None
    metadata: Any = None


class ErrorInfo(msgspec.Struct):
    type: Any = None
    code: Any = None
    message: Any = None
    param: Any = None
    event_id: Any = None


# -- The union ------------------------------------------------------------------


class Event(msgspec.Struct, tag_field="type", tag=False, kw_only=True):
    event_id: str | None = None


# Server events: session and conversation.


class SessionCreated(Event, tag="session.created"):
    session: Json | None = None


class SessionUpdated(SessionCreated, tag="session.updated"):
    pass


class ConversationCreated(Event, tag="conversation.created"):
    conversation: Json | None = None


class ItemAdded(Event, tag="conversation.item.added"):
    item: Item | None = None
    previous_item_id: str | None = None


class ItemDone(ItemAdded, tag="conversation.item.done"):
    pass


class ItemCreated(ItemAdded, tag="conversation.item.created"):
    """Beta: the only announcement of an item; GA splits it into added and done."""


class ItemRetrieved(Event, tag="conversation.item.retrieved"):
    item: Item | None = None


class ItemTruncated(Event, tag="conversation.item.truncated"):
    item_id: str | None = None
    content_index: int | None = None
    audio_end_ms: int | None = None


class ItemDeleted(Event, tag="conversation.item.deleted"):
    item_id: str | None = None


class TranscriptionDelta(Event, tag="conversation.item.input_audio_transcription.delta"):
    item_id: str | None = None
    content_index: int | None = None
    delta: str | None = None


class TranscriptionCompleted(Event, tag="conversation.item.input_audio_transcription.completed"):
    item_id: str | None = None
    content_index: int | None = None
    transcript: str | None = None
    usage: Json | None = None


class TranscriptionFailed(Event, tag="conversation.item.input_audio_transcription.failed"):
    item_id: str | None = None
    content_index: int | None = None
    error: Any = None


class TranscriptionSegment(Event, tag="conversation.item.input_audio_transcription.segment"):
    item_id: str | None = None
    content_index: int | None = None
    id: str | None = None
    text: str | None = None
    speaker: str | None = None
    start: float | None = None
    end: float | None = None


class BufferCommitted(Event, tag="input_audio_buffer.committed"):
    item_id: str | None = None
    previous_item_id: str | None = None


class BufferCleared(Event, tag="input_audio_buffer.cleared"):
    pass


class SpeechStarted(Event, tag="input_audio_buffer.speech_started"):
    item_id: str | None = None
    audio_start_ms: int | None = None


class SpeechStopped(Event, tag="input_audio_buffer.speech_stopped"):
    item_id: str | None = None
    audio_end_ms: int | None = None


class BufferTimeoutTriggered(Event, tag="input_audio_buffer.timeout_triggered"):
    item_id: str | None = None
    audio_start_ms: int | None = None
    audio_end_ms: int | None = None


class OutputAudioBufferStarted(Event, tag="output_audio_buffer.started"):
    response_id: str | None = None


class OutputAudioBufferStopped(OutputAudioBufferStarted, tag="output_audio_buffer.stopped"):
    pass


class OutputAudioBufferCleared(OutputAudioBufferStarted, tag="output_audio_buffer.cleared"):
    pass


# Server events: responses.


class ResponseLifecycle(Event, tag=False):
    response: Response | None = None


class ResponseCreated(ResponseLifecycle, tag="response.created"):
    pass


class ResponseDone(ResponseLifecycle, tag="response.done"):
    pass


class OutputItemAdded(Event, tag="response.output_item.added"):
    response_id: str | None = None
    output_index: int | None = None
    item: Item | None = None


class OutputItemDone(OutputItemAdded, tag="response.output_item.done"):
    pass


class OutputPosition(Event, tag=False):
    """Where in a response's output an event's content goes."""

    response_id: str | None = None
    item_id: str | None = None
    output_index: int | None = None
    content_index: int | None = None


class ContentPartAdded(OutputPosition, tag="response.content_part.added"):
    part: ContentPart | None = None


class ContentPartDone(ContentPartAdded, tag="response.content_part.done"):
    pass


class TextDelta(OutputPosition, tag="response.output_text.delta"):
    delta: str = ""


class BetaTextDelta(TextDelta, tag="response.text.delta"):
    pass


class TextDone(OutputPosition, tag="response.output_text.done"):
    text: str | None = None


class BetaTextDone(TextDone, tag="response.text.done"):
    pass


class AudioTranscriptDelta(OutputPosition, tag="response.output_audio_transcript.delta"):
    delta: str = ""


class BetaAudioTranscriptDelta(AudioTranscriptDelta, tag="response.audio_transcript.delta"):
    pass


class AudioTranscriptDone(OutputPosition, tag="response.output_audio_transcript.done"):
    transcript: str | None = None


class BetaAudioTranscriptDone(AudioTranscriptDone, tag="response.audio_transcript.done"):
    pass


class AudioDelta(OutputPosition, tag="response.output_audio.delta"):
    delta: str = ""  # base64 audio


class BetaAudioDelta(AudioDelta, tag="response.audio.delta"):
    pass


class AudioDone(OutputPosition, tag="response.output_audio.done"):
    pass


class BetaAudioDone(AudioDone, tag="response.audio.done"):
    pass


class FunctionCallArgumentsDelta(Event, tag="response.function_call_arguments.delta"):
    response_id: str | None = None
    item_id: str | None = None
    output_index: int | None = None
    call_id: str | None = None
    delta: str = ""


class FunctionCallArgumentsDone(Event, tag="response.function_call_arguments.done"):
    response_id: str | None = None
    item_id: str | None = None
    output_index: int | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None


class McpCallArgumentsDelta(Event, tag="response.mcp_call_arguments.delta"):
    response_id: str | None = None
    item_id: str | None = None
    output_index: int | None = None
    delta: str = ""


class McpCallArgumentsDone(Event, tag="response.mcp_call_arguments.done"):
    response_id: str | None = None
    item_id: str | None = None
    output_index: int | None = None
    arguments: str | None = None


class McpCallInProgress(Event, tag="response.mcp_call.in_progress"):
    item_id: str | None = None
    output_index: int | None = None


class McpCallCompleted(McpCallInProgress, tag="response.mcp_call.completed"):
    pass


class McpCallFailed(McpCallInProgress, tag="response.mcp_call.failed"):
    pass


class McpListToolsInProgress(Event, tag="mcp_list_tools.in_progress"):
    item_id: str | None = None


class McpListToolsCompleted(McpListToolsInProgress, tag="mcp_list_tools.completed"):
    pass


class McpListToolsFailed(McpListToolsInProgress, tag="mcp_list_tools.failed"):
    pass


class RateLimitsUpdated(Event, tag="rate_limits.updated"):
    rate_limits: list[Any] | None = None


class Error(Event, tag="error"):
    error: ErrorInfo | None = None


# Client events.


class ClientEvent(Event, tag=False):
    """An event the client sends (the others come from the server)."""


class SessionUpdate(ClientEvent, tag="session.update"):
    session: Json | None = None


class TranscriptionSessionUpdate(ClientEvent, tag="transcription_session.update"):
    session: Json | None = None


class AudioAppend(ClientEvent, tag="input_audio_buffer.append"):
    audio: str = ""  # base64


class BufferCommit(ClientEvent, tag="input_audio_buffer.commit"):
    pass


class BufferClear(ClientEvent, tag="input_audio_buffer.clear"):
    pass


class ItemCreate(ClientEvent, tag="conversation.item.create"):
    item: Item | None = None
    previous_item_id: str | None = None


class ItemRetrieve(ClientEvent, tag="conversation.item.retrieve"):
    item_id: str | None = None


class ItemTruncate(ClientEvent, tag="conversation.item.truncate"):
    item_id: str | None = None
    content_index: int | None = None
    audio_end_ms: int | None = None


class ItemDelete(ClientEvent, tag="conversation.item.delete"):
    item_id: str | None = None


class ResponseCreate(ClientEvent, tag="response.create"):
    response: Json | None = None


class ResponseCancel(ClientEvent, tag="response.cancel"):
    response_id: str | None = None


class OutputAudioBufferClear(ClientEvent, tag="output_audio_buffer.clear"):
    pass


# The union of the classes above, and what it derives from their tags.
EVENTS = EventUnion(Event, ClientEvent)
EVENT_CLASSES: tuple[type[Event], ...] = EVENTS.classes
EVENT_TYPES: frozenset[str] = EVENTS.types
CLIENT_EVENT_TYPES: frozenset[str] = EVENTS.client_types
decode_event = EVENTS.decode

# Where each audio-carrying event keeps its base64 audio.
AUDIO_FIELD: dict[str, str] = {
    "input_audio_buffer.append": "audio",
    "response.output_audio.delta": "delta",
    "response.audio.delta": "delta",
}


def direction_of(event_type: str | None) -> str:
    """The side that sends events of this type: client for the client event names."""
    return "client" if event_type in CLIENT_EVENT_TYPES else "server"
