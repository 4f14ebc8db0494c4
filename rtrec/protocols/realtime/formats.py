"""Audio formats as Realtime session and response objects state them, GA and beta.  Pure.

Beta names the format with a string (`pcm16`, `g711_ulaw`, `g711_alaw`) in flat keys
(`input_audio_format`); GA with an object (`{"type": "audio/pcm", "rate": 24000}`)
under `audio.input` / `audio.output`.
"""

from __future__ import annotations

from typing import Any

from rtrec.audio_format import AudioFormat, parse_format


def session_formats(session: Any) -> tuple[AudioFormat | None, AudioFormat | None]:
    """(input, output) formats set by a session object, GA or beta; None where unset."""
    if not isinstance(session, dict):
        return None, None
    audio = session.get("audio")
    if isinstance(audio, dict):
        inp = audio.get("input")
        out = audio.get("output")
        return (
            parse_format(inp.get("format")) if isinstance(inp, dict) else None,
            parse_format(out.get("format")) if isinstance(out, dict) else None,
        )
    return (
        parse_format(session.get("input_audio_format")),
        parse_format(session.get("output_audio_format")),
    )


def response_output_format(response: Any) -> AudioFormat | None:
    """The output format a `response.create` asks for, where it overrides the session's."""
    if not isinstance(response, dict):
        return None
    audio = response.get("audio")
    if isinstance(audio, dict):
        out = audio.get("output")
        if isinstance(out, dict):
            return parse_format(out.get("format"))
        return None
    return parse_format(response.get("output_audio_format"))
