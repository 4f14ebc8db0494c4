"""The beta spelling of server events the simulator builds in GA form.  Pure."""

from __future__ import annotations

import copy
from typing import Any

_RENAMED = {
    "response.output_text.delta": "response.text.delta",
    "response.output_text.done": "response.text.done",
    "response.output_audio.delta": "response.audio.delta",
    "response.output_audio.done": "response.audio.done",
    "response.output_audio_transcript.delta": "response.audio_transcript.delta",
    "response.output_audio_transcript.done": "response.audio_transcript.done",
    "conversation.item.added": "conversation.item.created",
}
# Beta announces an item once, with conversation.item.created.
_NOT_IN_BETA = frozenset({"conversation.item.done"})
_CONTENT_TYPES = {"output_text": "text", "output_audio": "audio"}


def to_beta(event: dict[str, Any]) -> dict[str, Any] | None:
    if event["type"] in _NOT_IN_BETA:
        return None
    out = copy.deepcopy(event)
    out["type"] = _RENAMED.get(out["type"], out["type"])
    if isinstance(out.get("item"), dict):
        _item(out["item"])
    response = out.get("response")
    if isinstance(response, dict):
        for item in response.get("output") or []:
            _item(item)
        if "output_modalities" in response:
            modes = response.pop("output_modalities")
            response["modalities"] = ["audio", "text"] if "audio" in modes else ["text"]
        audio = response.pop("audio", None)
        if isinstance(audio, dict):
            response["voice"] = (audio.get("output") or {}).get("voice")
    return out


def _item(item: dict[str, Any]) -> None:
    item.setdefault("object", "realtime.item")
    for part in item.get("content") or []:
        if isinstance(part, dict) and part.get("type") in _CONTENT_TYPES:
            part["type"] = _CONTENT_TYPES[part["type"]]
