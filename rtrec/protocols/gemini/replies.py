"""The model's turns: one `responses` row each, and the assistant message they say.  Pure.

Model turn n (decided by the media fold, rtrec/protocols/gemini/media.py) is the
response `model-turn-n`, status `completed` (turnComplete) or `interrupted`.  Its
message, the item `model-turn-n`, has as text its `modelTurn` text parts
concatenated, or, when it has none, its `outputTranscription` texts concatenated;
parts marked `thought: true` are the model's reasoning summary, not what it said, and
stay out.  The message enters the conversation where its first text or transcript
arrived; a model turn with neither makes no message.  Tokens come from the
`usageMetadata` that rides on the turn's messages (the last one wins: it covers the
turn so far).
"""

from __future__ import annotations

from typing import Any

import msgspec

from rtrec.projector.event_row import EventRow
from rtrec.projector.projection import Projection
from rtrec.projector.state import ItemState, Part, ResponseState
from rtrec.protocols.gemini.decoding import compact_json
from rtrec.protocols.gemini.media import COMPLETED, INTERRUPTED, OPENED
from rtrec.protocols.gemini.messages import (
    ServerContentMessage,
    UsageMetadata,
    UsageMetadataMessage,
)
from rtrec.protocols.gemini.turns import attach
from rtrec.protocols.gemini.users import end_speech, hear
from rtrec.protocols.gemini.work import GeminiWork
from rtrec.protocols.media import AudioChunk

_ENDED = COMPLETED | INTERRUPTED


def on_server_content(p: Projection, row: EventRow, message: ServerContentMessage) -> None:
    work = p.work_of(GeminiWork)
    media = work.media
    marks = media.marks
    content = message.server_content
    reply_id = media.current_reply
    if marks & OPENED:
        _open(p, row, reply_id)
    heard = content.input_transcription
    if heard is not None and heard.text:
        hear(p, row, heard.text)
    in_turn = media.open or bool(marks & _ENDED)
    if in_turn:
        response = p.response(reply_id, row.t_ns)
        _audio(p, row, response)
        parts = content.model_turn.parts if content.model_turn is not None else []
        text = "".join(part.text for part in parts if part.text and not part.thought)
        if text:
            _say(p, row, response, text, transcript=False)
        said = content.output_transcription
        if said is not None and said.text:
            _say(p, row, response, said.text, transcript=True)
    else:
        p.count_audio()
    if message.usage_metadata is not None and media.turns:
        # The open turn's, or the last one's (the turnComplete after an interruption).
        p.response(reply_id, row.t_ns).usage = usage_json(message.usage_metadata)
    if marks & _ENDED:
        _close(p, row, reply_id, "interrupted" if marks & INTERRUPTED else "completed")


def on_usage(p: Projection, row: EventRow, message: UsageMetadataMessage) -> None:
    """usageMetadata on its own: the open model turn's, or the last one's."""
    media = p.work_of(GeminiWork).media
    if message.usage_metadata is not None and media.turns:
        response = p.response(media.current_reply, row.t_ns)
        response.usage = usage_json(message.usage_metadata)


def _open(p: Projection, row: EventRow, reply_id: str) -> None:
    response = p.response(reply_id, row.t_ns)
    response.status = "in_progress"
    response.created_ns = row.t_ns
    config = p.session.config
    modalities = config.get("output_modalities")
    if modalities is not None:
        response.modalities = compact_json(modalities)
    response.voice = config.get("voice") if isinstance(config.get("voice"), str) else None
    p.work_of(GeminiWork).reply_has_text = False
    attach(p, response)


def _audio(p: Projection, row: EventRow, response: ResponseState) -> None:
    chunks = [fact for fact in p.facts if isinstance(fact, AudioChunk)]
    if not chunks:
        return
    ms = p.count_audio()
    response.audio_ms += ms
    response.audio_bytes += sum(chunk.nbytes for chunk in chunks)
    if response.first_audio_ns is None:
        response.first_audio_ns = row.t_ns
    fmt = chunks[-1].fmt
    if fmt.rate and chunks[-1].problem is None:
        response.output_format = str(fmt)
        if p.session.config.get("output_format") != str(fmt):
            p.session.config = {**p.session.config, "output_format": str(fmt)}
    item = p.items.get(response.response_id)
    if item is not None:
        item.audio_ms = response.audio_ms
        item.audio_bytes = response.audio_bytes
        p.dirty_items.add(item.item_id)


def _say(
    p: Projection, row: EventRow, response: ResponseState, fragment: str, *, transcript: bool
) -> None:
    work = p.work_of(GeminiWork)
    if transcript:
        if response.first_transcript_ns is None:
            response.first_transcript_ns = row.t_ns
        if work.reply_has_text:
            return  # the turn's text parts are what it said
    elif response.first_text_ns is None:
        response.first_text_ns = row.t_ns
    item = _message(p, row, response)
    if not transcript and not work.reply_has_text:
        work.reply_has_text = True
        item.parts = [Part(type="output_text", text="")]
    if not item.parts:
        item.parts = [Part(type="output_audio", transcript="")]
    part = item.parts[0]
    if transcript:
        part.transcript = (part.transcript or "") + fragment
    else:
        part.text = (part.text or "") + fragment


def _message(p: Projection, row: EventRow, response: ResponseState) -> ItemState:
    """The turn's assistant message, entering the conversation now if it is new."""
    item = p.item(response.response_id, row.t_ns)
    if not item.in_conversation:
        item.type = "message"
        item.role = "assistant"
        item.status = "in_progress"
        item.source = "response"
        item.response_id = response.response_id
        item.added_ns = row.t_ns
        item.audio_ms = response.audio_ms or None
        item.audio_bytes = response.audio_bytes
        p.conversation.insert(item, None)
        response.output_item_ids.append(item.item_id)
    return item


def _close(p: Projection, row: EventRow, reply_id: str, status: str) -> None:
    response = p.response(reply_id, row.t_ns)
    response.status = status
    response.done_ns = row.t_ns
    item = p.items.get(reply_id)
    if item is not None:
        item.status = "completed" if status == "completed" else "incomplete"
        item.done_ns = row.t_ns
        p.dirty_items.add(reply_id)
    end_speech(p, row.t_ns)


def usage_json(usage: UsageMetadata) -> str:
    """Gemini's usageMetadata in the shape the responses view reads, the original kept."""
    output = usage.response_token_count
    if output is None:
        output = usage.candidates_token_count
    summary: dict[str, Any] = {
        "input_tokens": usage.prompt_token_count,
        "output_tokens": output,
        "total_tokens": usage.total_token_count,
    }
    for name, details in (
        ("input_token_details", usage.prompt_tokens_details),
        ("output_token_details", usage.response_tokens_details),
    ):
        by_modality = _by_modality(details)
        if by_modality:
            summary[name] = by_modality
    if usage.thoughts_token_count is not None:
        summary["thoughts_tokens"] = usage.thoughts_token_count
    summary["usage_metadata"] = msgspec.to_builtins(usage)
    return compact_json(summary)


def _by_modality(details: list[dict[str, Any]] | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for entry in details or ():
        if not isinstance(entry, dict):
            continue
        modality, count = entry.get("modality"), entry.get("tokenCount", entry.get("token_count"))
        if isinstance(modality, str) and isinstance(count, int):
            key = f"{modality.lower()}_tokens"
            out[key] = out.get(key, 0) + count
    return out
