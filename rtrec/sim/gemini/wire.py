"""What the simulated Gemini server sends, shaped as the real one shapes it.

The real server writes camelCase JSON and sends every message as a binary frame
(opcode 2); audio is `audio/pcm;rate=24000` in standard base64.  Pure.
"""

from __future__ import annotations

import base64
import json
import random
from typing import Any

from rtrec.protocols.gemini.messages import camel

OUTPUT_RATE = 24000
OUTPUT_MIME = f"audio/pcm;rate={OUTPUT_RATE}"


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode()


def field(obj: Any, name: str) -> Any:
    """A field by its camelCase name, in either spelling (the SDK writes snake_case)."""
    if not isinstance(obj, dict):
        return None
    if name in obj:
        return obj[name]
    return next((value for key, value in obj.items() if camel(key) == name), None)


def kind_of(message: dict[str, Any]) -> str | None:
    return camel(next(iter(message))) if message else None


def audio_part(pcm: bytes) -> dict[str, Any]:
    data = base64.b64encode(pcm).decode()
    return {
        "serverContent": {
            "modelTurn": {"parts": [{"inlineData": {"mimeType": OUTPUT_MIME, "data": data}}]}
        }
    }


def text_part(text: str, *, thought: bool = False) -> dict[str, Any]:
    part: dict[str, Any] = {"text": text}
    if thought:
        part["thought"] = True
    return {"serverContent": {"modelTurn": {"parts": [part]}}}


def transcription(side: str, text: str) -> dict[str, Any]:
    return {"serverContent": {side: {"text": text}}}


def call_id(rng: random.Random) -> str:
    return f"function-call-{rng.randrange(10**18, 10**19)}"


def usage(prompt: int, response: int, *, audio_in: bool, audio_out: bool) -> dict[str, Any]:
    return {
        "promptTokenCount": prompt,
        "responseTokenCount": response,
        "totalTokenCount": prompt + response,
        "promptTokensDetails": [
            {"modality": "AUDIO" if audio_in else "TEXT", "tokenCount": prompt}
        ],
        "responseTokensDetails": [
            {"modality": "AUDIO" if audio_out else "TEXT", "tokenCount": response}
        ],
    }
