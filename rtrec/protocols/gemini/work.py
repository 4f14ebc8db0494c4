"""The Gemini fold's bookkeeping between messages.  Pure.

Bounded whatever the session's length: the open spoken message, the open model
turn's text state, the latest user turn, and the marks of the current gap between
model turns.
"""

from __future__ import annotations

import msgspec

from rtrec.protocols.gemini.media import GeminiMedia


class GeminiWork(msgspec.Struct, kw_only=True, tag="gemini"):
    media: GeminiMedia = msgspec.field(default_factory=GeminiMedia)
    # The spoken user message being transcribed (a run of inputTranscription).
    speech_id: str | None = None
    speech_audio_ms: float = 0.0  # user audio since the last model turn ended
    # The client's own end-of-speech marks in this gap between model turns.
    activity_start_ns: int | None = None
    activity_end_ns: int | None = None
    stream_end_ns: int | None = None
    # Whether the open model turn has text parts (then its transcripts are not its text).
    reply_has_text: bool = False
    # The latest user turn (a user message's item id), answered or not.
    current_turn: str | None = None
    turns: int = 0
