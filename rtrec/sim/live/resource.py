"""The simulated GPT-Live session object: what `session.started` reports.  Pure.

The server resolves the client's `session.start` configuration with its defaults
(voice `marin`, 24 kHz PCM, client delegation) and never returns MCP tools'
`authorization` (nor their header values).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from rtrec.audio_format import PCM16_24K, AudioFormat, parse_format

MODELS = ("gpt-live-1", "gpt-live-1.1")
PCM_RATES = (16000, 24000)
DEFAULT_INSTRUCTIONS = "You are a helpful voice assistant."


class ConfigError(ValueError):
    """A session configuration the server refuses: (message, param)."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


@dataclass
class LiveConfig:
    model: str
    fmt: AudioFormat = PCM16_24K
    voice: Any = "marin"
    instructions: str = DEFAULT_INSTRUCTIONS
    delegation: dict[str, Any] = field(default_factory=lambda: {"type": "client"})
    input: list[Any] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)  # store, triggers, client

    @property
    def delegation_kind(self) -> str:
        return str(self.delegation.get("type") or "client")

    def function_names(self) -> set[str]:
        backend = self.delegation.get("responses")
        tools = backend.get("tools") if isinstance(backend, dict) else None
        return {
            str(t["name"])
            for t in tools or []
            if isinstance(t, dict) and t.get("type") == "function" and t.get("name")
        }

    def render(self, session_id: str, expires_at: int) -> dict[str, Any]:
        rate = self.fmt.rate
        kind = {"pcm16": "audio/pcm", "g711_ulaw": "audio/pcmu", "g711_alaw": "audio/pcma"}
        return {
            "id": session_id,
            "expires_at": expires_at,
            "model": self.model,
            "instructions": self.instructions,
            "audio": {
                "output": {"voice": self.voice},
                "format": {"type": kind[self.fmt.encoding], "rate": rate},
            },
            "delegation": _without_credentials(self.delegation),
            "status": "active",
            "input": self.input,
            **self.extras,
        }


def start_config(session: Any, inherited: LiveConfig | None = None) -> LiveConfig:
    """The configuration a `session.start` asks for (a fork's overrides its parent's)."""
    if not isinstance(session, dict):
        raise ConfigError("Missing required parameter: 'session'.", "session")
    if inherited is not None:
        if "model" in session:
            raise ConfigError("A fork inherits its model; do not supply one.", "session.model")
        config = copy.deepcopy(inherited)
    else:
        model = session.get("model")
        if not isinstance(model, str) or not model:
            raise ConfigError("Missing required parameter: 'session.model'.", "session.model")
        config = LiveConfig(model=model)
        if isinstance(session.get("instructions"), str) and session["instructions"].strip():
            config.instructions = session["instructions"]
        if isinstance(session.get("input"), list):
            config.input = session["input"]
    audio = session.get("audio")
    if isinstance(audio, dict):
        if "format" in audio:
            config.fmt = _format(audio["format"])
        output = audio.get("output")
        if isinstance(output, dict) and output.get("voice") is not None:
            config.voice = output["voice"]
    delegation = session.get("delegation")
    if isinstance(delegation, dict):
        config.delegation = apply_delegation(config.delegation, delegation, starting=True)
    for key in ("store", "triggers", "client"):
        if key in session:
            config.extras[key] = session[key]
    return config


def apply_delegation(
    current: dict[str, Any], update: dict[str, Any], *, starting: bool = False
) -> dict[str, Any]:
    kind = update.get("type")
    if kind not in ("client", "responses", "decisions"):
        raise ConfigError(f"Invalid delegation type: {kind!r}.", "session.delegation.type")
    if not starting and kind != current.get("type"):
        raise ConfigError("The delegation type cannot change.", "session.delegation.type")
    merged = copy.deepcopy(current) if not starting else {}
    merged["type"] = kind
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _format(value: Any) -> AudioFormat:
    fmt = parse_format(value)
    rate = value.get("rate") if isinstance(value, dict) else None
    if fmt is None or (fmt.encoding == "pcm16" and rate not in (None, *PCM_RATES)):
        raise ConfigError(
            "Invalid 'session.audio.format': use audio/pcm at 16000 or 24000 Hz, "
            "audio/pcmu or audio/pcma.",
            "session.audio.format",
        )
    return fmt


def _without_credentials(delegation: dict[str, Any]) -> dict[str, Any]:
    """The delegation as the server reports it: MCP tools without their credentials."""
    backend = delegation.get("responses")
    tools = backend.get("tools") if isinstance(backend, dict) else None
    if not isinstance(backend, dict) or not isinstance(tools, list):
        return delegation
    shown = []
    for tool in tools:
        if isinstance(tool, dict) and tool.get("type") == "mcp":
            tool = {k: v for k, v in tool.items() if k not in ("authorization", "headers")}
        shown.append(tool)
    return {**delegation, "responses": {**backend, "tools": shown}}
