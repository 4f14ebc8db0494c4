"""Where each setting of a Realtime session object lives, in GA and in beta.  Pure.

GA nests the audio settings under `audio.input` / `audio.output`; beta spells them
flat (`input_audio_format`, `voice`, `turn_detection`…).  The one table below serves
both the projector (rtrec/protocols/realtime/config.py, reading what a server
announced) and the simulator (rtrec/sim/config.py, applying what a client asked for).
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Spelling(NamedTuple):
    path: tuple[str, ...]
    beta: bool


def _ga(*path: str) -> Spelling:
    return Spelling(path, beta=False)


def _beta(*path: str) -> Spelling:
    return Spelling(path, beta=True)


# Each setting's spellings, GA first.  A setting spelled the same way in both
# protocols has one (GA) spelling.
SESSION_FIELDS: dict[str, tuple[Spelling, ...]] = {
    "model": (_ga("model"),),
    "output_modalities": (_ga("output_modalities"), _beta("modalities")),
    "voice": (_ga("audio", "output", "voice"), _beta("voice")),
    "input_format": (_ga("audio", "input", "format"), _beta("input_audio_format")),
    "output_format": (_ga("audio", "output", "format"), _beta("output_audio_format")),
    "transcription": (
        _ga("audio", "input", "transcription"),
        _beta("input_audio_transcription"),
    ),
    "turn_detection": (_ga("audio", "input", "turn_detection"), _beta("turn_detection")),
    "noise_reduction": (
        _ga("audio", "input", "noise_reduction"),
        _beta("input_audio_noise_reduction"),
    ),
    "tools": (_ga("tools"),),
    "tool_choice": (_ga("tool_choice"),),
    "instructions": (_ga("instructions"),),
    "speed": (_ga("audio", "output", "speed"), _beta("speed")),
    "temperature": (_ga("temperature"),),
    "max_output_tokens": (_ga("max_output_tokens"), _beta("max_response_output_tokens")),
}


def spelled(session: Any, name: str) -> list[tuple[Spelling, Any]]:
    """The values `session` gives the setting `name`, with their spellings, GA first."""
    found = []
    for spelling in SESSION_FIELDS[name]:
        obj = session
        for key in spelling.path:
            if not isinstance(obj, dict) or key not in obj:
                break
            obj = obj[key]
        else:
            found.append((spelling, obj))
    return found
