"""The OpenAI Realtime API, GA and beta (and Azure OpenAI, xAI, compatible servers)."""

from __future__ import annotations

from functools import cached_property

from rtrec.projector.spec import Handlers, merge_handlers
from rtrec.protocols.base import Adapter, Envelope
from rtrec.protocols.compaction import FieldCompactor
from rtrec.protocols.describe import Description
from rtrec.protocols.parsing import Json
from rtrec.protocols.realtime import describe, events
from rtrec.protocols.realtime.media import AUDIO_TYPES, CONTROL_TYPES, RealtimeMedia
from rtrec.protocols.realtime.work import RealtimeWork

# Where each audio-carrying event keeps its base64 audio.
AUDIO_FIELDS = {
    "input_audio_buffer.append": "audio",
    "response.output_audio.delta": "delta",
    "response.audio.delta": "delta",
}
# The events that open a Realtime session: the server's greeting, the client's setup.
_OPENING = frozenset(
    {
        "session.created",
        "session.update",
        "transcription_session.created",
        "transcription_session.update",
    }
)
_COMPACTOR = FieldCompactor(AUDIO_FIELDS)


class RealtimeAdapter(Adapter):
    name = "realtime"
    default_path = "/v1/realtime"
    audio_types = AUDIO_TYPES
    control_types = CONTROL_TYPES
    known_types = events.EVENT_TYPES
    audio_description = "no input_audio_buffer.append and no response audio deltas"

    # Called for every frame the writer encodes: the compactor's own bound methods, so a
    # frame costs no extra level of calls.
    compact = _COMPACTOR.compact
    audio_key = _COMPACTOR.audio_key

    def claims_path(self, path: str) -> bool:
        return "/realtime" in path.partition("?")[0]

    def claims_frame(self, direction: str, obj: Json) -> bool:
        return obj.get("type") in _OPENING

    def envelope(self, frame: str) -> Envelope | None:
        found = events.decode_envelope(frame)
        if found is not None:
            if found.item_id is None and found.item is not None:
                found.item_id = found.item.id
            if found.response_id is None and found.response is not None:
                found.response_id = found.response.id
        return found

    def direction_of_object(self, obj: Json) -> str | None:
        kind = obj.get("type")
        return events.direction_of(kind) if isinstance(kind, str) else None

    def media(self) -> RealtimeMedia:
        return RealtimeMedia()

    def work(self) -> RealtimeWork:
        return RealtimeWork()

    @cached_property
    def handlers(self) -> Handlers:
        from rtrec.protocols.realtime import items, responses, session, turns

        return merge_handlers(session.HANDLERS, items.HANDLERS, responses.HANDLERS, turns.HANDLERS)

    def describe(self, event_type: str | None, frame: str) -> Description:
        return describe.describe(event_type, frame)


ADAPTER = RealtimeAdapter()
