"""Which audio format each chunk of a session is in, as the session's events declare it.

Input audio follows the session's input format.  The client's `session.update` takes
effect for the appends that follow it (the server applies events in order), and the
server's `session.created` / `session.updated` confirm it.  Output audio follows the
format of the response it belongs to: `response.created` names it in GA (and in real
beta servers), otherwise the `response.create` override the client sent, otherwise the
session's output format.  Pure: no I/O.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

from rtrec.audio_format import (
    DEFAULT_FORMAT,
    AudioFormat,
    response_output_format,
    session_formats,
)
from rtrec.replay.wav.rows import FORMAT_TYPES as FORMAT_EVENT_TYPES
from rtrec.replay.wav.rows import SESSION_CONFIRMS, SESSION_REQUESTS, Row

# Bounds for state that only mismatched events could grow: memory stays flat.
_MAX_PENDING = 32


class FormatTracker:
    """Folds the events that set audio formats; answers 'what format is this chunk in'."""

    def __init__(self) -> None:
        self.input: AudioFormat = DEFAULT_FORMAT
        self.session_output: AudioFormat = DEFAULT_FORMAT
        self._confirmed_input: AudioFormat = DEFAULT_FORMAT
        # session.update requests not yet confirmed: (event_id, input format or None)
        self._updates: deque[tuple[str | None, AudioFormat | None]] = deque(maxlen=_MAX_PENDING)
        # response.create requests not yet answered by response.created
        self._creates: deque[tuple[str | None, AudioFormat | None]] = deque(maxlen=_MAX_PENDING)
        self._responses: dict[str, AudioFormat] = {}

    def observe(self, direction: str, event_type: str, event: dict[str, Any]) -> None:
        """Take one control event (not an audio chunk) into account."""
        if direction == "client":
            if event_type in SESSION_REQUESTS:
                requested, _ = session_formats(event.get("session"))
                self._updates.append((_text(event.get("event_id")), requested))
                if requested is not None:
                    self.input = requested
            elif event_type == "response.create":
                override = response_output_format(event.get("response"))
                self._creates.append((_text(event.get("event_id")), override))
            return
        if event_type in SESSION_CONFIRMS:
            self._confirm_session(event)
        elif event_type == "response.created":
            self._response_created(event.get("response"))
        elif event_type == "response.done":
            response = event.get("response")
            if isinstance(response, dict):
                self._responses.pop(_text(response.get("id")) or "", None)
        elif event_type == "error":
            self._rejected(event.get("error"))

    def output_format(self, response_id: str | None) -> AudioFormat:
        """The format of an output audio delta of this response."""
        if response_id is not None:
            fmt = self._responses.get(response_id)
            if fmt is not None:
                return fmt
        return self.session_output

    def _confirm_session(self, event: dict[str, Any]) -> None:
        inp, out = session_formats(event.get("session"))
        if event.get("type", "").endswith(".updated") and self._updates:
            self._updates.popleft()
        if inp is not None:
            self._confirmed_input = inp
        # Appends sent after a later, still unconfirmed update use that update's format.
        self.input = self._latest_requested() or self._confirmed_input
        if out is not None:
            self.session_output = out

    def _response_created(self, response: Any) -> None:
        if not isinstance(response, dict):
            return
        requested = self._creates.popleft()[1] if self._creates else None
        fmt = response_output_format(response) or requested or self.session_output
        response_id = _text(response.get("id"))
        if response_id is not None:
            if len(self._responses) >= _MAX_PENDING * 8:
                # Responses whose response.done never came: forget the oldest.
                self._responses.pop(next(iter(self._responses)))
            self._responses[response_id] = fmt

    def _rejected(self, error: Any) -> None:
        """An error naming a request means the server did not apply it."""
        if not isinstance(error, dict):
            return
        event_id = _text(error.get("event_id"))
        if event_id is None:
            return
        for queue in (self._updates, self._creates):
            for entry in list(queue):
                if entry[0] == event_id:
                    queue.remove(entry)
                    if queue is self._updates:
                        self.input = self._latest_requested() or self._confirmed_input
                    return

    def _latest_requested(self) -> AudioFormat | None:
        for _, fmt in reversed(self._updates):
            if fmt is not None:
                return fmt
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class TimelineRate:
    """The rate of a timeline holding every format in effect while there was audio.

    Fed the session's format events in order; the firsts are the seqs of its first
    input and output audio chunks.  A format in force before a side's first chunk (the
    server's default before the client's session.update, say) does not count.
    """

    def __init__(self, first_input_seq: int | None, first_output_seq: int | None) -> None:
        self.first_input_seq = first_input_seq
        self.first_output_seq = first_output_seq
        self._tracker = FormatTracker()
        self._rates: set[int] = set()

    def feed(self, row: Row) -> None:
        if row.type not in FORMAT_EVENT_TYPES:
            return
        self._note_session_formats(row.seq)
        self._tracker.observe(row.direction, row.type, row.event or {})
        if row.type == "response.created" and self.first_output_seq is not None:
            response = (row.event or {}).get("response")
            response_id = response.get("id") if isinstance(response, dict) else None
            self._rates.add(self._tracker.output_format(_text(response_id)).rate)

    @property
    def rate(self) -> int:
        self._note_session_formats(2**62)
        return max(self._rates, default=DEFAULT_FORMAT.rate)

    def _note_session_formats(self, before_seq: int) -> None:
        if self.first_input_seq is not None and before_seq > self.first_input_seq:
            self._rates.add(self._tracker.input.rate)
        if self.first_output_seq is not None and before_seq > self.first_output_seq:
            self._rates.add(self._tracker.session_output.rate)


def timeline_rate(
    rows: Iterable[Row], first_input_seq: int | None, first_output_seq: int | None
) -> int:
    finder = TimelineRate(first_input_seq, first_output_seq)
    for row in rows:
        finder.feed(row)
    return finder.rate
