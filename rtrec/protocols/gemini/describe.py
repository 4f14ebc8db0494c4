"""How the terminal replay shows Gemini Live messages.  Pure."""

from __future__ import annotations

from rtrec.protocols.describe import Audio, Description, Grow, Line, shorten
from rtrec.protocols.gemini import messages as m
from rtrec.protocols.gemini.decoding import compact_json
from rtrec.protocols.gemini.messages import decode_message
from rtrec.protocols.gemini.session import instructions_text

_NO_KEY = (None, None)
DETAIL_CHARS = 120  # a message says more than an OpenAI event: its turns, its calls


def describe(event_type: str | None, frame: str) -> Description:
    message = decode_message(frame)
    if message is None:
        return Line("(not JSON)", shorten(frame, 48))
    if isinstance(message, m.UnknownMessage):
        return Line(message.kind or "(no type)")
    name = event_type or _kind(message)
    match message:
        case m.ServerContentMessage(server_content=content):
            return _server_content(name, content, message.usage_metadata)
        case m.RealtimeInputMessage(realtime_input=given):
            return _realtime_input(name, given)
        case m.SetupMessage(setup=setup):
            return Line(name, _setup(setup))
        case m.SetupCompleteMessage(setup_complete=done):
            return Line(name, done.session_id or "")
        case m.ClientContentMessage(client_content=content):
            return Line(name, _client_content(content))
        case m.ToolCallMessage(tool_call=call):
            calls = [
                f"{c.name}({_args(c.args)}) {c.id or ''}".rstrip() for c in call.function_calls
            ]
            return Line(name, shorten("; ".join(calls), DETAIL_CHARS))
        case m.ToolResponseMessage(tool_response=answer):
            answers = [f"{a.id or a.name} → {_args(a.response)}" for a in answer.function_responses]
            return Line(name, shorten("; ".join(answers), DETAIL_CHARS))
        case m.ToolCallCancellationMessage(tool_call_cancellation=cancelled):
            return Line(name, " ".join(cancelled.ids))
        case m.GoAwayMessage(go_away=away):
            return Line(name, f"time left {away.time_left or '?'}", error=True)
        case m.ErrorMessage(error=error):
            detail = " ".join(str(x) for x in (error.status, error.code, error.message) if x)
            return Line(name, shorten(detail, DETAIL_CHARS), error=True)
    return Line(name, _tokens(getattr(message, "usage_metadata", None)))


def _kind(message: object) -> str:
    for kind, cls in m.MESSAGE_CLASSES.items():
        if isinstance(message, cls):
            return kind
    return ""


def _server_content(
    name: str, content: m.ServerContent, usage: m.UsageMetadata | None
) -> Description:
    parts = content.model_turn.parts if content.model_turn is not None else []
    spoken = [p.text for p in parts if p.text and not p.thought]
    if spoken:
        return Grow("assistant text", _NO_KEY, "".join(spoken))
    if content.output_transcription is not None and content.output_transcription.text:
        return Grow("assistant transcript", _NO_KEY, content.output_transcription.text)
    if content.input_transcription is not None and content.input_transcription.text:
        return Grow("user transcript", _NO_KEY, content.input_transcription.text)
    thoughts = [p.text for p in parts if p.text and p.thought]
    if thoughts:
        return Grow("assistant thought", _NO_KEY, "".join(thoughts))
    if any(p.inline_data is not None for p in parts):
        return Audio("assistant audio", None, "chunk")
    marks = [
        flag
        for flag, on in (
            ("generationComplete", content.generation_complete),
            ("interrupted", content.interrupted),
            ("turnComplete", content.turn_complete),
            ("waitingForInput", content.waiting_for_input),
        )
        if on
    ]
    detail = " ".join(marks)
    tokens = _tokens(usage)
    return Line(name, f"{detail}, {tokens}" if detail and tokens else detail or tokens)


def _realtime_input(name: str, given: m.RealtimeInput) -> Description:
    if given.audio is not None or given.media_chunks:
        return Audio("user audio", None, "chunk")
    if given.text:
        return Line(name, f'text "{shorten(given.text, DETAIL_CHARS)}"')
    marks = [
        flag
        for flag, on in (
            ("activityStart", given.activity_start is not None),
            ("activityEnd", given.activity_end is not None),
            ("audioStreamEnd", bool(given.audio_stream_end)),
            ("video", given.video is not None),
        )
        if on
    ]
    return Line(name, " ".join(marks))


def _setup(setup: m.Setup) -> str:
    parts = [setup.model] if setup.model else []
    generation = setup.generation_config or {}
    modalities = generation.get("responseModalities") or generation.get("response_modalities")
    if isinstance(modalities, list) and modalities:
        parts.append("output " + "+".join(str(x).lower() for x in modalities))
    tools = setup.tools if isinstance(setup.tools, list) else []
    names = [
        str(d.get("name"))
        for tool in tools
        if isinstance(tool, dict)
        for d in tool.get("functionDeclarations") or tool.get("function_declarations") or []
        if isinstance(d, dict)
    ]
    if names:
        parts.append("tools " + " ".join(names))
    instructions = instructions_text(setup.system_instruction)
    if instructions:
        parts.append(f'"{instructions}"')
    return shorten(", ".join(parts), DETAIL_CHARS)


def _client_content(content: m.ClientContent) -> str:
    turns = []
    for turn in content.turns:
        text = " ".join(p.text for p in turn.parts if p.text and not p.thought)
        turns.append(f'{turn.role or "user"} "{text}"')
    if content.turn_complete:
        turns.append("turnComplete")
    return shorten(", ".join(turns), DETAIL_CHARS)


def _args(value: object) -> str:
    return compact_json(value) if value is not None else ""


def _tokens(usage: m.UsageMetadata | None) -> str:
    if usage is None or usage.total_token_count is None:
        return ""
    output = usage.response_token_count or usage.candidates_token_count
    return f"tokens in {usage.prompt_token_count} out {output}"
