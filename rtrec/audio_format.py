"""Audio formats of a Realtime session, as the beta and GA protocols spell them.

Beta names the format with a string (`pcm16`, `g711_ulaw`, `g711_alaw`); GA with an
object (`{"type": "audio/pcm", "rate": 24000}`, `audio/pcmu`, `audio/pcma`).
Pure: no I/O.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

Encoding = Literal["pcm16", "g711_ulaw", "g711_alaw"]


class AudioFormat(NamedTuple):
    encoding: Encoding
    rate: int

    @property
    def bytes_per_sample(self) -> int:
        return 2 if self.encoding == "pcm16" else 1

    @property
    def bytes_per_second(self) -> int:
        return self.rate * self.bytes_per_sample

    def duration_ms(self, nbytes: int) -> float:
        return nbytes * 1000.0 / self.bytes_per_second

    def __str__(self) -> str:
        return f"{self.encoding}@{self.rate}"


PCM16_24K = AudioFormat("pcm16", 24000)
DEFAULT_FORMAT = PCM16_24K

_BETA_NAMES: dict[str, AudioFormat] = {
    "pcm16": PCM16_24K,
    "g711_ulaw": AudioFormat("g711_ulaw", 8000),
    "g711_alaw": AudioFormat("g711_alaw", 8000),
}
_GA_TYPES: dict[str, Encoding] = {
    "audio/pcm": "pcm16",
    "audio/pcmu": "g711_ulaw",
    "audio/pcma": "g711_alaw",
}


def parse_format(value: Any) -> AudioFormat | None:
    """The format named by a beta string or a GA format object; None if unrecognised."""
    if isinstance(value, str):
        return _BETA_NAMES.get(value) or (
            AudioFormat(_GA_TYPES[value], 24000 if value == "audio/pcm" else 8000)
            if value in _GA_TYPES
            else None
        )
    if isinstance(value, dict):
        encoding = _GA_TYPES.get(value.get("type"))  # type: ignore[arg-type]
        if encoding is None:
            return None
        rate = value.get("rate")
        if encoding != "pcm16" or not isinstance(rate, int) or rate <= 0:
            rate = 24000 if encoding == "pcm16" else 8000
        return AudioFormat(encoding, rate)
    return None


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
