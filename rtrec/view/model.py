"""What the page draws, from the projected views: spans, marks, lines and figures.  Pure.

Every time and figure here is a column of a view row (`sessions`, `items`,
`responses`, `turns`, `tool_calls`, `session_updates`, `errors`, as
`read_projection` returns them) or arithmetic on columns of one row, so the page
and `rtrec sql` never disagree.  The page's JavaScript only places and draws.

Where speech sits on the timeline:
- a user turn spoke from `turns.speech_started_ms` to `turns.speech_stopped_ms`;
- an assistant message was heard from its response's `first_audio_ms` for its
  `items.audio_ms`, or up to `items.truncated_ms` when the client cut it (the mix
  places audio the same way: at arrival, cut at the truncation);
- anything else is placed at its first time the views give (the item's
  `added_ms`, a tool call's `called_ms`, …).
"""

from __future__ import annotations

import json
from typing import Any

from rtrec.view.stats import count_text, duration_text, latency_label, percentile

MODEL_VERSION = 1
INTERRUPTED = frozenset({"cancelled", "incomplete", "interrupted", "failed"})


def build_model(
    projection: dict[str, Any], *, audio: dict[str, Any] | None, last_event_ms: float | None
) -> dict[str, Any]:
    """The page's data.  `audio`: rate, frames and peak resolution of the mix, or None."""
    session = projection["session"]
    items = projection["items"]
    responses = {r["response_id"]: r for r in projection["responses"]}
    turns = projection["turns"]
    turn_by_item = {t["item_id"]: t for t in turns}
    latencies = [t["latency_ms"] for t in turns if t["latency_ms"] is not None]
    mix_ms = audio["frames"] * 1000 / audio["rate"] if audio else 0.0
    extent_ms = max(session.get("duration_ms") or 0.0, mix_ms, last_event_ms or 0.0, 1.0)
    return {
        "version": MODEL_VERSION,
        "session": {
            "session_id": session.get("session_id"),
            "uuid": session.get("uuid"),
            "started_at": session.get("started_at"),
            "ended_at": session.get("ended_at"),
            "live": session.get("ended_at") is None,
            "event_count": session.get("event_count") or 0,
            "projected_events": session.get("projected_events") or 0,
            "duration_ms": session.get("duration_ms"),
        },
        "extent_ms": extent_ms,
        "facts": _facts(session, projection["session_updates"], turns, latencies),
        "latency": {
            "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95),
        },
        "user_spans": _user_spans(turns),
        "assistant_spans": _assistant_spans(items, responses),
        "transcript": _transcript(items, responses, turn_by_item, projection["tool_calls"]),
        "responses": [_response(r) for r in projection["responses"]],
        "turns": [_turn(t) for t in turns],
        "tools": [_tool(c) for c in projection["tool_calls"]],
        "errors": [
            {
                "t_ms": e["t_ms"],
                "code": e.get("code"),
                "message": e.get("message"),
                "type": e.get("type"),
                "client_event_type": e.get("client_event_type"),
            }
            for e in projection["errors"]
        ],
        "audio": audio,
    }


def _facts(
    session: dict[str, Any],
    updates: list[dict[str, Any]],
    turns: list[dict[str, Any]],
    latencies: list[float],
) -> list[dict[str, str]]:
    """The header, label → text, each from one column of `sessions` (or the turns)."""
    protocol = " ".join(
        dict.fromkeys(
            str(v) for v in (session.get("protocol"), session.get("protocol_version")) if v
        )
    )
    usage_seconds = session.get("usage_seconds")
    if usage_seconds is not None:
        usage = count_text(usage_seconds, "second") + " of usage"
    elif session.get("total_tokens") is not None:
        usage = (
            f"{count_text(session['total_tokens'], 'token')} "
            f"({session.get('input_tokens') or 0:,} in, {session.get('output_tokens') or 0:,} out)"
        )
    else:
        usage = "-"
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    facts = [
        ("model", "Model", session.get("model") or "-"),
        ("protocol", "Protocol", protocol or "-"),
        ("formats", "Formats", _formats(session)),
        ("voice", "Voice", session.get("voice") or "-"),
        ("tools", "Tools", ", ".join(tool_names(updates)) or "none"),
        ("end_reason", "End", session.get("end_reason") or "still recording"),
        ("duration", "Duration", duration_text(session.get("duration_ms"))),
        ("usage", "Usage", usage),
        (
            "latency",
            "Latency p50 / p95",
            f"{latency_label(p50)} / {latency_label(p95)}" if latencies else "-",
        ),
        ("turns", "Turns", str(len(turns))),
        ("errors", "Errors", str(session.get("errors") or 0)),
    ]
    return [{"key": key, "label": label, "value": value} for key, label, value in facts]


def _formats(session: dict[str, Any]) -> str:
    given, taken = session.get("input_format"), session.get("output_format")
    if not given and not taken:
        return "-"
    if given == taken:
        return str(given)
    return f"in {given or '-'}, out {taken or '-'}"


def tool_names(updates: list[dict[str, Any]]) -> list[str]:
    """The tools of the last configuration that named any (Realtime and Gemini shapes)."""
    for update in reversed(updates):
        tools = update.get("tools")
        if isinstance(tools, str):
            try:
                tools = json.loads(tools)
            except ValueError:
                continue
        if not isinstance(tools, list) or not tools:
            continue
        names: list[str] = []
        for tool in tools:
            if isinstance(tool, dict):
                names.extend(_tool_names(tool))
        return names
    return []


def _tool_names(tool: dict[str, Any]) -> list[str]:
    if isinstance(tool.get("name"), str):
        return [tool["name"]]
    declared = [
        d["name"]
        for key in ("functionDeclarations", "function_declarations")
        for d in tool.get(key) or []
        if isinstance(d, dict) and isinstance(d.get("name"), str)
    ]
    if declared:
        return declared
    if isinstance(tool.get("server_label"), str):
        return [f"mcp:{tool['server_label']}"]
    if isinstance(tool.get("type"), str):
        return [tool["type"]]
    return [str(key) for key in tool][:1]


def _user_spans(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    spans = []
    for turn in turns:
        start, end = turn.get("speech_started_ms"), turn.get("speech_stopped_ms")
        if start is None or end is None:
            continue
        spans.append(
            {
                "item_id": turn["item_id"],
                "turn": turn["turn"],
                "start_ms": start,
                "end_ms": end,
                "text": turn.get("text"),
            }
        )
    return spans


def _heard(item: dict[str, Any], response: dict[str, Any] | None) -> tuple[float, float] | None:
    """(start, end) of an assistant message's audio as the user heard it."""
    audio_ms = item.get("audio_ms")
    if not audio_ms or response is None or response.get("first_audio_ms") is None:
        return None
    start = response["first_audio_ms"]
    truncated = item.get("truncated_ms")
    heard = min(audio_ms, truncated) if truncated is not None else audio_ms
    return start, start + heard


def _assistant_spans(
    items: list[dict[str, Any]], responses: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    spans = []
    for item in items:
        if item.get("role") != "assistant":
            continue
        response = responses.get(item.get("response_id") or "")
        heard = _heard(item, response)
        if heard is None:
            continue
        status = (response or {}).get("status")
        spans.append(
            {
                "item_id": item["item_id"],
                "response_id": item.get("response_id"),
                "start_ms": heard[0],
                "end_ms": heard[1],
                "audio_ms": item.get("audio_ms"),
                "truncated_ms": item.get("truncated_ms"),
                "cut": item.get("truncated_ms") is not None,
                "interrupted": status in INTERRUPTED,
                "status": status,
                "text": item.get("text"),
            }
        )
    return spans


def _item_start(
    item: dict[str, Any],
    responses: dict[str, dict[str, Any]],
    turn_by_item: dict[str, dict[str, Any]],
    tool_times: dict[str, tuple[float | None, float | None]],
) -> float | None:
    turn = turn_by_item.get(item["item_id"])
    if turn is not None:
        for key in ("speech_started_ms", "speech_stopped_ms"):
            if turn.get(key) is not None:
                return float(turn[key])
    kind = item.get("type")
    if kind in ("function_call", "mcp_call") and item["item_id"] in tool_times:
        called = tool_times[item["item_id"]][0]
        if called is not None:
            return called
    if kind == "function_call_output" and item.get("call_id") in tool_times:
        answered = tool_times[item["call_id"]][1]
        if answered is not None:
            return answered
    response = responses.get(item.get("response_id") or "")
    if response is not None and item.get("role") == "assistant":
        heard = _heard(item, response)
        if heard is not None:
            return heard[0]
        for key in ("first_text_ms", "first_transcript_ms", "created_ms"):
            if response.get(key) is not None:
                return float(response[key])
    for key in ("client_ms", "added_ms", "done_ms"):
        if item.get(key) is not None:
            return float(item[key])
    return None


def _transcript(
    items: list[dict[str, Any]],
    responses: dict[str, dict[str, Any]],
    turn_by_item: dict[str, dict[str, Any]],
    tool_calls: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    tool_times: dict[str, tuple[float | None, float | None]] = {}
    for call in tool_calls:
        times = (call.get("called_ms"), call.get("answered_ms"))
        tool_times[call["item_id"]] = times
        if call.get("call_id"):
            tool_times[call["call_id"]] = times
    lines = []
    for item in items:
        kind = item.get("type")
        if kind == "message":
            text = item.get("text") or ""
            speaker = item.get("role") or "?"
        elif kind in ("function_call", "mcp_call"):
            text = f"{item.get('name') or '?'}({item.get('arguments') or ''})"
            speaker = "tool call"
        elif kind == "function_call_output":
            text = item.get("output") or ""
            speaker = "tool output"
        else:
            text = item.get("text") or ""
            speaker = kind or "item"
        lines.append(
            {
                "item_id": item["item_id"],
                "speaker": speaker,
                "role": item.get("role"),
                "type": kind,
                "text": text,
                "start_ms": _item_start(item, responses, turn_by_item, tool_times),
                "status": item.get("status"),
                "truncated_ms": item.get("truncated_ms"),
                "deleted": bool(item.get("deleted")),
            }
        )
    return lines


def _response(response: dict[str, Any]) -> dict[str, Any]:
    return {
        "response_id": response["response_id"],
        "status": response.get("status"),
        "status_reason": response.get("status_reason"),
        "start_ms": response.get("created_ms"),
        "end_ms": response.get("done_ms"),
        "first_text_ms": response.get("first_text_ms"),
        "first_audio_ms": response.get("first_audio_ms"),
        "input_tokens": response.get("input_tokens"),
        "output_tokens": response.get("output_tokens"),
        "total_tokens": response.get("total_tokens"),
        "out_of_band": bool(response.get("out_of_band")),
        "interrupted": response.get("status") in INTERRUPTED,
    }


def _turn(turn: dict[str, Any]) -> dict[str, Any]:
    end, latency = turn.get("speech_stopped_ms"), turn.get("latency_ms")
    return {
        "turn": turn["turn"],
        "item_id": turn["item_id"],
        "text": turn.get("text"),
        "from_ms": end,
        "to_ms": end + latency if end is not None and latency is not None else None,
        "latency_ms": latency,
        "label": latency_label(latency),
        "ended_by": turn.get("ended_by"),
        "response_id": turn.get("response_id"),
    }


def _tool(call: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": call.get("name"),
        "kind": call.get("kind"),
        "call_id": call.get("call_id"),
        "item_id": call.get("item_id"),
        "arguments": call.get("arguments"),
        "output": call.get("output"),
        "start_ms": call.get("called_ms"),
        "end_ms": call.get("answered_ms"),
        "answer_ms": call.get("answer_ms"),
    }
