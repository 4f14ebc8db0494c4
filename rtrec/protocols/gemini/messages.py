"""The Gemini Live message model: msgspec structs, keyed by the top-level field.  Pure.

Each message kind is a struct named after its main field; `decode_message` reads a
frame into one of them, or into `UnknownMessage` (the kind and the data kept) for a
field it does not know.  Field names are read in camelCase or snake_case at every
level of the known structure (the SDK sends `client_content` with `turnComplete`
inside; other clients may send `turn_complete`); values the protocol leaves open
(function `args`, tool `response`, `generationConfig`) are kept as they came.

The kind of a message with several top-level fields is the first of them in
`KINDS` order: the main field wins over `usageMetadata`, which rides on other
messages (`serverContent` + `usageMetadata` is a `serverContent`).  A message with no
known field is of the kind of its first field, camelCased.
"""

from __future__ import annotations

import functools
from typing import Any, Union

import msgspec

from rtrec.protocols.parsing import UNPARSABLE

# Every known top-level field, in the order that decides a message's kind.
CLIENT_KINDS = ("setup", "clientContent", "realtimeInput", "toolResponse", "contextUpdate")
SERVER_KINDS = (
    "setupComplete",
    "serverContent",
    "toolCall",
    "toolCallCancellation",
    "goAway",
    "sessionResumptionUpdate",
    "voiceActivity",
    "voiceActivityDetectionSignal",
    "error",
    "usageMetadata",
)
KINDS = CLIENT_KINDS + SERVER_KINDS


def camel(name: str) -> str:
    """`client_content` → `clientContent`; camelCase names are returned unchanged."""
    if "_" not in name:
        return name
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


_KIND_ORDER = {kind: index for index, kind in enumerate(KINDS)}


def kind_of(obj: dict[str, Any]) -> str | None:
    """The message kind of a decoded object: its known field first in KINDS order."""
    best: str | None = None
    first: str | None = None
    for key in obj:
        name = camel(key)
        if first is None:
            first = name
        if name in _KIND_ORDER and (best is None or _KIND_ORDER[name] < _KIND_ORDER[best]):
            best = name
    return best or first


# -- parts of messages -----------------------------------------------------------------


class _Part(msgspec.Struct, rename="camel", omit_defaults=True):
    """Base of the nested structs: camelCase names on the wire."""


class Blob(_Part):
    data: str | None = None
    mime_type: str | None = None


class FunctionCall(_Part):
    id: str | None = None
    name: str | None = None
    args: Any = None


class FunctionResponse(_Part):
    id: str | None = None
    name: str | None = None
    response: Any = None


class Part(_Part):
    text: str | None = None
    thought: bool | None = None
    inline_data: Blob | None = None
    function_call: FunctionCall | None = None
    function_response: FunctionResponse | None = None


class Content(_Part):
    role: str | None = None
    parts: list[Part] = msgspec.field(default_factory=list)


class Transcription(_Part):
    text: str | None = None
    finished: bool | None = None


class UsageMetadata(_Part):
    prompt_token_count: int | None = None
    response_token_count: int | None = None
    candidates_token_count: int | None = None  # the older name of response_token_count
    total_token_count: int | None = None
    thoughts_token_count: int | None = None
    cached_content_token_count: int | None = None
    tool_use_prompt_token_count: int | None = None
    prompt_tokens_details: list[dict[str, Any]] | None = None
    response_tokens_details: list[dict[str, Any]] | None = None


# -- client messages ---------------------------------------------------------------------


class Setup(_Part):
    model: str | None = None
    generation_config: dict[str, Any] | None = None
    system_instruction: Any = None  # a Content, or plain text
    tools: Any = None
    realtime_input_config: dict[str, Any] | None = None
    input_audio_transcription: dict[str, Any] | None = None
    output_audio_transcription: dict[str, Any] | None = None
    session_resumption: dict[str, Any] | None = None


class ClientContent(_Part):
    turns: list[Content] = msgspec.field(default_factory=list)
    turn_complete: bool | None = None


class RealtimeInput(_Part):
    audio: Blob | None = None
    media_chunks: list[Blob] = msgspec.field(default_factory=list)
    video: Blob | None = None
    text: str | None = None
    activity_start: dict[str, Any] | None = None
    activity_end: dict[str, Any] | None = None
    audio_stream_end: bool | None = None


class ToolResponse(_Part):
    function_responses: list[FunctionResponse] = msgspec.field(default_factory=list)


# -- server messages -----------------------------------------------------------------


class SetupComplete(_Part):
    session_id: str | None = None


class ServerContent(_Part):
    model_turn: Content | None = None
    turn_complete: bool | None = None
    interrupted: bool | None = None
    generation_complete: bool | None = None
    input_transcription: Transcription | None = None
    output_transcription: Transcription | None = None
    waiting_for_input: bool | None = None
    turn_complete_reason: str | None = None


class ToolCall(_Part):
    function_calls: list[FunctionCall] = msgspec.field(default_factory=list)


class ToolCallCancellation(_Part):
    ids: list[str] = msgspec.field(default_factory=list)


class GoAway(_Part):
    time_left: str | None = None


class SessionResumptionUpdate(_Part):
    new_handle: str | None = None
    resumable: bool | None = None


class ErrorInfo(_Part):
    """Not in the API's schema: what servers and proxies send as `{"error": {…}}`."""

    code: Any = None
    message: Any = None
    status: Any = None


# -- the messages ------------------------------------------------------------------------


class _Message(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    usage_metadata: UsageMetadata | None = None  # rides on any server message


class SetupMessage(_Message):
    setup: Setup


class ClientContentMessage(_Message):
    client_content: ClientContent


class RealtimeInputMessage(_Message):
    realtime_input: RealtimeInput


class ToolResponseMessage(_Message):
    tool_response: ToolResponse


class SetupCompleteMessage(_Message):
    setup_complete: SetupComplete


class ServerContentMessage(_Message):
    server_content: ServerContent


class ToolCallMessage(_Message):
    tool_call: ToolCall


class ToolCallCancellationMessage(_Message):
    tool_call_cancellation: ToolCallCancellation


class GoAwayMessage(_Message):
    go_away: GoAway


class SessionResumptionUpdateMessage(_Message):
    session_resumption_update: SessionResumptionUpdate


class ErrorMessage(_Message):
    error: ErrorInfo


class UsageMetadataMessage(_Message):
    """usageMetadata on its own."""


class UnknownMessage(msgspec.Struct):
    """A message of a kind this model does not know: its kind and data, kept."""

    kind: str | None
    data: Any


Message = Union[  # noqa: UP007
    SetupMessage,
    ClientContentMessage,
    RealtimeInputMessage,
    ToolResponseMessage,
    SetupCompleteMessage,
    ServerContentMessage,
    ToolCallMessage,
    ToolCallCancellationMessage,
    GoAwayMessage,
    SessionResumptionUpdateMessage,
    ErrorMessage,
    UsageMetadataMessage,
    UnknownMessage,
]

MESSAGE_CLASSES: dict[str, Any] = {
    "setup": SetupMessage,
    "clientContent": ClientContentMessage,
    "realtimeInput": RealtimeInputMessage,
    "toolResponse": ToolResponseMessage,
    "setupComplete": SetupCompleteMessage,
    "serverContent": ServerContentMessage,
    "toolCall": ToolCallMessage,
    "toolCallCancellation": ToolCallCancellationMessage,
    "goAway": GoAwayMessage,
    "sessionResumptionUpdate": SessionResumptionUpdateMessage,
    "error": ErrorMessage,
    "usageMetadata": UsageMetadataMessage,
}


# -- decoding ------------------------------------------------------------------------------


@functools.cache
def _type_info(cls: Any) -> msgspec.inspect.StructType:
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    return info


@functools.cache
def _fields(cls: Any) -> dict[str, msgspec.inspect.Type]:
    """A struct's wire names (camelCase), each with the type its value has."""
    return {field.encode_name: field.type for field in _type_info(cls).fields}


def _normalise(value: Any, kind: msgspec.inspect.Type) -> Any:
    """`value` with the field names of the structures `kind` describes in camelCase."""
    if isinstance(kind, msgspec.inspect.UnionType):
        for member in kind.types:
            if isinstance(member, msgspec.inspect.StructType) and isinstance(value, dict):
                return _normalise(value, member)
            if isinstance(member, msgspec.inspect.ListType) and isinstance(value, list):
                return _normalise(value, member)
        return value
    if isinstance(kind, msgspec.inspect.ListType):
        if isinstance(value, list):
            return [_normalise(v, kind.item_type) for v in value]
        return value
    if isinstance(kind, msgspec.inspect.StructType) and isinstance(value, dict):
        fields = _fields(kind.cls)
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = camel(key) if isinstance(key, str) else key
            known = fields.get(name)
            if known is None:
                out[key] = item  # unknown keys are kept (and ignored by the struct)
            else:
                out[name] = _normalise(item, known)
        return out
    return value


def decode_object(obj: dict[str, Any]) -> Any:
    """The message a decoded JSON object is."""
    kind = kind_of(obj)
    cls = MESSAGE_CLASSES.get(kind or "")
    if cls is None:
        return UnknownMessage(kind, obj)
    try:
        return msgspec.convert(_normalise(obj, _type_info(cls)), cls, strict=False)
    except (msgspec.ValidationError, RecursionError):
        return UnknownMessage(kind, obj)


def decode_message(frame: str | bytes) -> Any:
    """The message of a frame; None if it is not a JSON object."""
    try:
        obj = msgspec.json.decode(frame)
    except UNPARSABLE:
        return None
    if not isinstance(obj, dict):
        return None
    return decode_object(obj)
