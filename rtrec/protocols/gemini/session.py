"""Session-level messages: `setup`, `setupComplete`, `goAway`, errors.  Pure.

The configuration comes from the client's `setup` (Gemini's server confirms it with
an empty `setupComplete`, or closes the connection): the model as `setup.model`
names it, output modalities, voice, system instruction, tools, transcription and
activity detection, in the keys every protocol's `session_updates` rows use.  The
formats come with the audio (each chunk names its own): `input_format` and
`output_format` follow the latest chunk of each side.

Errors: a server message `{"error": {code, message, status}}` (what proxies and mock
servers send; the real service closes the WebSocket instead), and `goAway` (the
server will close the connection after `timeLeft`) as a row of type `goAway`.
"""

from __future__ import annotations

from typing import Any

from rtrec.projector.event_row import EventRow
from rtrec.projector.projection import Projection
from rtrec.protocols.gemini.messages import (
    ErrorMessage,
    GoAwayMessage,
    SetupCompleteMessage,
    SetupMessage,
    camel,
)
from rtrec.protocols.realtime.config import CONFIG_KEYS


def _get(obj: Any, *path: str) -> Any:
    """A nested value by camelCase names, read in either spelling; None if absent."""
    for name in path:
        if not isinstance(obj, dict):
            return None
        found = obj.get(name)
        if found is None:
            found = next((v for k, v in obj.items() if camel(k) == name), None)
        obj = found
    return obj


def instructions_text(value: Any) -> str | None:
    """The text of a systemInstruction: plain text, or a Content's text parts joined."""
    if isinstance(value, str):
        return value
    parts = _get(value, "parts")
    if not isinstance(parts, list):
        return None
    texts = [
        str(p["text"]) for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)
    ]
    return "\n".join(texts) if texts else None


def tool_list(tools: Any) -> Any:
    """Gemini's tools (`[{functionDeclarations: [...]}, {googleSearch: {}}]`) as one list
    of tools, each with a `type` and a `name`, as every protocol's configuration lists
    them: `{"type": "function", "name": …, "description": …, "parameters": …}`."""
    if not isinstance(tools, list):
        return tools
    flat: list[Any] = []
    for tool in tools:
        if not isinstance(tool, dict):
            flat.append(tool)
            continue
        for key, value in tool.items():
            if camel(key) == "functionDeclarations" and isinstance(value, list):
                flat.extend({"type": "function", **d} if isinstance(d, dict) else d for d in value)
            else:
                flat.append({"type": camel(key), "name": camel(key), "config": value})
    return flat


def setup_config(previous: dict[str, Any], message: SetupMessage) -> dict[str, Any]:
    setup = message.setup
    generation = setup.generation_config or {}
    config = {key: previous.get(key) for key in CONFIG_KEYS}
    config["model"] = setup.model
    modalities = _get(generation, "responseModalities")
    config["output_modalities"] = modalities
    config["voice"] = _get(
        generation, "speechConfig", "voiceConfig", "prebuiltVoiceConfig", "voiceName"
    )
    if isinstance(modalities, list) and any(str(m).upper() == "AUDIO" for m in modalities):
        config["output_format"] = config.get("output_format") or "pcm16@24000"
    config["transcription"] = setup.input_audio_transcription
    detection = _get(setup.realtime_input_config, "automaticActivityDetection")
    if isinstance(detection, dict) and detection.get("disabled"):
        config["turn_detection"] = {"type": "manual"}
    else:
        config["turn_detection"] = {"type": "automatic", **(detection or {})}
    config["tools"] = tool_list(setup.tools)
    config["instructions"] = instructions_text(setup.system_instruction)
    config["temperature"] = _get(generation, "temperature")
    config["max_output_tokens"] = _get(generation, "maxOutputTokens")
    return config


def on_setup(p: Projection, row: EventRow, message: SetupMessage) -> None:
    p.record_config(row, setup_config(p.session.config, message), event_type="setup")


def on_setup_complete(p: Projection, row: EventRow, message: SetupCompleteMessage) -> None:
    session_id = message.setup_complete.session_id
    if p.session.provider_session_id is None and session_id:
        p.session.provider_session_id = session_id


def on_error(p: Projection, row: EventRow, message: ErrorMessage) -> None:
    info = message.error
    p.record_error(row, type=_text(info.status), code=_text(info.code), message=_text(info.message))


def on_go_away(p: Projection, row: EventRow, message: GoAwayMessage) -> None:
    left = message.go_away.time_left
    p.record_error(
        row,
        type="goAway",
        code=None,
        message=f"the server will close the connection in {left}"
        if left
        else "the server will close the connection soon",
        counted=False,  # a notice: the session has not failed
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)
