"""The simulated session's configuration, read from and written as GA or beta session objects."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rtrec.audio_format import PCM16_24K, AudioFormat, parse_format
from rtrec.protocols.realtime.session_fields import spelled

_GA_FORMAT = {"pcm16": "audio/pcm", "g711_ulaw": "audio/pcmu", "g711_alaw": "audio/pcma"}

DEFAULT_TURN_DETECTION: dict[str, Any] = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 200,
    "idle_timeout_ms": None,
    "create_response": True,
    "interrupt_response": True,
}
DEFAULT_INSTRUCTIONS = "You are rtrec's simulated Realtime assistant. Be brief and friendly."


def _setter(attr: str) -> Callable[[SimConfig, Any, bool], None]:
    def put(config: SimConfig, value: Any, beta: bool) -> None:
        setattr(config, attr, value)

    return put


def ga_format(fmt: AudioFormat) -> dict[str, Any]:
    encoded: dict[str, Any] = {"type": _GA_FORMAT[fmt.encoding]}
    if fmt.encoding == "pcm16":
        encoded["rate"] = fmt.rate
    return encoded


@dataclass
class SimConfig:
    model: str
    output_modalities: list[str] = field(default_factory=lambda: ["audio"])
    instructions: str = DEFAULT_INSTRUCTIONS
    voice: str = "alloy"
    speed: float = 1.0
    input_format: AudioFormat = PCM16_24K
    output_format: AudioFormat = PCM16_24K
    transcription: dict[str, Any] | None = None
    noise_reduction: dict[str, Any] | None = None
    turn_detection: dict[str, Any] | None = field(
        default_factory=lambda: dict(DEFAULT_TURN_DETECTION)
    )
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: Any = "auto"
    temperature: float = 0.8
    max_output_tokens: Any = "inf"

    def apply(self, update: dict[str, Any]) -> None:
        """Merge a session.update's session object, GA or beta shape (beta wins where an
        update spells a setting both ways)."""
        for name, setter in _SETTERS.items():
            for spelling, value in spelled(update, name):
                setter(self, value, spelling.beta)

    @staticmethod
    def _turn_detection(value: Any) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            return None
        merged = dict(DEFAULT_TURN_DETECTION)
        merged.update(value)
        return merged

    def _set_modalities(self, value: Any, beta: bool) -> None:
        modes = value or ["audio"]
        if beta:  # ["text", "audio"] means audio with a transcript
            self.output_modalities = ["audio"] if "audio" in modes else ["text"]
        else:
            self.output_modalities = list(modes)

    def _set_input_format(self, value: Any, beta: bool) -> None:
        self.input_format = parse_format(value) or self.input_format

    def _set_output_format(self, value: Any, beta: bool) -> None:
        self.output_format = parse_format(value) or self.output_format

    def _set_tools(self, value: Any, beta: bool) -> None:
        self.tools = list(value or [])

    def _set_turn_detection(self, value: Any, beta: bool) -> None:
        self.turn_detection = self._turn_detection(value)

    @property
    def audio_out(self) -> bool:
        return "audio" in self.output_modalities

    def function_names(self) -> set[str]:
        return {str(t["name"]) for t in self.tools if t.get("type") == "function" and t.get("name")}

    def render_ga(self, session_id: str, expires_at: int) -> dict[str, Any]:
        transcription = self.transcription
        if isinstance(transcription, dict):
            transcription = {"model": None, "language": None, "prompt": None, **transcription}
        return {
            "type": "realtime",
            "object": "realtime.session",
            "id": session_id,
            "model": self.model,
            "output_modalities": list(self.output_modalities),
            "instructions": self.instructions,
            "tools": copy.deepcopy(self.tools),
            "tool_choice": self.tool_choice,
            "max_output_tokens": self.max_output_tokens,
            "tracing": None,
            "truncation": "auto",
            "prompt": None,
            "expires_at": expires_at,
            "audio": {
                "input": {
                    "format": ga_format(self.input_format),
                    "transcription": transcription,
                    "noise_reduction": self.noise_reduction,
                    "turn_detection": copy.deepcopy(self.turn_detection),
                },
                "output": {
                    "format": ga_format(self.output_format),
                    "voice": self.voice,
                    "speed": self.speed,
                },
            },
            "include": None,
        }

    def render_beta(self, session_id: str, expires_at: int) -> dict[str, Any]:
        turn = copy.deepcopy(self.turn_detection)
        if turn is not None:
            turn.pop("idle_timeout_ms", None)
        return {
            "id": session_id,
            "object": "realtime.session",
            "model": self.model,
            "expires_at": expires_at,
            "modalities": ["audio", "text"] if self.audio_out else ["text"],
            "instructions": self.instructions,
            "voice": self.voice,
            "input_audio_format": self.input_format.encoding,
            "output_audio_format": self.output_format.encoding,
            "input_audio_transcription": self.transcription,
            "input_audio_noise_reduction": self.noise_reduction,
            "turn_detection": turn,
            "tools": copy.deepcopy(self.tools),
            "tool_choice": self.tool_choice,
            "temperature": self.temperature,
            "max_response_output_tokens": self.max_output_tokens,
            "speed": self.speed,
            "client_secret": None,
        }


# How each session setting (rtrec/protocols/realtime/session_fields.py) is applied.
_SETTERS: dict[str, Callable[[SimConfig, Any, bool], None]] = {
    "output_modalities": SimConfig._set_modalities,
    "instructions": _setter("instructions"),
    "tool_choice": _setter("tool_choice"),
    "temperature": _setter("temperature"),
    "tools": SimConfig._set_tools,
    "max_output_tokens": _setter("max_output_tokens"),
    "input_format": SimConfig._set_input_format,
    "output_format": SimConfig._set_output_format,
    "transcription": _setter("transcription"),
    "noise_reduction": _setter("noise_reduction"),
    "turn_detection": SimConfig._set_turn_detection,
    "voice": _setter("voice"),
    "speed": _setter("speed"),
}
