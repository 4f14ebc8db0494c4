"""The readable transcript of `rtrec show`: a session's projected state as lines of text.

Items in conversation order (deleted ones where they were), each response after its
last item with status, latency and tokens, and errors and responses that produced
no conversation item at the point in time they happened.  Pure: dicts in, lines out.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from rtrec.timefmt import format_duration, format_span_ms, plural

Row = dict[str, Any]
INDENT = " " * 10


def _seconds(ms: float | None) -> str:
    return f"{ms / 1000:.1f} s" if isinstance(ms, int | float) else "?"


def _span(ms: float | None) -> str:
    return format_span_ms(ms) if isinstance(ms, int | float) else "?"


def _ms(ms: float | None) -> str:
    if not isinstance(ms, int | float):
        return "?"
    return f"{ms:.0f} ms" if abs(ms) < 10_000 else f"{ms / 1000:.1f} s"


def _stamp(ms: float | None) -> str:
    return f"[{_seconds(ms):>7}]" if isinstance(ms, int | float) else " " * 9


def _block(head: str, text: str | None) -> list[str]:
    """`head: text`, continuation lines indented under it."""
    if not text:
        return [head]
    first, *rest = text.splitlines() or [""]
    return [f"{head}: {first}", *(f"{INDENT}  {line}" for line in rest)]


def _tool_names(tools: list[Any]) -> list[str]:
    return [
        str(t.get("name") or t.get("server_label") or "?") if isinstance(t, dict) else "?"
        for t in tools
    ]


def _joined(parts: list[Any]) -> str:
    """The parts that are there, joined with " · "."""
    return " · ".join(str(part) for part in parts if part)


def _title(s: Row) -> str:
    duration = s.get("duration_ms")
    return _joined(
        [
            f"Session {s.get('session_id')} ({s.get('uuid')})",
            s.get("protocol"),
            s.get("model") or "model ?",
            str(s.get("started_at") or "")[:19].replace("T", " "),
            format_duration(duration / 1000) if isinstance(duration, int | float) else None,
            s.get("end_reason") or "open",
        ]
    )


def _refusal(s: Row) -> str:
    unreachable = str(s.get("error") or "")
    if unreachable.startswith("cannot reach upstream"):  # the relay's own 502
        return f"rtrec {unreachable} (it answered the client with HTTP {s['refused_status']})"
    return f"the upstream refused the connection: HTTP {s['refused_status']}"


def _if(value: Any, text: str) -> str | None:
    return text if value else None


def _settings(s: Row, config: Row) -> str:
    tools = config.get("tools")
    turns = s.get("turn_detection") or _if(
        config.get("delegation"), f"delegation {config.get('delegation')}"
    )
    return _joined(
        [
            _if(s.get("provider_session_id"), f"provider session {s.get('provider_session_id')}"),
            _if(s.get("voice"), f"voice {s.get('voice')}"),
            f"audio {s.get('input_format') or '?'} in / {s.get('output_format') or '?'} out",
            turns or "no turn detection",
            _if(s.get("transcription_model"), f"transcription {s.get('transcription_model')}"),
            f"tools {', '.join(_tool_names(tools))}" if isinstance(tools, list) and tools else None,
        ]
    )


def _totals(s: Row) -> str:
    tokens = None
    if s.get("input_tokens") is not None and s.get("output_tokens") is not None:
        tokens = f"{s['input_tokens']:,} in / {s['output_tokens']:,} out tokens"
    usage = s.get("usage_seconds")
    return _joined(
        [
            plural(s.get("event_count") or 0, "event", grouped=True),
            f"audio {_span(s.get('audio_in_ms'))} in / {_span(s.get('audio_out_ms'))} out",
            plural(s.get("responses") or 0, "response"),
            f"usage {usage:g} s" if usage is not None else None,
            tokens,
        ]
    )


def header(state: dict[str, Any]) -> list[str]:
    s = state["session"]
    config = s.get("config") or {}
    lines = [_title(s)]
    if s.get("refused_status") is not None:
        lines.append(_refusal(s))
    if config or s.get("provider_session_id"):
        lines.append(_settings(s, config))
    lines.append(_totals(s))
    return lines


def _mcp_call(item: Row) -> str:
    label = item.get("server_label") or "?"
    return f"{label}.{item.get('name') or '?'}({item.get('arguments') or ''})"


def _message_text(item: Row) -> str | None:
    text = item.get("text")
    if text:
        return str(text)
    if item.get("transcription_status") == "failed":
        return f"[transcription failed: {item.get('transcription_error') or '?'}]"
    if any((p or {}).get("type") == "input_audio" for p in item.get("content") or []):
        return "[no transcript]"
    return text


def _message(item: Row, head: str, calls: dict[str, Row]) -> list[str]:
    head += item.get("role") or "?"
    if item.get("audio_ms"):
        head += f" (audio {_span(item['audio_ms'])})"
    if item.get("truncated_ms") is not None:
        head += f" [cut at {_span(item['truncated_ms'])}]"
    if item.get("status") == "incomplete":
        head += " [incomplete]"
    return _block(head, _message_text(item))


def _function_call(item: Row, head: str, calls: dict[str, Row]) -> list[str]:
    call = f"{item.get('name') or '?'}({item.get('arguments') or ''})"
    lines = [f"{head}assistant → {call}  {item.get('call_id') or ''}".rstrip()]
    if item.get("output") is not None:  # answered in place (Gemini's toolResponse)
        lines += _block(f"{INDENT}  result", item["output"])
    return lines


def _function_call_output(item: Row, head: str, calls: dict[str, Row]) -> list[str]:
    call = calls.get(item.get("call_id") or "")
    when = ""
    if call is not None and call.get("answer_ms") is not None:
        when = f", answered {_ms(call['answer_ms'])} after the call"
    head += f"tool result ({item.get('call_id') or '?'}{when})"
    return _block(head, item.get("output") or "")


def _mcp_call_lines(item: Row, head: str, calls: dict[str, Row]) -> list[str]:
    lines = [f"{head}assistant → mcp {_mcp_call(item)}  {item.get('status') or ''}".rstrip()]
    if item.get("output"):
        lines += _block(f"{INDENT}  result", item["output"])
    if item.get("error"):
        lines.append(f"{INDENT}  error: {item['error']}")
    return lines


def _mcp_list_tools(item: Row, head: str, calls: dict[str, Row]) -> list[str]:
    return [f"{head}mcp tools listed by {item.get('server_label') or '?'}"]


def _mcp_approval_request(item: Row, head: str, calls: dict[str, Row]) -> list[str]:
    return [f"{head}approval requested for mcp {_mcp_call(item)}"]


def _mcp_approval_response(item: Row, head: str, calls: dict[str, Row]) -> list[str]:
    verdict = "approved" if item.get("approve") else "declined"
    return [f"{head}user {verdict} {item.get('approval_request_id') or '?'}"]


_ITEM_LINES: dict[str, Callable[[Row, str, dict[str, Row]], list[str]]] = {
    "message": _message,
    "function_call": _function_call,
    "function_call_output": _function_call_output,
    "mcp_call": _mcp_call_lines,
    "mcp_list_tools": _mcp_list_tools,
    "mcp_approval_request": _mcp_approval_request,
    "mcp_approval_response": _mcp_approval_response,
}


def item_lines(item: Row, calls: dict[str, Row]) -> list[str]:
    stamp = _stamp(item.get("added_ms"))
    deleted = f"[deleted at {_seconds(item['deleted_ms'])}] " if item.get("deleted") else ""
    head = f"{stamp} {deleted}"
    kind = item.get("type")
    lines = _ITEM_LINES.get(kind or "")
    if lines is not None:
        return lines(item, head, calls)
    return _block(f"{head}[{kind or 'item'}]", item.get("text"))


def response_line(response: Row, turn_latency: dict[str, float]) -> str:
    status = response.get("status") or "no response.done"
    if response.get("status_reason"):
        status += f" ({response['status_reason']})"
    parts = [f"response {response.get('response_id')} {status}"]
    if response.get("out_of_band"):
        parts.append("out of band")
    if response.get("audio_ms"):
        parts.append(f"audio {_span(response['audio_ms'])}")
    latency = turn_latency.get(response.get("response_id") or "")
    first = response.get("first_audio_ms") or response.get("first_text_ms")
    if latency is not None:
        parts.append(f"latency {_ms(latency)}")
    elif first is not None and response.get("created_ms") is not None:
        parts.append(f"first output {_ms(first - response['created_ms'])} after response.created")
    if response.get("input_tokens") is not None:
        parts.append(f"tokens {response['input_tokens']} in / {response.get('output_tokens')} out")
    return f"{INDENT}↳ " + " · ".join(parts)


def error_line(error: Row) -> str:
    what = " ".join(str(x) for x in (error.get("type"), error.get("code")) if x)
    cause = ""
    if error.get("client_event_type"):
        cause = f" (client event {error['client_event_type']}"
        cause += f" #{error['client_seq']})" if error.get("client_seq") is not None else ")"
    elif error.get("client_event_id"):
        cause = f" (client event {error['client_event_id']}, not recorded)"
    return f"{_stamp(error.get('t_ms'))} error {what}: {error.get('message') or ''}{cause}"


def delegation_line(call: Row, at_ms: float | None) -> str:
    """A GPT-Live delegation: the work the assistant handed off, and the answer it got."""
    when = ""
    if call.get("answer_ms") is not None:
        when = f", answered {_ms(call['answer_ms'])} later"
    head = f"{_stamp(at_ms)} assistant delegates to {call.get('name') or '?'}"
    head += f" ({call.get('call_id') or '?'}{when})"
    return "\n".join(_block(head, call.get("output")))


def _delegated_at(call: Row) -> float | None:
    """Where a delegation happened on the session clock (its offset_ms), else its arrival."""
    try:
        offset = json.loads(call.get("arguments") or "{}").get("offset_ms")
    except (ValueError, AttributeError):
        offset = None
    return offset if isinstance(offset, int | float) else call.get("called_ms")


class _Anchors:
    """What the transcript shows after each item (None: before the first), by time."""

    def __init__(self, items: list[Row]) -> None:
        self.items = items
        self.after: dict[str | None, list[tuple[float, str]]] = defaultdict(list)

    def at_time(self, t_ms: float | None, line: str) -> None:
        """After the last item added by `t_ms`."""
        anchor = None
        for item in self.items:
            if (item.get("added_ms") or 0) <= (t_ms or 0):
                anchor = item["item_id"]
        self.after[anchor].append((t_ms or 0, line))

    def lines_after(self, item_id: str | None) -> list[str]:
        return [line for _, line in sorted(self.after.get(item_id, []))]


def _place_responses(state: dict[str, Any], anchors: _Anchors) -> None:
    """Each response after its last item; one without items where it happened, with the
    out-of-band output it produced."""
    by_id = {i["item_id"]: i for i in state["items"]}
    turn_latency = {
        t["response_id"]: t["latency_ms"]
        for t in state["turns"]
        if t.get("response_id") and t.get("latency_ms") is not None
    }
    oob_text = defaultdict(list)
    for out in state.get("out_of_band_items", []):
        oob_text[out["response_id"]].append(out.get("text") or out.get("arguments") or "")
    for response in state["responses"]:
        own = [by_id[i] for i in response.get("output_item_ids") or [] if i in by_id]
        line = response_line(response, turn_latency)
        t_ms = response.get("created_ms") or 0
        if own:
            last = max(own, key=lambda i: i.get("ordinal") or 0)
            anchors.after[last["item_id"]].append((t_ms, line))
            continue
        line += "".join(f"\n{INDENT}  output: {text}" for text in oob_text[response["response_id"]])
        anchors.at_time(t_ms, line)


def render(state: dict[str, Any]) -> list[str]:
    items: list[Row] = state["items"]
    calls = {c["call_id"]: c for c in state["tool_calls"] if c.get("call_id")}
    anchors = _Anchors(items)
    _place_responses(state, anchors)
    for error in state["errors"]:
        anchors.at_time(error.get("t_ms"), error_line(error))
    for call in state["tool_calls"]:
        if call.get("kind") == "delegation":
            at = _delegated_at(call)
            anchors.at_time(at, delegation_line(call, at))

    lines = [*header(state), "", *anchors.lines_after(None)]
    for item in items:
        lines += item_lines(item, calls)
        lines += anchors.lines_after(item["item_id"])
    unknown = (state["session"].get("unknown_types")) or {}
    if unknown:
        counted = ", ".join(f"{name} ×{count}" for name, count in sorted(unknown.items()))
        lines += ["", f"Not interpreted (kept in the log): {counted}"]
    if not items and not state["responses"]:
        lines.append("(no conversation items)")
    return lines


def dumps(state: dict[str, Any]) -> str:
    return json.dumps(state, indent=2, ensure_ascii=False)
