"""A GPT-Live session's configuration, in the normalized shape the views read.  Pure.

The model and everything else arrive in the client's first event, `session.start`
(`session.model`, `session.audio.format` and `.output.voice`, `instructions`,
`delegation`); the server answers with the resolved configuration in
`session.started`, and after a `session.update` (delegation and triggers only) in
`session.updated`.  One audio format serves both directions: `audio/pcm` at 16 or
24 kHz, `audio/pcmu` or `audio/pcma`, 24 kHz PCM when unset.  A key an event does not
mention keeps its previous value.
"""

from __future__ import annotations

from typing import Any

from rtrec.audio_format import AudioFormat, parse_format

# The keys of a GPT-Live configuration, in the order they are written.  The shared
# ones (model, voice, input_format, output_format, instructions, tools, tool_choice)
# mean what they mean for the Realtime API, so the same view columns read them.
CONFIG_KEYS = (
    "model",
    "voice",
    "input_format",
    "output_format",
    "instructions",
    "delegation",
    "delegation_model",
    "tools",
    "tool_choice",
    "triggers",
    "store",
)


def session_format(session: Any) -> AudioFormat | None:
    """The format `session.audio.format` names; None when it is not stated."""
    audio = session.get("audio") if isinstance(session, dict) else None
    return parse_format(audio.get("format")) if isinstance(audio, dict) else None


def voice_of(session: Any) -> str | None:
    audio = session.get("audio") if isinstance(session, dict) else None
    output = audio.get("output") if isinstance(audio, dict) else None
    voice = output.get("voice") if isinstance(output, dict) else None
    if isinstance(voice, dict):  # a custom voice: {"id": …}
        voice = voice.get("id")
    return voice if isinstance(voice, str) else None


def merge_session(previous: dict[str, Any], session: Any) -> dict[str, Any]:
    """The configuration after a session object (start, started, updated) was seen."""
    config = {key: previous.get(key) for key in CONFIG_KEYS}
    if not isinstance(session, dict):
        return config
    if isinstance(session.get("model"), str):
        config["model"] = session["model"]
    voice = voice_of(session)
    if voice is not None:
        config["voice"] = voice
    fmt = session_format(session)
    if fmt is not None:
        config["input_format"] = config["output_format"] = str(fmt)
    if "instructions" in session:
        config["instructions"] = session["instructions"]
    if "triggers" in session:
        config["triggers"] = session["triggers"]
    if "store" in session:
        config["store"] = session["store"]
    delegation = session.get("delegation")
    if isinstance(delegation, dict):
        kind = delegation.get("type")
        config["delegation"] = kind if isinstance(kind, str) else config["delegation"]
        backend = delegation.get(kind) if isinstance(kind, str) else None
        if isinstance(backend, dict):
            if isinstance(backend.get("model"), str):
                config["delegation_model"] = backend["model"]
            if "tools" in backend:
                config["tools"] = backend["tools"]
            if "tool_choice" in backend:
                config["tool_choice"] = backend["tool_choice"]
    elif "delegation" in session and delegation is None:
        config["delegation"] = "client"  # null selects the application
    return config


def with_format(config: dict[str, Any], fmt: AudioFormat) -> dict[str, Any]:
    """The configuration with the format in force, as the media fold decided it (the
    client's choice in session.start wins over what a server snapshot says)."""
    return {**config, "input_format": str(fmt), "output_format": str(fmt)}
