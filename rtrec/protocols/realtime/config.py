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
from rtrec.protocols.realtime.session_fields import spelled

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

    def put(*keys: str) -> None:
        for key in keys:
            found = spelled(session, key)
            if found:  # GA's spelling wins where a session has both
                config[key] = found[0][1]

    put("model", "output_modalities", "voice")
    inp, out = session_formats(session)
    if inp is not None:
        config["input_format"] = str(inp)
    if out is not None:
        config["output_format"] = str(out)
    transcription = spelled(session, "transcription")
    if transcription:
        value = transcription[0][1]
        config["transcription"] = value
        config["transcription_model"] = value.get("model") if isinstance(value, dict) else None
    put("turn_detection", "noise_reduction", "tools", "tool_choice", "instructions")
    put("speed", "temperature", "max_output_tokens")
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
