"""A Gemini Live session's audio, and the model turns that shape it.  Pure.

Every audio chunk names its own format: the user's `realtimeInput` audio (`audio`, or
`mediaChunks` entries) and the model's `inlineData` parts carry a `mimeType` such as
`audio/pcm;rate=16000`.  Without a rate, user audio is 16 kHz and model audio 24 kHz,
as the API assumes.

Model turns are decided here, once, for every reader: a model turn starts at the first
`serverContent` that carries model output (a `modelTurn`, an `outputTranscription`,
`generationComplete` or `turnComplete`; `inputTranscription` is the user's and
starts nothing) and ends at `turnComplete` or `interrupted`.  An interrupted turn is
followed by a `turnComplete` of its own (the API goes "interrupted > turn_complete"),
which ends nothing new.  Model turn n is `model-turn-n`: its audio chunks carry that
as item and response id, and its end is a `ReplyDone`.  `interrupted` also means the
audio the client had queued was never heard (`AssistantFlushed`).  The user audio sent
before a model turn starts becomes the spoken message `speech-n` (`UserCommitted`).
"""

from __future__ import annotations

import binascii
from typing import Any

import msgspec

from rtrec.audio_format import PCM16_16K, PCM16_24K, AudioFormat, Encoding
from rtrec.protocols.gemini.messages import camel
from rtrec.protocols.media import (
    AssistantFlushed,
    AudioChunk,
    MediaFact,
    MediaFold,
    MediaRow,
    ReplyDone,
    UserCommitted,
)
from rtrec.protocols.parsing import base64_decoded_length, decode_base64, parse_object

USER_AUDIO = "realtimeInput"
MODEL_CONTENT = "serverContent"
AUDIO_TYPES = frozenset({USER_AUDIO, MODEL_CONTENT})

# What the fold says about the last row it was fed (for the projector's handlers).
OPENED = 1  # a model turn started with this row
COMPLETED = 2  # … ended with turnComplete
INTERRUPTED = 4  # … ended with interrupted
ABSORBED = 8  # the turnComplete that follows an interrupted turn

# Fields of serverContent that belong to the model's turn.
_TURN_FIELDS = frozenset(
    {
        "modelTurn",
        "outputTranscription",
        "generationComplete",
        "turnComplete",
        "groundingMetadata",
        "urlContextMetadata",
    }
)
_ENCODINGS: dict[str, tuple[Encoding, int]] = {
    "audio/pcm": ("pcm16", 0),
    "audio/l16": ("pcm16", 0),
    "audio/pcmu": ("g711_ulaw", 8000),
    "audio/basic": ("g711_ulaw", 8000),
    "audio/x-mulaw": ("g711_ulaw", 8000),
    "audio/pcma": ("g711_alaw", 8000),
    "audio/x-alaw": ("g711_alaw", 8000),
}


def reply_id(turn: int) -> str:
    """The response (and assistant message) id of model turn `turn` (1-based)."""
    return f"model-turn-{turn}"


def speech_id(turn: int) -> str:
    """The id of the spoken user message that leads up to model turn `turn`."""
    return f"speech-{turn}"


def audio_format(mime: Any, default: AudioFormat) -> AudioFormat | None:
    """The format a mimeType names (`audio/pcm;rate=16000`); None if it is not audio.

    An audio type that is not PCM or G.711 (mp3, opus…) gives a format with rate 0.
    """
    if not isinstance(mime, str):
        return default
    base, *params = (piece.strip() for piece in mime.split(";"))
    base = base.lower()
    if not base.startswith("audio/"):
        return None
    known = _ENCODINGS.get(base)
    if known is None:
        return AudioFormat("pcm16", 0)
    encoding, rate = known
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "rate" and value.strip().isdigit() and int(value) > 0:
            rate = int(value)
    if rate == 0:
        rate = default.rate
    return AudioFormat(encoding, rate)


def _get(obj: Any, name: str) -> Any:
    """A field by its camelCase name, or its snake_case spelling."""
    if not isinstance(obj, dict):
        return None
    if name in obj:
        return obj[name]
    for key, value in obj.items():
        if camel(key) == name:
            return value
    return None


def user_blobs(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The blobs of a realtimeInput message (audio, mediaChunks entries), in order."""
    inner = _get(message, "realtimeInput")
    blobs = [_get(inner, "audio")]
    chunks = _get(inner, "mediaChunks")
    if isinstance(chunks, list):
        blobs.extend(chunks)
    return [b for b in blobs if isinstance(b, dict)]


def model_blobs(content: Any) -> list[dict[str, Any]]:
    """The inlineData blobs of a serverContent's modelTurn parts, in order."""
    parts = _get(_get(content, "modelTurn"), "parts")
    if not isinstance(parts, list):
        return []
    blobs = [_get(part, "inlineData") for part in parts]
    return [b for b in blobs if isinstance(b, dict)]


class GeminiMedia(msgspec.Struct, MediaFold, kw_only=True):
    user_format: AudioFormat = PCM16_16K
    model_format: AudioFormat = PCM16_24K
    turns: int = 0  # model turns started
    open: bool = False
    awaiting_complete: bool = False  # an interrupted turn's turnComplete is still to come
    user_pending: bool = False  # user audio since the last model turn started
    marks: int = 0  # OPENED | COMPLETED | INTERRUPTED | ABSORBED, of the last row

    def formats(self) -> tuple[AudioFormat, AudioFormat]:
        return self.user_format, self.model_format

    @property
    def current_reply(self) -> str:
        """The id of the open model turn, or of the last one."""
        return reply_id(self.turns)

    @property
    def next_speech(self) -> str:
        """The id a spoken user message starting now gets."""
        return speech_id(self.turns - self.open + 1)

    def feed(self, row: MediaRow, *, decode: bool = True) -> list[MediaFact]:
        self.marks = 0
        if row.type == USER_AUDIO and row.direction == "client":
            return self._user(row, decode)
        if row.type == MODEL_CONTENT and row.direction == "server":
            return self._model(row, decode)
        return []

    # -- the user's audio -------------------------------------------------------------

    def _user(self, row: MediaRow, decode: bool) -> list[MediaFact]:
        message = parse_object(row.frame)
        if message is None:
            return []
        facts: list[MediaFact] = []
        for blob in user_blobs(message):
            fmt = audio_format(_get(blob, "mimeType"), PCM16_16K)
            if fmt is None:
                continue  # video frames, images
            chunk = _chunk(row, blob, fmt, decode, "user", None)
            if fmt.rate:
                self.user_format = fmt
            self.user_pending = True
            facts.append(chunk)
        return facts

    # -- the model's turns --------------------------------------------------------------

    def _model(self, row: MediaRow, decode: bool) -> list[MediaFact]:
        message = parse_object(row.frame)
        content = _get(message, "serverContent")
        if not isinstance(content, dict):
            return []
        fields = {camel(key) for key, value in content.items() if value not in (None, False)}
        facts: list[MediaFact] = []
        completes = "turnComplete" in fields
        interrupted = "interrupted" in fields
        output = fields & _TURN_FIELDS
        if self.awaiting_complete and output and output != {"turnComplete"}:
            self.awaiting_complete = False  # new output: a new turn, not the old one's end
        if not self.open and output and not (self.awaiting_complete and output == {"turnComplete"}):
            self.turns += 1
            self.open = True
            self.marks |= OPENED
            if self.user_pending:
                self.user_pending = False
                facts.append(UserCommitted(speech_id(self.turns)))
        reply = self.current_reply if self.open else None
        for blob in model_blobs(content):
            fmt = audio_format(_get(blob, "mimeType"), PCM16_24K)
            if fmt is None:
                continue
            if fmt.rate:
                self.model_format = fmt
            facts.append(_chunk(row, blob, fmt, decode, "assistant", reply))
        if interrupted:
            facts.append(AssistantFlushed())
            if self.open:
                self.open = False
                self.marks |= INTERRUPTED
                self.awaiting_complete = not completes
                facts.append(ReplyDone(reply))
                return facts
        if completes:
            if self.open:
                self.open = False
                self.marks |= COMPLETED
                facts.append(ReplyDone(reply))
            elif self.awaiting_complete:
                self.awaiting_complete = False
                self.marks |= ABSORBED
        return facts


def _chunk(
    row: MediaRow,
    blob: dict[str, Any],
    fmt: AudioFormat,
    decode: bool,
    track: Any,
    reply: str | None,
) -> AudioChunk:
    """One blob's audio: from the compacted row's bytes, else from the blob's base64."""
    if not fmt.rate:
        mime = _get(blob, "mimeType")
        return AudioChunk(track, PCM16_24K, 0, None, reply, reply, problem=f"{mime} is not PCM")
    data: bytes | None = None
    problem = None
    if row.audio is not None or row.audio_len is not None:
        # A compacted frame holds one audio blob, its base64 emptied in the text.
        nbytes = len(row.audio) if row.audio is not None else row.audio_len or 0
        data = row.audio if decode else None
    else:
        text = _get(blob, "data")
        if not isinstance(text, str):
            return AudioChunk(track, fmt, 0, None, reply, reply, problem="its 'data' is missing")
        if decode:
            try:
                data = decode_base64(text)
            except (binascii.Error, ValueError):
                data, problem = None, "its 'data' is not valid base64"
            nbytes = len(data) if data is not None else 0
        else:
            nbytes = base64_decoded_length(text + "=" * (-len(text) % 4))
    return AudioChunk(track, fmt, nbytes, data, reply, reply, problem=problem)
