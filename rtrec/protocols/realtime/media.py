"""A Realtime session's audio: which format each chunk is in, and what shapes the tracks.

Input audio follows the session's input format.  The client's `session.update` takes
effect for the appends that follow it (the server applies events in order), and the
server's `session.created` / `session.updated` confirm it.  Output audio follows the
format of the response it belongs to: `response.created` names it in GA (and in real
beta servers), otherwise the `response.create` override the client sent, otherwise the
session's output format.  An `error` naming a request means it took no effect.

Besides the chunks, the fold reports an item's audio ending, a reply ending, the input
buffer committed or cleared, and truncations.  Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

import msgspec

from rtrec.audio_format import DEFAULT_FORMAT, AudioFormat
from rtrec.protocols.media import (
    AudioChunk,
    ItemAudioDone,
    MediaFact,
    MediaFold,
    MediaRow,
    ReplyDone,
    RequestFailed,
    Truncated,
    UserCleared,
    UserCommitted,
    chunk_audio,
)
from rtrec.protocols.parsing import parse_object
from rtrec.protocols.realtime.formats import response_output_format, session_formats

INPUT_AUDIO = "input_audio_buffer.append"
OUTPUT_AUDIO = frozenset({"response.output_audio.delta", "response.audio.delta"})
AUDIO_TYPES = frozenset({INPUT_AUDIO, *OUTPUT_AUDIO})
OUTPUT_AUDIO_DONE = frozenset({"response.output_audio.done", "response.audio.done"})
SESSION_CONFIRMS = frozenset(
    {
        "session.created",
        "session.updated",
        "transcription_session.created",
        "transcription_session.updated",
    }
)
SESSION_REQUESTS = frozenset({"session.update", "transcription_session.update"})
CONTROL_TYPES = frozenset(
    {
        *SESSION_CONFIRMS,
        *SESSION_REQUESTS,
        "response.create",
        "response.created",
        "response.done",
        "error",
        "input_audio_buffer.committed",
        "input_audio_buffer.clear",
        "conversation.item.truncate",
        "conversation.item.truncated",
        *OUTPUT_AUDIO_DONE,
    }
)

_CLIENT_CONTROL = SESSION_REQUESTS | {"response.create", "conversation.item.truncate"}
# Bounds for state that only mismatched events could grow: memory stays flat.
_MAX_PENDING = 32
_MAX_RESPONSES = _MAX_PENDING * 8


class Request(msgspec.Struct, array_like=True):
    """A client request not yet answered: its event_id and the format it asks for."""

    event_id: str | None
    fmt: AudioFormat | None


class RealtimeMedia(msgspec.Struct, MediaFold, kw_only=True):
    input: AudioFormat = DEFAULT_FORMAT
    session_output: AudioFormat = DEFAULT_FORMAT
    confirmed_input: AudioFormat = DEFAULT_FORMAT
    updates: list[Request] = msgspec.field(default_factory=list)  # session.update
    creates: list[Request] = msgspec.field(default_factory=list)  # response.create
    responses: dict[str, AudioFormat] = msgspec.field(default_factory=dict)

    def formats(self) -> tuple[AudioFormat, AudioFormat]:
        return self.input, self.session_output

    def output_format(self, response_id: str | None) -> AudioFormat:
        """The format of an output audio delta of this response."""
        if response_id is not None:
            fmt = self.responses.get(response_id)
            if fmt is not None:
                return fmt
        return self.session_output

    def feed(self, row: MediaRow, *, decode: bool = True) -> list[MediaFact]:
        kind, direction = row.type, row.direction
        if kind == INPUT_AUDIO:
            if direction != "client":
                return []
            data, nbytes, problem = chunk_audio(row, ("audio",), decode)
            return [AudioChunk("user", self.input, nbytes, data, problem=problem)]
        if kind in OUTPUT_AUDIO:
            if direction != "server":
                return []
            data, nbytes, problem = chunk_audio(row, ("delta",), decode)
            fmt = self.output_format(row.response_id)
            return [
                AudioChunk(
                    "assistant", fmt, nbytes, data, row.item_id, row.response_id, problem=problem
                )
            ]
        if direction == "server":
            return self._server(row)
        return self._client(row)

    # -- control events -------------------------------------------------------------

    def _client(self, row: MediaRow) -> list[MediaFact]:
        kind = row.type
        if kind == "input_audio_buffer.clear":
            return [UserCleared()]
        if kind not in _CLIENT_CONTROL:
            return []
        event = parse_object(row.frame) or {}
        event_id = _text(event.get("event_id"))
        if kind in SESSION_REQUESTS:
            requested, _ = session_formats(event.get("session"))
            _push(self.updates, Request(event_id, requested))
            if requested is not None:
                self.input = requested
        elif kind == "response.create":
            _push(self.creates, Request(event_id, response_output_format(event.get("response"))))
        else:
            cut = _cut(event)
            if cut is not None:
                request_id = event_id if event_id is not None else f"seq {row.seq}"
                return [Truncated(cut[0], cut[1], confirmed=False, request_id=request_id)]
        return []

    def _server(self, row: MediaRow) -> list[MediaFact]:
        kind = row.type
        if kind in OUTPUT_AUDIO_DONE:
            return [ItemAudioDone(row.item_id)]
        if kind == "input_audio_buffer.committed":
            return [UserCommitted(row.item_id)]
        if kind not in CONTROL_TYPES:
            return []
        event = parse_object(row.frame) or {}
        if kind in SESSION_CONFIRMS:
            self._confirm_session(kind, event)
        elif kind == "response.created":
            self._response_created(event.get("response"))
        elif kind == "response.done":
            response = event.get("response")
            response_id = _text(response.get("id")) if isinstance(response, dict) else None
            self.responses.pop(response_id or "", None)
            return [ReplyDone(response_id or row.response_id)]
        elif kind == "conversation.item.truncated":
            cut = _cut(event)
            if cut is not None:
                return [Truncated(cut[0], cut[1], confirmed=True)]
        elif kind == "error":
            return self._rejected(event.get("error"))
        return []

    def _confirm_session(self, kind: str, event: dict[str, Any]) -> None:
        inp, out = session_formats(event.get("session"))
        if kind.endswith(".updated") and self.updates:
            del self.updates[0]
        if inp is not None:
            self.confirmed_input = inp
        # Appends sent after a later, still unconfirmed update use that update's format.
        self.input = self._latest_requested() or self.confirmed_input
        if out is not None:
            self.session_output = out

    def _response_created(self, response: Any) -> None:
        if not isinstance(response, dict):
            return
        requested = self.creates.pop(0).fmt if self.creates else None
        fmt = response_output_format(response) or requested or self.session_output
        response_id = _text(response.get("id"))
        if response_id is not None:
            if len(self.responses) >= _MAX_RESPONSES:
                # Responses whose response.done never came: forget the oldest.
                self.responses.pop(next(iter(self.responses)))
            self.responses[response_id] = fmt

    def _rejected(self, error: Any) -> list[MediaFact]:
        """An error naming a request means the server did not apply it."""
        if not isinstance(error, dict):
            return []
        event_id = _text(error.get("event_id"))
        if event_id is None:
            return []
        for queue in (self.updates, self.creates):
            for index, entry in enumerate(queue):
                if entry.event_id == event_id:
                    del queue[index]
                    if queue is self.updates:
                        self.input = self._latest_requested() or self.confirmed_input
                    return [RequestFailed(event_id)]
        return [RequestFailed(event_id)]

    def _latest_requested(self) -> AudioFormat | None:
        for entry in reversed(self.updates):
            if entry.fmt is not None:
                return entry.fmt
        return None


def _push(queue: list[Request], request: Request) -> None:
    queue.append(request)
    del queue[:-_MAX_PENDING]


def _cut(event: dict[str, Any]) -> tuple[str, int] | None:
    item_id, end_ms = event.get("item_id"), event.get("audio_end_ms")
    if not isinstance(item_id, str) or not isinstance(end_ms, int) or isinstance(end_ms, bool):
        return None
    return item_id, end_ms


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
