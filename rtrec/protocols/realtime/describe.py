"""How the terminal replay shows Realtime events.  Pure."""

from __future__ import annotations

from typing import Any

from rtrec.protocols.describe import Audio, Description, Grow, Line, shorten
from rtrec.protocols.event_union import UnknownEvent
from rtrec.protocols.realtime import events as ev
from rtrec.protocols.realtime.events import decode_event
from rtrec.protocols.realtime.formats import session_formats

_TEXT_STREAMS: dict[type[Any], str] = {
    ev.TextDelta: "assistant text",
    ev.AudioTranscriptDelta: "assistant transcript",
    ev.TranscriptionDelta: "user transcript",
    ev.FunctionCallArgumentsDelta: "arguments",
    ev.McpCallArgumentsDelta: "mcp arguments",
}


def describe(event_type: str | None, frame: str) -> Description:
    event = decode_event(frame)
    if isinstance(event, ev.AudioAppend):
        return Audio("user audio", None, "append")
    if isinstance(event, ev.AudioDelta):
        return Audio("assistant audio", event.item_id)
    label = _stream_label(event)
    if label is not None:
        key = (getattr(event, "item_id", None), getattr(event, "content_index", None))
        return Grow(label, key, getattr(event, "delta", None) or "")
    if event is None:
        return Line("(not JSON)", shorten(frame, 48))
    if isinstance(event, UnknownEvent):
        return Line(event.type or "(no type)")
    return Line(event_type or "", _detail(event), error=isinstance(event, ev.Error))


def _stream_label(event: object) -> str | None:
    for cls, label in _TEXT_STREAMS.items():
        if isinstance(event, cls):
            return label
    return None


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
        case ev.ResponseCreated(response=response) | ev.ResponseDone(response=response):
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
    texts = [text for p in item.content or () if (text := p.text or p.transcript)]
    return shorten(f'{head} "{" ".join(texts)}"') if texts else head


def _response_detail(response: ev.Response | None) -> str:
    if response is None:
        return ""
    parts = [p for p in (response.id, response.status) if p]
    usage = response.usage or {}
    if usage.get("total_tokens") is not None:
        parts.append(f"tokens in {usage.get('input_tokens')} out {usage.get('output_tokens')}")
    return ", ".join(parts)
