"""What the user said: `clientContent` turns, `realtimeInput` text and audio, and the
spoken messages that `inputTranscription` reveals.  Pure.

- Each `clientContent` turn is one message: role `user`, or `assistant` for a turn of
  role `model` (history seeding); its text is its text parts (thoughts aside), one
  content part each.
- A `realtimeInput.text` is one user message.
- Spoken input is one user message per run of `inputTranscription`: the run opens
  with the first transcript after a model turn ended and lasts until the next model
  turn ends (transcripts are not ordered with the model's output, so a late fragment
  of what the user said still joins it); its text is the fragments concatenated, as
  sent.  It is `speech-n` for the model turn n that follows it.
"""

from __future__ import annotations

from rtrec.projector.event_row import EventRow
from rtrec.projector.projection import Projection
from rtrec.projector.state import ItemState, Part, TurnState
from rtrec.protocols.gemini.messages import (
    ClientContentMessage,
    RealtimeInputMessage,
    decode_message,
)
from rtrec.protocols.gemini.turns import attach, mark_end, start_turn
from rtrec.protocols.gemini.work import GeminiWork
from rtrec.protocols.media import AudioChunk

# Markers of a realtimeInput that is more than audio (audio frames skip decoding).
_NOT_ONLY_AUDIO = ('"text"', "activity", "Activity", "audioStreamEnd", "audio_stream_end")


def _message(p: Projection, item_id: str, t_ns: int, role: str, source: str) -> ItemState:
    item = p.item(item_id, t_ns)
    item.type = "message"
    item.role = role
    item.source = source
    item.added_ns = t_ns
    p.conversation.insert(item, None)
    return item


def on_client_content(p: Projection, row: EventRow, message: ClientContentMessage) -> None:
    content = message.client_content
    t_ns = row.t_ns
    last_user: TurnState | None = None
    for index, given in enumerate(content.turns):
        role = "assistant" if given.role == "model" else (given.role or "user")
        item = _message(p, f"content-{row.seq}-{index}", t_ns, role, "client")
        item.status = "completed"
        item.client_ns = item.done_ns = t_ns
        kind = "input_text" if role == "user" else "output_text"
        item.parts = [
            Part(type=kind, text=part.text)
            for part in given.parts
            if part.text is not None and not part.thought
        ]
        if role == "user":
            last_user = start_turn(p, item.item_id, "text", t_ns, "message")
            last_user.client_ns = t_ns
    if not content.turn_complete:
        return
    if last_user is None:
        # A bare turnComplete completes the user turn sent before it.
        current = p.work_of(GeminiWork).current_turn
        pending = p.turns.get(current) if current is not None else None
        if pending is None or pending.end_kind != "message" or pending.response_id is not None:
            return
        last_user = pending
    last_user.end_kind = "turn_complete"
    last_user.client_ns = t_ns
    p.dirty_turns.add(last_user.item_id)


def on_realtime_input(p: Projection, row: EventRow, _: None) -> None:
    work = p.work_of(GeminiWork)
    ms = p.count_audio()
    if ms:
        work.speech_audio_ms += ms
        speaking = p.items.get(work.speech_id) if work.speech_id is not None else None
        if speaking is not None:
            speaking.audio_ms = (speaking.audio_ms or 0.0) + ms
            p.dirty_items.add(speaking.item_id)
    for fact in p.facts:
        if isinstance(fact, AudioChunk) and fact.fmt.rate and fact.problem is None:
            fmt = str(fact.fmt)
            if p.session.config.get("input_format") != fmt:
                p.session.config = {**p.session.config, "input_format": fmt}
            break
    frame = row.frame
    if isinstance(frame, bytes):
        frame = frame.decode("utf-8", "replace")
    if frame is None or not any(marker in frame for marker in _NOT_ONLY_AUDIO):
        return
    message = decode_message(frame)
    if not isinstance(message, RealtimeInputMessage):
        return
    given = message.realtime_input
    t_ns = row.t_ns
    if given.activity_start is not None:
        work.activity_start_ns = t_ns
    if given.text:
        item = _message(p, f"text-{row.seq}", t_ns, "user", "client")
        item.status = "completed"
        item.client_ns = item.done_ns = t_ns
        item.parts = [Part(type="input_text", text=given.text)]
        turn = start_turn(p, item.item_id, "text", t_ns, "message")
        turn.client_ns = t_ns
    if given.activity_end is not None:
        work.activity_end_ns = t_ns
        _speech_ended(p, t_ns, "activity_end")
    if given.audio_stream_end:
        work.stream_end_ns = t_ns
        _speech_ended(p, t_ns, "audio_stream_end")


def _speech_ended(p: Projection, t_ns: int, kind: str) -> None:
    work = p.work_of(GeminiWork)
    turn = p.turns.get(work.speech_id) if work.speech_id is not None else None
    if turn is not None:
        mark_end(p, turn, t_ns, kind)


def hear(p: Projection, row: EventRow, fragment: str) -> None:
    """An inputTranscription fragment: the open spoken message grows, or one opens."""
    work = p.work_of(GeminiWork)
    t_ns = row.t_ns
    item = p.items.get(work.speech_id) if work.speech_id is not None else None
    if item is None:
        speech_id = work.media.next_speech
        if speech_id in p.items:  # never expected: keep ids unique all the same
            speech_id = f"{speech_id}.{row.seq}"
        item = _message(p, speech_id, t_ns, "user", "input_transcription")
        item.status = "in_progress"
        item.parts = [Part(type="input_audio", transcript="")]
        item.audio_ms = work.speech_audio_ms or None
        work.speech_id = speech_id
        turn = start_turn(p, speech_id, "audio", t_ns, "transcript_end")
        turn.speech_started_ns = work.activity_start_ns
        turn.speech_stopped_ns = t_ns
        if work.activity_end_ns is not None:
            mark_end(p, turn, work.activity_end_ns, "activity_end")
        elif work.stream_end_ns is not None:
            mark_end(p, turn, work.stream_end_ns, "audio_stream_end")
        media = work.media
        if media.open:
            attach(p, p.response(media.current_reply, t_ns))
    else:
        p.dirty_items.add(item.item_id)
        open_turn = p.turns.get(item.item_id)
        if open_turn is not None and open_turn.end_kind == "transcript_end":
            mark_end(p, open_turn, t_ns, "transcript_end")
    part = item.parts[0] if item.parts else None
    if part is None:
        part = Part(type="input_audio", transcript="")
        item.parts.append(part)
    part.transcript = (part.transcript or "") + fragment


def end_speech(p: Projection, t_ns: int) -> None:
    """A model turn ended: the spoken message (if any) is complete; a new gap begins."""
    work = p.work_of(GeminiWork)
    item = p.items.get(work.speech_id) if work.speech_id is not None else None
    if item is not None:
        item.status = "completed"
        item.done_ns = t_ns
        p.dirty_items.add(item.item_id)
    work.speech_id = None
    work.speech_audio_ms = 0.0
    work.activity_start_ns = work.activity_end_ns = work.stream_end_ns = None
