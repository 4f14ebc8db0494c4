"""How the terminal replay shows GPT-Live events.  Pure."""

from __future__ import annotations

from typing import Any

import msgspec

from rtrec.protocols.describe import Audio, Description, Grow, Line, shorten
from rtrec.protocols.event_union import UnknownEvent
from rtrec.protocols.live import events as ev
from rtrec.protocols.live.config import session_format, voice_of
from rtrec.protocols.live.events import decode_event


def describe(event_type: str | None, frame: str) -> Description:
    event = decode_event(frame)
    if isinstance(event, ev.InputAudioAppend):
        return Audio("user audio", None, "append")
    if isinstance(event, ev.OutputAudioDelta):
        return Audio("assistant audio", None)
    if isinstance(event, ev.InputTranscriptDelta):
        return Grow("user transcript", (None, None), event.delta or "")
    if isinstance(event, ev.OutputTranscriptDelta):
        return Grow("assistant transcript", (None, None), event.delta or "")
    if event is None:
        return Line("(not JSON)", shorten(frame, 48))
    if isinstance(event, UnknownEvent):
        return Line(event.type or "(no type)")
    return Line(event_type or "", _detail(event), error=isinstance(event, ev.Error))


def _detail(event: object) -> str:
    match event:
        case ev.SessionStart(session=session) | ev.SessionUpdate(session=session):
            return _session_detail(session)
        case ev.SessionStarted(session=session) | ev.SessionUpdated(session=session):
            head = session.get("id") if isinstance(session, dict) else None
            rest = _session_detail(session)
            return shorten(", ".join(str(p) for p in (head, rest) if p), 120)
        case ev.DelegationCreated(delegation=delegation, offset_ms=offset_ms):
            if delegation is None:
                return ""
            at = f" at {offset_ms} ms" if offset_ms is not None else ""
            return f"{delegation.id} → {delegation.target}{at}"
        case ev.ContextAppend():
            content = event.content if isinstance(event.content, str) else ""
            who = event.delegation_id or "session"
            return shorten(f'{who} "{content}"')
        case ev.CommentaryAppended() | ev.ThinkingAppended() | ev.InstructionsAppended():
            return f"{event.start_ms}–{event.end_ms} ms"
        case ev.ResponseEvent(event=nested, delegation_id=delegation_id):
            return _nested_detail(nested, delegation_id)
        case ev.ResponseItemCreate(item=item):
            return _item_detail(item)
        case ev.UsageUpdated(usage=usage):
            return f"{_seconds(usage)} billed" if usage is not None else ""
        case ev.SessionClosed(reason=reason, usage=usage):
            parts = [reason or ""]
            if usage is not None:
                parts.append(f"{_seconds(usage)} billed")
            return ", ".join(p for p in parts if p)
        case ev.Error(error=error):
            if error is None:
                return ""
            code = f"{error.code}: " if error.code else ""
            return shorten(f"{code}{error.message}", 120)
        case ev.Info(code=code, message=message):
            return shorten(f"{code}: {message}")
    return ""


def _seconds(usage: ev.Usage) -> str:
    return f"{usage.seconds:g} s" if isinstance(usage.seconds, int | float) else "? s"


def _session_detail(session: Any) -> str:
    if not isinstance(session, dict):
        return ""
    parts = [str(session["model"])] if session.get("model") else []
    fmt = session_format(session)
    if fmt is not None:
        parts.append(f"audio {fmt}")
    voice = voice_of(session)
    if voice:
        parts.append(f"voice {voice}")
    delegation = session.get("delegation")
    if isinstance(delegation, dict) and delegation.get("type"):
        kind = str(delegation["type"])
        backend = delegation.get(kind)
        tools = backend.get("tools") if isinstance(backend, dict) else None
        if isinstance(tools, list) and tools:
            names = [
                str(t.get("name") or t.get("server_label") or t.get("type"))
                for t in tools
                if isinstance(t, dict)
            ]
            kind += " (" + " ".join(names) + ")"
        parts.append(f"delegation {kind}")
    return shorten(", ".join(parts), 120)


def _nested_detail(nested: Any, delegation_id: str | None) -> str:
    if not isinstance(nested, dict):
        return delegation_id or ""
    kind = str(nested.get("type") or "?")
    item = nested.get("item")
    if isinstance(item, dict) and item.get("type") in ("function_call", "mcp_call"):
        call = f"{item.get('name') or '?'}({item.get('arguments') or ''})"
        return shorten(f"{kind} {call}  {item.get('call_id') or ''}".rstrip(), 120)
    return shorten(f"{kind}  {delegation_id or ''}".rstrip())


def _item_detail(item: Any) -> str:
    if not isinstance(item, dict):
        return ""
    if item.get("type") == "function_call_output":
        output = item.get("output")
        text = output if isinstance(output, str) else msgspec.json.encode(output).decode()
        return shorten(f"{item.get('call_id') or '?'} → {text}")
    return str(item.get("type") or "")
