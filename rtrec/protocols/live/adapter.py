"""OpenAI GPT-Live: `/v1/live/sessions`, its sideband and fork, and Azure's `/openai/v1/live/…`."""

from __future__ import annotations

import re
from functools import cached_property

from rtrec.projector.spec import Handlers, merge_handlers
from rtrec.protocols.base import Adapter, Envelope
from rtrec.protocols.compaction import FieldCompactor
from rtrec.protocols.describe import Description
from rtrec.protocols.live import describe, events
from rtrec.protocols.live.media import AUDIO_TYPES, CONTROL_TYPES, LiveMedia
from rtrec.protocols.live.scrub import SCRUB_TYPES, scrub_session_frame
from rtrec.protocols.live.work import LiveWork
from rtrec.protocols.parsing import Json

AUDIO_FIELDS = {
    "session.input_audio.append": "audio",
    "session.output_audio.delta": "delta",
}
# The primary endpoint and its per-session children (sideband attach, fork): OpenAI's
# `/v1/live/sessions…`, Azure's `/openai/v1/live/…`, behind any path prefix.
_PATH = re.compile(r"/v1/live(?:/|$)")
# First frames that open only a GPT-Live session (Realtime shares session.update(d)).
_OPENING = frozenset(
    {
        "session.start",
        "session.started",
        "session.input_audio.append",
        "session.output_audio.delta",
        "session.input_transcript.delta",
        "session.output_transcript.delta",
        "session.delegation.created",
        "session.usage.updated",
        "session.closed",
        "session.close",
    }
)
_COMPACTOR = FieldCompactor(AUDIO_FIELDS)


class LiveAdapter(Adapter):
    name = "live"
    default_path = "/v1/live/sessions"
    audio_types = AUDIO_TYPES
    control_types = CONTROL_TYPES
    scrub_types = SCRUB_TYPES
    known_types = events.EVENT_TYPES
    audio_description = "no session.input_audio.append and no session.output_audio.delta"
    # A sideband's output copies say in their frame where they belong (start_ms).
    audio_frames = True
    split_refusal = (
        "GPT-Live audio is one continuous stream each way, with no items or responses "
        "to split it by; export it whole, or with --timeline"
    )

    # The compactor's own bound methods: a frame costs no extra level of calls.
    compact = _COMPACTOR.compact
    audio_key = _COMPACTOR.audio_key

    def claims_path(self, path: str) -> bool:
        return _PATH.search(path.partition("?")[0]) is not None

    def claims_frame(self, direction: str, obj: Json) -> bool:
        kind = obj.get("type")
        if kind in _OPENING:
            return True
        if kind in ("session.update", "session.updated"):
            # Names Realtime shares: GPT-Live's session has a `live_` id, or settings
            # (delegation, triggers) no Realtime session has.
            session = obj.get("session")
            if isinstance(session, dict):
                session_id = session.get("id")
                live_id = isinstance(session_id, str) and session_id.startswith("live_")
                return live_id or "delegation" in session or "triggers" in session
        return False

    def envelope(self, frame: str) -> Envelope | None:
        found = events.decode_envelope(frame)
        if found is None:
            return None
        kind = found.type if isinstance(found.type, str) else None
        event_id = found.event_id if isinstance(found.event_id, str) else None
        return Envelope(kind, event_id, found.item_ref(), found.response_ref())

    def direction_of_object(self, obj: Json) -> str | None:
        kind = obj.get("type")
        return events.direction_of(kind) if isinstance(kind, str) else None

    def media(self) -> LiveMedia:
        return LiveMedia()

    def work(self) -> LiveWork:
        return LiveWork()

    @cached_property
    def handlers(self) -> Handlers:
        from rtrec.protocols.live import delegations, session, transcripts

        return merge_handlers(session.HANDLERS, transcripts.HANDLERS, delegations.HANDLERS)

    def describe(self, event_type: str | None, frame: str) -> Description:
        return describe.describe(event_type, frame)

    def scrub(self, frame: str) -> str | None:
        return scrub_session_frame(frame)


ADAPTER = LiveAdapter()
