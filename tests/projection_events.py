"""Builders for hand-written Realtime events, to keep the fold's tests readable."""

from __future__ import annotations

from typing import Any

from tests.projection_helpers import pcm

Event = dict[str, Any]


def msg(item_id: str | None, role: str, text: str, kind: str | None = None) -> Event:
    kind = kind or ("input_text" if role in ("user", "system") else "output_text")
    item: Event = {"type": "message", "role": role, "status": "completed",
                   "content": [{"type": kind, "text": text}]}  # fmt: skip
    if item_id is not None:
        item["id"] = item_id
    return item


def added(item: Event, previous: str | None, kind: str = "conversation.item.added") -> Event:
    return {"type": kind, "previous_item_id": previous, "item": item}


def item_done(item: Event, previous: str | None = None) -> Event:
    return {"type": "conversation.item.done", "previous_item_id": previous, "item": item}


def create(item: Event, previous: str | None = None, event_id: str | None = None) -> Event:
    event: Event = {"type": "conversation.item.create", "item": item}
    if previous is not None:
        event["previous_item_id"] = previous
    if event_id is not None:
        event["event_id"] = event_id
    return event


def deleted(item_id: str) -> Event:
    return {"type": "conversation.item.deleted", "item_id": item_id}


def created(rid: str, conversation_id: str | None = "conv", **response: Any) -> Event:
    return {"type": "response.created",
            "response": {"id": rid, "status": "in_progress", "conversation_id": conversation_id,
                         **response}}  # fmt: skip


def response_done(rid: str, status: str = "completed", **response: Any) -> Event:
    body = {"id": rid, "status": status, "conversation_id": "conv", **response}
    return {"type": "response.done", "response": body}


def output_item(rid: str, item: Event, done: bool = False) -> Event:
    kind = "response.output_item.done" if done else "response.output_item.added"
    return {"type": kind, "response_id": rid, "output_index": 0, "item": item}


def streamed(kind: str, rid: str, item_id: str, index: int = 0, **fields: Any) -> Event:
    return {"type": kind, "response_id": rid, "item_id": item_id, "output_index": 0,
            "content_index": index, **fields}  # fmt: skip


def transcription(kind: str, item_id: str, **fields: Any) -> Event:
    return {"type": f"conversation.item.input_audio_transcription.{kind}", "item_id": item_id,
            "content_index": 0, **fields}  # fmt: skip


def user_audio_turn(item_id: str, t0: float = 0.0) -> list[tuple[float, Event]]:
    """500 ms appended; VAD hears speech from 100 to 400 ms; committed and announced."""
    spoken = {"id": item_id, "type": "message", "role": "user",
              "content": [{"type": "input_audio", "transcript": None}]}  # fmt: skip
    started = {"type": "input_audio_buffer.speech_started", "audio_start_ms": 100}
    stopped = {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 400}
    committed = {"type": "input_audio_buffer.committed", "previous_item_id": None}
    return [
        (t0, {"type": "input_audio_buffer.append", "audio": pcm(500)}),
        (t0 + 1, {**started, "item_id": item_id}),
        (t0 + 2, {**stopped, "item_id": item_id}),
        (t0 + 3, {**committed, "item_id": item_id}),
        (t0 + 4, added(spoken, None)),
    ]


def audio_response(
    rid: str, item_id: str, words: list[str], t0: float
) -> list[tuple[float, Event]]:
    """A spoken reply: each word's transcript delta, then 100 ms of its audio."""
    reply = {"id": item_id, "type": "message", "role": "assistant", "status": "in_progress",
             "content": []}  # fmt: skip
    part = {"type": "audio", "transcript": ""}
    events = [
        (t0, created(rid)),
        (t0 + 1, output_item(rid, reply)),
        (t0 + 2, added(reply, None)),
        (t0 + 3, streamed("response.content_part.added", rid, item_id, part=part)),
    ]
    for k, word in enumerate(words):
        transcript = streamed("response.output_audio_transcript.delta", rid, item_id, delta=word)
        audio = streamed("response.output_audio.delta", rid, item_id, delta=pcm(100))
        events += [(t0 + 4 + 2 * k, transcript), (t0 + 5 + 2 * k, audio)]
    return events
