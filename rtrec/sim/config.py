"""The simulated session's configuration, read from and written as GA or beta session objects."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from rtrec.audio_format import PCM16_24K, AudioFormat, parse_format

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
        """Merge a session.update's session object, GA or beta shape."""
        if "output_modalities" in update:
            self.output_modalities = list(update["output_modalities"] or ["audio"])
        if "modalities" in update:  # beta: ["text", "audio"] means audio with a transcript
            modes = update["modalities"] or ["audio"]
            self.output_modalities = ["audio"] if "audio" in modes else ["text"]
        for key in ("instructions", "tool_choice", "temperature"):
            if key in update:
                setattr(self, key, update[key])
        if "tools" in update:
            self.tools = list(update["tools"] or [])
        if "max_output_tokens" in update:
            self.max_output_tokens = update["max_output_tokens"]
        if "max_response_output_tokens" in update:
            self.max_output_tokens = update["max_response_output_tokens"]
        audio = update.get("audio")
        if isinstance(audio, dict):
            inp = audio.get("input") or {}
            out = audio.get("output") or {}
            if "format" in inp:
                self.input_format = parse_format(inp["format"]) or self.input_format
            for key, attr in (
                ("transcription", "transcription"),
                ("noise_reduction", "noise_reduction"),
            ):
                if key in inp:
                    setattr(self, attr, inp[key])
            if "turn_detection" in inp:
                self.turn_detection = self._turn_detection(inp["turn_detection"])
            if "format" in out:
                self.output_format = parse_format(out["format"]) or self.output_format
            if "voice" in out:
                self.voice = out["voice"]
            if "speed" in out:
                self.speed = out["speed"]
        # beta spellings
        if "input_audio_format" in update:
            self.input_format = parse_format(update["input_audio_format"]) or self.input_format
        if "output_audio_format" in update:
            self.output_format = parse_format(update["output_audio_format"]) or self.output_format
        if "input_audio_transcription" in update:
            self.transcription = update["input_audio_transcription"]
        if "input_audio_noise_reduction" in update:
            self.noise_reduction = update["input_audio_noise_reduction"]
        if "turn_detection" in update:
            self.turn_detection = self._turn_detection(update["turn_detection"])
        for key in ("voice", "speed"):
            if key in update:
                setattr(self, key, update[key])

    @staticmethod
    def _turn_detection(value: Any) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            return None
        merged = dict(DEFAULT_TURN_DETECTION)
        merged.update(value)
        return merged

    @property
    def audio_out(self) -> bool:
        return "audio" in self.output_modalities

    def function_names(self) -> set[str]:
        return {t.get("name") for t in self.tools if t.get("type") == "function" and t.get("name")}

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
