"""Audio formats: an encoding and a sample rate, as every protocol's audio is described.

Pure: no I/O.  Each protocol adapter maps its own spelling onto these
(rtrec/protocols/*/formats.py).
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

Encoding = Literal["pcm16", "g711_ulaw", "g711_alaw"]
ENCODINGS: tuple[Encoding, ...] = ("pcm16", "g711_ulaw", "g711_alaw")


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
        # Once per audio chunk on every reader's path: the two properties written out.
        return nbytes * 1000.0 / (self.rate * (2 if self.encoding == "pcm16" else 1))

    def __str__(self) -> str:
        return f"{self.encoding}@{self.rate}"


PCM16_24K = AudioFormat("pcm16", 24000)
PCM16_16K = AudioFormat("pcm16", 16000)
DEFAULT_FORMAT = PCM16_24K


def format_from_text(text: Any) -> AudioFormat:
    """The AudioFormat a normalized config names (`pcm16@24000`), or the default."""
    if isinstance(text, str) and "@" in text:
        encoding, _, rate = text.partition("@")
        if encoding in ENCODINGS and rate.isdigit() and int(rate) > 0:
            return AudioFormat(encoding, int(rate))
    return DEFAULT_FORMAT


# OpenAI's spellings (Realtime GA and beta, GPT-Live): a string or a format object.
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
        kind = value.get("type")
        encoding = _GA_TYPES.get(kind) if isinstance(kind, str) else None
        if encoding is None:
            return None
        rate = value.get("rate")
        if encoding != "pcm16" or not isinstance(rate, int) or rate <= 0:
            rate = 24000 if encoding == "pcm16" else 8000
        return AudioFormat(encoding, rate)
    return None
