"""A session's effective configuration, in one shape for the GA and the beta protocol.

`session.created` and `session.updated` carry the whole session object; GA nests the
audio settings under `audio.input` / `audio.output`, beta spells them flat
(`input_audio_format`, `voice`, `turn_detection`…).  A compatible server may send only
part of it, so a key the event does not mention keeps its previous value.  Pure.
"""

from __future__ import annotations

from typing import Any

from rtrec.audio_format import AudioFormat, parse_format
from rtrec.protocols.realtime.formats import session_formats

# The keys of a normalized configuration, in the order they are written.
CONFIG_KEYS = (
    "protocol_version",
    "model",
    "output_modalities",
    "voice",
    "input_format",
    "output_format",
    "transcription_model",
    "transcription",
    "turn_detection",
    "noise_reduction",
    "tools",
    "tool_choice",
    "instructions",
    "speed",
    "temperature",
    "max_output_tokens",
)

_MISSING = object()


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return _MISSING
        obj = obj[key]
    return obj


def merge_session(previous: dict[str, Any], session: Any) -> dict[str, Any]:
    """The configuration after a session object `session` was announced."""
    config = {key: previous.get(key) for key in CONFIG_KEYS}
    if not isinstance(session, dict):
        return config
    ga = isinstance(session.get("audio"), dict) or "output_modalities" in session
    beta = any(
        key in session
        for key in ("modalities", "input_audio_format", "output_audio_format", "voice")
    )
    if ga or beta:
        config["protocol_version"] = "ga" if ga else "beta"

    def put(key: str, *candidates: Any) -> None:
        for value in candidates:
            if value is not _MISSING:
                config[key] = value
                return

    put("model", _get(session, "model"))
    put("output_modalities", _get(session, "output_modalities"), _get(session, "modalities"))
    put("voice", _get(session, "audio", "output", "voice"), _get(session, "voice"))
    inp, out = session_formats(session)
    if inp is not None:
        config["input_format"] = str(inp)
    if out is not None:
        config["output_format"] = str(out)
    transcription = _get(session, "audio", "input", "transcription")
    if transcription is _MISSING:
        transcription = _get(session, "input_audio_transcription")
    if transcription is not _MISSING:
        config["transcription"] = transcription
        model = transcription.get("model") if isinstance(transcription, dict) else None
        config["transcription_model"] = model
    put(
        "turn_detection",
        _get(session, "audio", "input", "turn_detection"),
        _get(session, "turn_detection"),
    )
    put(
        "noise_reduction",
        _get(session, "audio", "input", "noise_reduction"),
        _get(session, "input_audio_noise_reduction"),
    )
    put("tools", _get(session, "tools"))
    put("tool_choice", _get(session, "tool_choice"))
    put("instructions", _get(session, "instructions"))
    put("speed", _get(session, "audio", "output", "speed"), _get(session, "speed"))
    put("temperature", _get(session, "temperature"))
    put(
        "max_output_tokens",
        _get(session, "max_output_tokens"),
        _get(session, "max_response_output_tokens"),
    )
    return config


def response_format(response: Any) -> AudioFormat | None:
    """The output format a response object states (GA `audio.output.format`, beta string)."""
    if not isinstance(response, dict):
        return None
    fmt = _get(response, "audio", "output", "format")
    if fmt is _MISSING:
        fmt = _get(response, "output_audio_format")
    return parse_format(fmt) if fmt is not _MISSING else None


def response_voice(response: Any) -> str | None:
    voice = _get(response, "audio", "output", "voice")
    if voice is _MISSING:
        voice = _get(response, "voice")
    return voice if isinstance(voice, str) else None
