"""The readable live view of a replay: frames in, terminal text out.  Pure: no I/O.

One line per event: recorded time, direction, type and the detail that matters.
Two kinds of event would flood that view, so they are folded:

- text deltas (assistant text and transcripts, user transcripts, function call
  arguments) grow one line per item, fragment by fragment, as they arrive; the line
  stays open (no newline) while the same item keeps growing;
- audio deltas print nothing as they arrive; their duration adds up per item (per
  direction for the user's appends) and is printed as one summary line before the
  next ordinary event line.

Everything is appended, never rewritten, so the output reads the same piped into a
file as on a terminal; `colour` only adds ANSI colours.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from rtrec import events as ev
from rtrec.audio_format import session_formats
from rtrec.events import base64_decoded_length, decode_event
from rtrec.replay.formats import FormatTrack
from rtrec.store.reader import RecordedFrame

DETAIL_CHARS = 72
# Streams interrupted by another line continue on a new line marked "…"; remembering
# the last few is enough to tell a continuation from a new stream.
_RECENT_STREAMS = 32

_TEXT_STREAMS: dict[type[Any], str] = {
    ev.TextDelta: "assistant text",
    ev.AudioTranscriptDelta: "assistant transcript",
    ev.TranscriptionDelta: "user transcript",
    ev.FunctionCallArgumentsDelta: "arguments",
    ev.McpCallArgumentsDelta: "mcp arguments",
}
_COLOURS = {"client": "36", "server": "35", "time": "2", "text": "1", "audio": "33", "error": "31"}


@dataclass
class _AudioRun:
    first_t_ns: int
    direction: str
    label: str
    item_id: str | None
    ms: float = 0.0
    deltas: int = 0


def format_time(t_ns: int) -> str:
    """m:ss.mmm (h:mm:ss.mmm from an hour on) of recorded time."""
    ms_total = max(0, t_ns) // 1_000_000
    seconds, ms = divmod(ms_total, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}.{ms:03d}"
    return f"{minutes}:{seconds:02d}.{ms:03d}"


def shorten(text: str, limit: int = DETAIL_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class TerminalView:
    def __init__(self, formats: FormatTrack | None = None, *, colour: bool = False) -> None:
        self.formats = formats or FormatTrack()
        self.colour = colour
        self._open_stream: tuple[str, str | None, int | None] | None = None
        self._recent_streams: deque[tuple[str, str | None, int | None]] = deque(
            maxlen=_RECENT_STREAMS
        )
        self._audio: dict[tuple[str, str | None], _AudioRun] = {}

    def feed(self, frame: RecordedFrame) -> str:
        """The text to write for this frame (possibly empty, possibly without a newline)."""
        if isinstance(frame.frame, bytes):
            return self._line(frame, "binary frame", f"{len(frame.frame)} bytes")
        event = decode_event(frame.frame)
        if isinstance(event, ev.AudioDelta | ev.AudioAppend):
            self._add_audio(frame, event)
            return ""
        label = _TEXT_STREAMS.get(_stream_class(event))
        if label is not None:
            return self._grow(frame, label, event)
        if event is None:
            return self._line(frame, "(not JSON)", shorten(frame.frame, 48))
        if isinstance(event, ev.UnknownEvent):
            return self._line(frame, event.type or "(no type)", "")
        return self._line(
            frame,
            frame.type or "",
            self._paint("error", _detail(event)) if isinstance(event, ev.Error) else _detail(event),
        )

    def finish(self) -> str:
        return self._close_stream() + self._flush_audio()

    # -- folding ------------------------------------------------------------------

    def _add_audio(self, frame: RecordedFrame, event: ev.AudioDelta | ev.AudioAppend) -> None:
        if isinstance(event, ev.AudioAppend):
            key, label, data = (frame.direction, None), "user audio", event.audio
            fmt = self.formats.at(frame.seq)[0]
        else:
            key, label, data = (frame.direction, event.item_id), "assistant audio", event.delta
            fmt = self.formats.at(frame.seq)[1]
        run = self._audio.get(key)
        if run is None:
            run = self._audio[key] = _AudioRun(frame.t_ns, frame.direction, label, key[1])
        run.ms += fmt.duration_ms(base64_decoded_length(data))
        run.deltas += 1

    def _flush_audio(self) -> str:
        lines = []
        for run in self._audio.values():
            what = "append" if run.label == "user audio" else "delta"
            detail = f"{run.ms / 1000:.2f} s in {run.deltas} {what}{'s' if run.deltas > 1 else ''}"
            if run.item_id:
                detail += f"  {run.item_id}"
            lines.append(
                self._prefix(run.first_t_ns, run.direction)
                + self._paint("audio", run.label)
                + "  "
                + detail
                + "\n"
            )
        self._audio.clear()
        return "".join(lines)

    def _grow(self, frame: RecordedFrame, label: str, event: Any) -> str:
        key = (label, getattr(event, "item_id", None), getattr(event, "content_index", None))
        fragment = _one_line(event.delta or "")
        if self._open_stream == key:
            return self._paint("text", fragment)
        head = self._close_stream()
        self._open_stream = key
        continued = "…" if key in self._recent_streams else ""
        if not continued:
            self._recent_streams.append(key)
        item = f" {key[1]}" if key[1] else ""
        return (
            head
            + self._prefix(frame.t_ns, frame.direction)
            + f"{label}{item}: {continued}"
            + self._paint("text", fragment)
        )

    def _close_stream(self) -> str:
        if self._open_stream is None:
            return ""
        self._open_stream = None
        return "\n"

    # -- lines --------------------------------------------------------------------

    def _line(self, frame: RecordedFrame, name: str, detail: str) -> str:
        text = self._close_stream() + self._flush_audio()
        text += self._prefix(frame.t_ns, frame.direction) + name
        return text + (f"  {detail}" if detail else "") + "\n"

    def _prefix(self, t_ns: int, direction: str) -> str:
        return (
            self._paint("time", format_time(t_ns).rjust(9))
            + "  "
            + self._paint(direction, direction.ljust(6))
            + "  "
        )

    def _paint(self, role: str, text: str) -> str:
        if not self.colour or not text:
            return text
        return f"\x1b[{_COLOURS.get(role, '0')}m{text}\x1b[0m"


def _stream_class(event: object) -> type[Any] | None:
    for cls in _TEXT_STREAMS:
        if isinstance(event, cls):
            return cls
    return None


def _one_line(text: str) -> str:
    return text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")


def _detail(event: object) -> str:
    """The one thing worth seeing about an event, kept short."""
    match event:
        case ev.SessionCreated(session=session) | ev.SessionUpdate(session=session):
            return _session_detail(session)
        case ev.ItemAdded(item=item) | ev.ItemRetrieved(item=item) | ev.ItemCreate(item=item):
            return _item_detail(item)
        case ev.OutputItemAdded(item=item):
            return _item_detail(item)
        case (
            ev.ItemTruncated(item_id=item_id, audio_end_ms=end_ms)
            | ev.ItemTruncate(item_id=item_id, audio_end_ms=end_ms)
        ):
            return f"{item_id} at {end_ms} ms"
        case ev.TranscriptionCompleted(item_id=item_id, transcript=transcript):
            return f'{item_id} "{shorten(transcript or "")}"'
        case ev.TranscriptionFailed(item_id=item_id, error=error):
            message = error.get("message") if isinstance(error, dict) else error
            return f"{item_id} {shorten(str(message))}"
        case ev.SpeechStarted(item_id=item_id, audio_start_ms=ms):
            return f"{item_id} at {ms} ms"
        case ev.SpeechStopped(item_id=item_id, audio_end_ms=ms):
            return f"{item_id} at {ms} ms"
        case ev.ResponseCreated(response=response):
            return _response_detail(response)
        case ev.FunctionCallArgumentsDone(name=name, arguments=arguments, call_id=call_id):
            return shorten(f"{name}({arguments or ''})  {call_id}")
        case ev.Error(error=error):
            if error is None:
                return ""
            code = f"{error.code}: " if error.code else ""
            return shorten(f"{code}{error.message}", 120)
        case ev.ResponseCreate() | ev.RateLimitsUpdated():
            return ""
    for name in ("item_id", "response_id"):
        value = getattr(event, name, None)
        if isinstance(value, str):
            return value
    return ""


def _session_detail(session: Any) -> str:
    if not isinstance(session, dict):
        return ""
    parts = [str(session["model"])] if session.get("model") else []
    inp, out = session_formats(session)
    if inp or out:
        parts.append(f"audio in {inp or '-'} out {out or '-'}")
    audio = session.get("audio")
    voice = (audio.get("output") or {}).get("voice") if isinstance(audio, dict) else None
    voice = voice or session.get("voice")
    if voice:
        parts.append(f"voice {voice}")
    modalities = session.get("output_modalities") or session.get("modalities")
    if isinstance(modalities, list) and modalities:
        parts.append("output " + "+".join(str(m) for m in modalities))
    tools = session.get("tools")
    if isinstance(tools, list) and tools:
        names = [str(t.get("name") or t.get("type")) for t in tools if isinstance(t, dict)]
        parts.append("tools " + " ".join(names))
    return shorten(", ".join(parts), 120)


def _item_detail(item: ev.Item | None) -> str:
    if item is None:
        return ""
    head = " ".join(p for p in (item.id, item.type, item.role) if p)
    if item.type == "function_call":
        return shorten(f"{head} {item.name}({item.arguments or ''})")
    if item.type == "function_call_output":
        return shorten(f"{head} {item.call_id} → {item.output}")
    texts = [p.text or p.transcript for p in item.content or () if p.text or p.transcript]
    return shorten(f'{head} "{" ".join(texts)}"') if texts else head


def _response_detail(response: ev.Response | None) -> str:
    if response is None:
        return ""
    parts = [p for p in (response.id, response.status) if p]
    usage = response.usage or {}
    if usage.get("total_tokens") is not None:
        parts.append(f"tokens in {usage.get('input_tokens')} out {usage.get('output_tokens')}")
    return ", ".join(parts)
