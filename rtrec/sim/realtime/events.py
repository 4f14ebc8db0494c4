"""The server events the simulated Realtime session sends, in GA form.  Pure.

The connection stamps each with an `event_id` (after `type`) and respells it for a
beta session.  Builders keep a payload's keys in the order the real API writes them,
and put the given item objects in by reference: an item is sent again as it changes.
"""

from __future__ import annotations

import json
from typing import Any

from rtrec.sim.frames import error_body

Event = dict[str, Any]

RATE_LIMITS: Event = {
    "type": "rate_limits.updated",
    "rate_limits": [
        {"name": "tokens", "limit": 15000000, "remaining": 14999000, "reset_seconds": 0.004}
    ],
}


def error(message: str, *, code: str | None, event_id: Any, param: str | None = None) -> Event:
    """An `error` event; `event_id` names the client event it answers (or None)."""
    return {
        "type": "error",
        "error": {**error_body(message, code=code, param=param), "event_id": event_id},
    }


def output_item(stage: str, response_id: str, item: Event, index: int = 0) -> Event:
    """`response.output_item.added` or `.done` (stage "added" / "done")."""
    return {
        "type": f"response.output_item.{stage}",
        "response_id": response_id,
        "output_index": index,
        "item": item,
    }


def conversation_item(stage: str, previous_item_id: str | None, item: Event) -> Event:
    """`conversation.item.added` or `.done` (stage "added" / "done")."""
    return {
        "type": f"conversation.item.{stage}",
        "previous_item_id": previous_item_id,
        "item": item,
    }


def response(
    stage: str, base: Event, status: str, details: Any, output: list[Event], usage: Any
) -> Event:
    """`response.created` or `response.done` (stage "created" / "done")."""
    body = {**base, "status": status, "status_details": details, "output": output, "usage": usage}
    return {"type": f"response.{stage}", "response": body}


def _transcription(stage: str, item_id: str, **fields: Any) -> Event:
    kind = f"conversation.item.input_audio_transcription.{stage}"
    return {"type": kind, "item_id": item_id, "content_index": 0, **fields}


def transcription_delta(item_id: str, delta: str) -> Event:
    return _transcription("delta", item_id, delta=delta)


def transcription_completed(item_id: str, line: str) -> Event:
    usage = {"type": "duration", "seconds": max(1, len(line) // 15)}
    return _transcription("completed", item_id, transcript=line, usage=usage)


def transcription_failed(item_id: str) -> Event:
    failure = error_body(
        f"Input transcription failed for item '{item_id}'.",
        code="transcription_failed",
        kind="server_error",
    )
    return _transcription("failed", item_id, error=failure)


def usage(items: list[Event], output: list[Event], audio_ms: dict[str, float]) -> Event:
    """A response's token usage, made up from the sizes of the context and the output."""
    text_in = sum(len(json.dumps(i)) for i in items) // 16
    audio_out = int(sum(audio_ms.get(i.get("id", ""), 0.0) for i in output) / 25)
    text_out = sum(len(json.dumps(i)) for i in output) // 16
    input_tokens = text_in + 20
    output_tokens = text_out + audio_out
    return {
        "total_tokens": input_tokens + output_tokens,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "input_token_details": {
            "text_tokens": input_tokens,
            "audio_tokens": 0,
            "image_tokens": 0,
            "cached_tokens": 0,
            "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
        },
        "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out},
    }


def words(text: str) -> list[str]:
    """Deltas as the API sends them: each word with its leading space."""
    parts = text.split(" ")
    return [parts[0]] + [" " + w for w in parts[1:]] if parts else []
