"""Google Gemini Live (BidiGenerateContent), as the google-genai SDK and the API speak it.

Recognised by a request path containing `BidiGenerateContent` (v1beta, v1alpha, the
constrained-token `BidiGenerateContentConstrained`, Vertex AI's `LlmBidiService`), or
by its first message: the client's `setup`, the server's `setupComplete`.

A row's `type` is the message's kind: its top-level field in camelCase, the main
field winning over `usageMetadata` that rides along (see messages.py), so that
`serverContent` rows are filtered the same way whichever side of the wire spelled it
`server_content`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import cached_property
from typing import Any

import msgspec

from rtrec.projector.spec import Handlers, spec
from rtrec.protocols.base import Adapter, EncodedFrame, Envelope
from rtrec.protocols.describe import Description
from rtrec.protocols.gemini import compaction, describe
from rtrec.protocols.gemini.media import AUDIO_TYPES, GeminiMedia
from rtrec.protocols.gemini.messages import CLIENT_KINDS, KINDS, SERVER_KINDS, kind_of
from rtrec.protocols.gemini.work import GeminiWork
from rtrec.protocols.parsing import UNPARSABLE, Json

# One lazily decoded field per spelling of each kind: finding a frame's kind reads
# no more than its top-level keys.
_SPELLINGS = {
    kind: (kind, re.sub(r"([A-Z])", lambda m: "_" + m[1].lower(), kind)) for kind in KINDS
}
_Keys: Any = msgspec.defstruct(
    "GeminiKeys",
    [
        (name, msgspec.Raw | msgspec.UnsetType, msgspec.UNSET)
        for names in _SPELLINGS.values()
        for name in dict.fromkeys(names)
    ],
)
_keys_decoder = msgspec.json.Decoder(_Keys)


def frame_kind(frame: str | bytes) -> str | bool | None:
    """The kind of a frame's message; None for a JSON value without one, False if not JSON."""
    try:
        keys = _keys_decoder.decode(frame)
    except msgspec.ValidationError:
        pass
    except UNPARSABLE:
        return False
    else:
        for kind, names in _SPELLINGS.items():
            if any(getattr(keys, name) is not msgspec.UNSET for name in names):
                return kind
    try:
        value = msgspec.json.decode(frame)
    except UNPARSABLE:
        return False
    return kind_of(value) if isinstance(value, dict) else None


class GeminiAdapter(Adapter):
    name = "gemini"
    audio_types = AUDIO_TYPES
    control_types = frozenset()
    known_types = frozenset(KINDS)
    audio_description = "no realtimeInput audio and no serverContent inlineData audio"
    audio_frames = True  # each chunk names its format in the text around it
    json_in_binary = True  # the server sends its JSON messages as binary frames

    def claims_path(self, path: str) -> bool:
        return "BidiGenerateContent" in path.partition("?")[0]

    def claims_frame(self, direction: str, obj: Json) -> bool:
        if "type" in obj:
            return False
        kind = kind_of(obj)
        return (direction, kind) in (("client", "setup"), ("server", "setupComplete"))

    def envelope(self, frame: str) -> Envelope | None:
        kind = frame_kind(frame)
        if kind is False:
            return None
        return Envelope(kind if isinstance(kind, str) else None)

    def compact(
        self, frame: str, secrets: Collection[str], patterns: Collection[re.Pattern[str]]
    ) -> EncodedFrame | None:
        return compaction.compact(frame, secrets, patterns)

    def audio_key(self, frame: str) -> str | None:
        return compaction.DATA_KEY if compaction.leads_with_audio_kind(frame) else None

    def direction_of_object(self, obj: Json) -> str | None:
        if "type" in obj:
            return None  # an OpenAI event
        kind = kind_of(obj)
        if kind in CLIENT_KINDS:
            return "client"
        if kind in SERVER_KINDS:
            return "server"
        return None

    def kind_of_untyped(self, frame: str | bytes) -> str | None:
        kind = frame_kind(frame)
        return kind if isinstance(kind, str) else None

    def media(self) -> GeminiMedia:
        return GeminiMedia()

    def work(self) -> GeminiWork:
        return GeminiWork()

    @cached_property
    def handlers(self) -> Handlers:
        from rtrec.protocols.gemini import messages as m
        from rtrec.protocols.gemini import replies, session, tools, users
        from rtrec.protocols.gemini.decoding import decoded

        return {
            "setup": spec(session.on_setup, decoded(m.SetupMessage), "client"),
            "setupComplete": spec(
                session.on_setup_complete, decoded(m.SetupCompleteMessage), "server"
            ),
            "clientContent": spec(
                users.on_client_content, decoded(m.ClientContentMessage), "client"
            ),
            "realtimeInput": spec(users.on_realtime_input, None, "client"),
            "serverContent": spec(
                replies.on_server_content, decoded(m.ServerContentMessage), "server"
            ),
            "usageMetadata": spec(replies.on_usage, decoded(m.UsageMetadataMessage), "server"),
            "toolCall": spec(tools.on_tool_call, decoded(m.ToolCallMessage), "server"),
            "toolResponse": spec(tools.on_tool_response, decoded(m.ToolResponseMessage), "client"),
            "toolCallCancellation": spec(
                tools.on_cancellation, decoded(m.ToolCallCancellationMessage), "server"
            ),
            "goAway": spec(session.on_go_away, decoded(m.GoAwayMessage), "server"),
            "error": spec(session.on_error, decoded(m.ErrorMessage), "server"),
        }

    def describe(self, event_type: str | None, frame: str) -> Description:
        return describe.describe(event_type, frame)


ADAPTER = GeminiAdapter()
