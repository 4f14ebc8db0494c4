"""A recorded session as one trace: session → turns → user speech, inference, tool calls.

Pure: it reads the rows rtrec/store/trace_source.py returns (the views, ms since the
session's start) and places every span at the recorded time, `started_ns` plus the
view's ms, never the time of export.  The attribute names and what fills them are
tabled in README ("Traces"); rtrec/otel/attributes.py maps the rows to them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rtrec.otel import attributes as attrs
from rtrec.otel.ids import span_id, trace_id
from rtrec.otel.spans import SpanEvent, SpanSpec, Trace, TraceOptions

Row = dict[str, Any]


class _Clock:
    """View times (ms since the session's start) as wall-clock ns since the epoch."""

    def __init__(self, started_ns: int) -> None:
        self.started_ns = started_ns

    def __call__(self, ms: float | int | None) -> int | None:
        return None if ms is None else self.started_ns + round(float(ms) * 1_000_000)


def build_trace(source: dict[str, Any], options: TraceOptions | None = None) -> Trace:
    options = options or TraceOptions()
    session: Row = source["session"]
    uuid = str(session["uuid"])
    at = _Clock(int(session["started_ns"]))
    facts = attrs.SessionFacts.of(session, source.get("config") or {})

    root = _session_span(uuid, session, facts, at, source, options)
    spans = [root]
    turn_spans: list[SpanSpec] = []

    items_by_response: dict[str, list[Row]] = defaultdict(list)
    for item in source.get("output_items", []):
        items_by_response[item["response_id"]].append(item)
    calls_by_response: dict[str | None, list[Row]] = defaultdict(list)
    for call in source.get("tool_calls", []):
        calls_by_response[call.get("response_id")].append(call)
    responses_by_turn: dict[str | None, list[Row]] = defaultdict(list)
    turn_ids = {turn["item_id"] for turn in source.get("turns", [])}
    for response in source.get("responses", []):
        owner = response.get("turn_item_id")
        responses_by_turn[owner if owner in turn_ids else None].append(response)

    def add_replies(parent: SpanSpec, responses: list[Row], turn: Row | None) -> None:
        for response in responses:
            inference = _inference_span(
                uuid, parent, response, turn, items_by_response, facts, at, options
            )
            spans.append(inference)
            parent.cover(inference.start_ns, inference.end_ns)
            for call in calls_by_response.pop(response["response_id"], []):
                tool = _tool_span(uuid, parent, call, at, options)
                spans.append(tool)
                parent.cover(tool.start_ns, tool.end_ns)

    statuses = {r["response_id"]: r.get("status") for r in source.get("responses", [])}
    for turn in source.get("turns", []):
        turn_span = _turn_span(uuid, root, turn, statuses.get(turn.get("response_id")), at)
        spans.append(turn_span)
        turn_spans.append(turn_span)
        speech = _speech_span(uuid, turn_span, turn, at, options)
        if speech is not None:
            spans.append(speech)
            turn_span.cover(speech.start_ns, speech.end_ns)
        add_replies(turn_span, responses_by_turn.get(turn["item_id"], []), turn)
        root.cover(turn_span.start_ns, turn_span.end_ns)

    add_replies(root, responses_by_turn.get(None, []), None)
    for calls in calls_by_response.values():  # calls of no recorded response
        for call in calls:
            tool = _tool_span(uuid, root, call, at, options)
            spans.append(tool)
            root.cover(tool.start_ns, tool.end_ns)

    for error in source.get("errors", []):
        time_ns = at(error.get("t_ms")) or root.start_ns
        owner = next((t for t in turn_spans if t.contains(time_ns)), root)
        owner.events.append(SpanEvent("rtrec.error", time_ns, attrs.error_event(error)))
        root.cover(time_ns, time_ns)
    return Trace(trace_id(uuid), uuid, spans)


def _session_span(
    uuid: str,
    session: Row,
    facts: attrs.SessionFacts,
    at: _Clock,
    source: dict[str, Any],
    options: TraceOptions,
) -> SpanSpec:
    start = at.started_ns
    end = session.get("ended_ns")
    if end is None:
        end = at(session.get("duration_ms")) or start
    span = SpanSpec(
        key="session",
        name=f"realtime_session {facts.model}" if facts.model else "realtime_session",
        span_id=span_id(uuid, "session"),
        parent_id=None,
        start_ns=start,
        end_ns=max(int(end), start),
        attributes=attrs.session_attributes(session, facts, source, options),
    )
    if session.get("end_reason") == "upstream_refused":
        status = session.get("refused_status")
        span.error = f"the upstream refused the session (HTTP {status})" if status else "refused"
    return span


def _turn_span(uuid: str, root: SpanSpec, turn: Row, status: object, at: _Clock) -> SpanSpec:
    times = [at(turn.get(k)) for k in ("speech_started_ms", "speech_stopped_ms", "committed_ms")]
    known = [t for t in times if t is not None]
    start = min(known) if known else root.start_ns
    end = max(known) if known else start
    return SpanSpec(
        key=f"turn:{turn['item_id']}",
        name=f"turn {turn['turn']}",
        span_id=span_id(uuid, "turn", str(turn["item_id"])),
        parent_id=root.span_id,
        start_ns=start,
        end_ns=end,
        attributes=attrs.turn_attributes(turn, status, root.attributes),
    )


def _speech_span(
    uuid: str, turn_span: SpanSpec, turn: Row, at: _Clock, options: TraceOptions
) -> SpanSpec | None:
    start, end = at(turn.get("speech_started_ms")), at(turn.get("speech_stopped_ms"))
    if start is None or end is None or end < start:
        return None
    return SpanSpec(
        key=f"speech:{turn['item_id']}",
        name="user_speech",
        span_id=span_id(uuid, "speech", str(turn["item_id"])),
        parent_id=turn_span.span_id,
        start_ns=start,
        end_ns=end,
        attributes=attrs.speech_attributes(turn, turn_span.attributes, options),
    )


def _inference_span(
    uuid: str,
    parent: SpanSpec,
    response: Row,
    turn: Row | None,
    items_by_response: dict[str, list[Row]],
    facts: attrs.SessionFacts,
    at: _Clock,
    options: TraceOptions,
) -> SpanSpec:
    response_id = str(response["response_id"])
    start = at(response.get("created_ms"))
    if start is None:
        start = at(response.get("requested_ms")) or parent.start_ns
    end = at(response.get("done_ms"))
    items = items_by_response.get(response_id, [])
    span = SpanSpec(
        key=f"response:{response_id}",
        name=f"realtime_inference {facts.model}" if facts.model else "realtime_inference",
        span_id=span_id(uuid, "response", response_id),
        parent_id=parent.span_id,
        start_ns=start,
        end_ns=max(end, start) if end is not None else start,
        attributes=attrs.inference_attributes(response, turn, items, facts, options),
        client=True,
    )
    for name, column in (
        ("rtrec.first_text", "first_text_ms"),
        ("rtrec.first_transcript", "first_transcript_ms"),
        ("rtrec.first_audio", "first_audio_ms"),
    ):
        time_ns = at(response.get(column))
        if time_ns is not None:
            span.events.append(SpanEvent(name, time_ns))
            span.cover(time_ns, time_ns)
    if response.get("status") == "failed":
        span.error = str(response.get("status_reason") or "the response failed")
    return span


def _tool_span(
    uuid: str, parent: SpanSpec, call: Row, at: _Clock, options: TraceOptions
) -> SpanSpec:
    call_id = str(call.get("call_id") or call.get("item_id"))
    start = at(call.get("called_ms")) or parent.start_ns
    end = at(call.get("answered_ms"))
    return SpanSpec(
        key=f"tool:{call_id}",
        name=f"execute_tool {call.get('name')}",
        span_id=span_id(uuid, "tool", call_id),
        parent_id=parent.span_id,
        start_ns=start,
        end_ns=max(end, start) if end is not None else start,
        attributes=attrs.tool_attributes(call, options),
    )
