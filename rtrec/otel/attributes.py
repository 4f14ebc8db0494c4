"""Which view column fills which span attribute (README "Traces" tables them all).

Names follow the OpenTelemetry GenAI semantic conventions where they have one
(`gen_ai.*`, `server.*`), the realtime and voice-agent drafts where those name it
(semantic-conventions-genai #394: the `realtime_session`, `realtime_inference` and
`user_speech` operations; #390: `gen_ai.speech.voice`,
`gen_ai.agent.invocation.end_reason`), and `rtrec.*` for the rest.  Text content and
audio are left out unless asked for (TraceOptions).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from rtrec.otel.spans import AttributeValue, TraceOptions, drop_none

Row = dict[str, Any]

# Response statuses that mean the user cut the reply off (Realtime `cancelled` with
# reason turn_detected or client_cancelled; Gemini and GPT-Live `interrupted`).
INTERRUPTED = frozenset({"cancelled", "interrupted"})


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """What every span of a session shares."""

    protocol: str  # realtime | live | gemini
    protocol_version: str | None  # ga | beta (Realtime)
    provider: str
    model: str | None
    conversation_id: str

    @classmethod
    def of(cls, session: Row, config: Row) -> SessionFacts:
        protocol = session.get("protocol")
        version = session.get("protocol_version")
        if protocol in ("ga", "beta"):  # the views before sessions.protocol named the family
            protocol, version = "realtime", version or protocol
        if protocol not in ("realtime", "live", "gemini"):
            protocol = _protocol_from_path(str(session.get("path") or ""))
        return cls(
            protocol=protocol,
            protocol_version=version,
            provider=provider_name(protocol, session.get("upstream")),
            model=session.get("model") or config.get("model"),
            conversation_id=str(session.get("provider_session_id") or session["uuid"]),
        )


def _protocol_from_path(path: str) -> str:
    if "BidiGenerateContent" in path:
        return "gemini"
    if "/live/" in path or path.endswith("/live"):
        return "live"
    return "realtime"


def provider_name(protocol: str, upstream: object) -> str:
    """`gen_ai.provider.name`: the convention's well-known values where one fits."""
    host = (urlsplit(str(upstream)).hostname or "") if upstream else ""
    if protocol == "gemini":
        return "gcp.vertex_ai" if "aiplatform" in host else "gcp.gemini"
    if host.endswith((".azure.com", ".azure.us", ".azure.cn")):
        return "azure.ai.openai"
    if host == "x.ai" or host.endswith(".x.ai"):
        return "x_ai"
    return "openai"


def _server(upstream: object) -> Row:
    if not upstream:
        return {}
    parts = urlsplit(str(upstream))
    default_port = 443 if parts.scheme in ("wss", "https") else 80
    return {"server.address": parts.hostname, "server.port": parts.port or default_port}


def _common(facts: SessionFacts) -> Row:
    return {
        "gen_ai.provider.name": facts.provider,
        "gen_ai.conversation.id": facts.conversation_id,
    }


def session_attributes(
    session: Row, facts: SessionFacts, source: dict[str, Any], options: TraceOptions
) -> dict[str, AttributeValue]:
    config: Row = source.get("config") or {}
    latencies = sorted(
        float(t["latency_ms"]) for t in source.get("turns", []) if t.get("latency_ms") is not None
    )
    tools = config.get("tools")
    tool_names = (
        [str(t.get("name")) for t in tools if isinstance(t, dict) and t.get("name")]
        if isinstance(tools, list)
        else []
    )
    values: Row = {
        "gen_ai.operation.name": "realtime_session",
        **_common(facts),
        "gen_ai.request.model": facts.model,
        "gen_ai.speech.voice": session.get("voice"),
        "gen_ai.usage.input_tokens": session.get("input_tokens"),
        "gen_ai.usage.output_tokens": session.get("output_tokens"),
        **_server(session.get("upstream")),
        "rtrec.session.uuid": str(session["uuid"]),
        "rtrec.session.id": session.get("session_id"),
        "rtrec.session.source": session.get("source"),
        "rtrec.session.end_reason": session.get("end_reason"),
        "rtrec.session.duration_ms": _float(session.get("duration_ms")),
        "rtrec.session.events": session.get("event_count"),
        "rtrec.session.turns": len(source.get("turns", [])),
        "rtrec.session.responses": session.get("responses"),
        "rtrec.session.errors": session.get("errors"),
        "rtrec.session.refused_status": session.get("refused_status"),
        "rtrec.session.client_close_code": session.get("client_close_code"),
        "rtrec.session.upstream_close_code": session.get("upstream_close_code"),
        "rtrec.protocol": facts.protocol,
        "rtrec.protocol.version": facts.protocol_version,
        "rtrec.provider_session_id": session.get("provider_session_id"),
        "rtrec.usage.total_tokens": session.get("total_tokens"),
        "rtrec.usage.seconds": _float(session.get("usage_seconds")),
        "rtrec.audio.input_ms": _float(session.get("audio_in_ms")),
        "rtrec.audio.output_ms": _float(session.get("audio_out_ms")),
        "rtrec.audio.input_format": session.get("input_format"),
        "rtrec.audio.output_format": session.get("output_format"),
        "rtrec.turn_detection": session.get("turn_detection"),
        "rtrec.tools": tool_names or None,
        "rtrec.latency.p50_ms": _percentile(latencies, 0.50),
        "rtrec.latency.p95_ms": _percentile(latencies, 0.95),
    }
    if options.with_content:
        instructions = config.get("instructions")
        if instructions:
            values["gen_ai.system_instructions"] = _json(
                [{"type": "text", "content": str(instructions)}]
            )
        if tools:
            values["gen_ai.tool.definitions"] = _json(tools)
    return drop_none(values)


def turn_attributes(
    turn: Row, status: object, session_attrs: dict[str, AttributeValue]
) -> dict[str, AttributeValue]:
    """`status`: that of the reply the turn's latency is measured to."""
    return drop_none(
        {
            "gen_ai.conversation.id": session_attrs.get("gen_ai.conversation.id"),
            "gen_ai.agent.invocation.end_reason": _turn_end(turn, status),
            "rtrec.turn.index": turn.get("turn"),
            "rtrec.turn.item_id": turn.get("item_id"),
            "rtrec.turn.input": turn.get("input"),
            "rtrec.turn.ended_by": turn.get("ended_by"),
            "rtrec.turn.audio_source": turn.get("audio_source"),
            "rtrec.turn.latency_ms": _float(turn.get("latency_ms")),
            "rtrec.turn.responses": turn.get("responses"),
            "rtrec.turn.response_id": turn.get("response_id"),
        }
    )


def _turn_end(turn: Row, status: object) -> str | None:
    if not turn.get("responses"):
        return "unanswered"
    if status in INTERRUPTED:
        return "interrupted"
    return str(status) if status else None


def speech_attributes(
    turn: Row, turn_attrs: dict[str, AttributeValue], options: TraceOptions
) -> dict[str, AttributeValue]:
    values: Row = {
        "gen_ai.operation.name": "user_speech",
        "gen_ai.conversation.id": turn_attrs.get("gen_ai.conversation.id"),
        "rtrec.turn.item_id": turn.get("item_id"),
        "rtrec.turn.ended_by": turn.get("ended_by"),
        "rtrec.speech.audio_start_ms": turn.get("audio_start_ms"),
        "rtrec.speech.audio_end_ms": turn.get("audio_end_ms"),
    }
    if options.with_content:
        values["rtrec.transcript"] = turn.get("text")
    return drop_none(values)


def inference_attributes(
    response: Row, turn: Row | None, items: list[Row], facts: SessionFacts, options: TraceOptions
) -> dict[str, AttributeValue]:
    status = response.get("status")
    reason = response.get("status_reason")
    usage = _dict(response.get("usage"))
    cached = _dict(_dict(usage.get("input_token_details")).get("cached_tokens_details"))
    truncated = [i["truncated_ms"] for i in items if i.get("truncated_ms") is not None]
    first_output = _first(response.get("first_audio_ms"), response.get("first_text_ms"))
    created = response.get("created_ms")
    is_turns_reply = turn is not None and turn.get("response_id") == response.get("response_id")
    speech = bool(response.get("audio_ms")) or "audio" in (response.get("modalities") or [])
    values: Row = {
        "gen_ai.operation.name": "realtime_inference",
        **_common(facts),
        "gen_ai.request.model": facts.model,
        "gen_ai.response.id": response.get("response_id"),
        "gen_ai.response.finish_reasons": [str(reason or status)] if status else None,
        "gen_ai.output.type": "speech" if speech else "text",
        "gen_ai.speech.voice": response.get("voice"),
        "gen_ai.usage.input_tokens": response.get("input_tokens"),
        "gen_ai.usage.output_tokens": response.get("output_tokens"),
        "gen_ai.usage.audio.input_tokens": response.get("input_audio_tokens"),
        "gen_ai.usage.audio.output_tokens": response.get("output_audio_tokens"),
        "gen_ai.usage.cache_read.input_tokens": response.get("cached_tokens"),
        "gen_ai.response.time_to_first_chunk": (
            round((float(first_output) - float(created)) / 1000, 6)
            if first_output is not None and created is not None
            else None
        ),
        "rtrec.response.status": status,
        "rtrec.response.status_reason": reason,
        "rtrec.response.interrupted": status in INTERRUPTED if status else None,
        "rtrec.response.truncated": bool(truncated),
        "rtrec.response.truncated_ms": min(truncated) if truncated else None,
        "rtrec.response.out_of_band": bool(response.get("out_of_band")),
        "rtrec.response.audio_ms": _float(response.get("audio_ms")),
        "rtrec.response.output_format": response.get("output_format"),
        "rtrec.response.turn_item_id": response.get("turn_item_id"),
        "rtrec.usage.total_tokens": response.get("total_tokens"),
        "rtrec.usage.text.input_tokens": response.get("input_text_tokens"),
        "rtrec.usage.image.input_tokens": response.get("input_image_tokens"),
        "rtrec.usage.text.output_tokens": response.get("output_text_tokens"),
        "rtrec.usage.cache_read.text.input_tokens": cached.get("text_tokens"),
        "rtrec.usage.cache_read.audio.input_tokens": cached.get("audio_tokens"),
        "rtrec.turn.latency_ms": _float(turn.get("latency_ms"))
        if turn and is_turns_reply
        else None,
    }
    if options.with_content:
        if turn is not None and turn.get("text"):
            values["gen_ai.input.messages"] = _json(
                [{"role": "user", "parts": [{"type": "text", "content": turn["text"]}]}]
            )
        messages = [m for m in (_output_message(i) for i in items) if m]
        if messages:
            values["gen_ai.output.messages"] = _json(messages)
    return drop_none(values)


def _output_message(item: Row) -> Row | None:
    if item.get("type") == "function_call":
        part = {
            "type": "tool_call",
            "id": item.get("call_id"),
            "name": item.get("name"),
            "arguments": item.get("arguments"),
        }
        return {"role": "assistant", "parts": [part]}
    if item.get("type") == "message" and item.get("text"):
        return {
            "role": item.get("role") or "assistant",
            "parts": [{"type": "text", "content": item["text"]}],
        }
    return None


def tool_attributes(call: Row, options: TraceOptions) -> dict[str, AttributeValue]:
    values: Row = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": call.get("name"),
        "gen_ai.tool.call.id": call.get("call_id"),
        "gen_ai.tool.type": "function" if call.get("kind") == "function_call" else "extension",
        "gen_ai.response.id": call.get("response_id"),
        "rtrec.tool.kind": call.get("kind"),
        "rtrec.tool.answered": call.get("answered_ms") is not None,
        "rtrec.tool.answer_ms": _float(call.get("answer_ms")),
    }
    if options.with_content:
        values["gen_ai.tool.call.arguments"] = call.get("arguments")
        values["gen_ai.tool.call.result"] = call.get("output")
    return drop_none(values)


def error_event(error: Row) -> dict[str, AttributeValue]:
    """An `rtrec.error` event: not `exception`, of which Phoenix keeps only exception.*."""
    code = error.get("code")
    return drop_none(
        {
            "error.type": str(code or error.get("type") or "error"),
            "rtrec.error.code": code,
            "rtrec.error.message": error.get("message"),
            "rtrec.error.type": error.get("type"),
            "rtrec.error.param": error.get("param"),
            "rtrec.error.client_event_id": error.get("client_event_id"),
            "rtrec.error.client_event_type": error.get("client_event_type"),
        }
    )


def _dict(value: object) -> Row:
    return value if isinstance(value, dict) else {}


def _first(*values: object) -> float | None:
    known = [float(v) for v in values if isinstance(v, int | float)]
    return min(known) if known else None


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (the value of a real turn, not an interpolation)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(len(sorted_values) * q))
    return sorted_values[rank - 1]


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
