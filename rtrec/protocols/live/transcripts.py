"""GPT-Live messages, replies and turns, from transcript deltas on the session clock.

GPT-Live has no conversation items and no responses for speech: the server streams
`session.input_transcript.delta` (the user) and `session.output_transcript.delta`
(the assistant), each placed on the session clock by `start_ms`/`end_ms`.  The rules
(DESIGN.md, "One conversation model for all three"):

- a message is a run of one speaker's deltas in which each starts at most 800 ms
  after the previous delta of that speaker ended; the other speaker's deltas in
  between do not end it (full duplex).  Its text is the deltas' text concatenated as
  sent; its id is `live-msg-N`, N counting the session's messages; messages are in
  the order their first delta arrived;
- each assistant message is a reply (a `responses` row with the message's id):
  `completed`, or `interrupted` when a user message overlaps it on the session clock;
- each user message is a turn.  Its speech ended at the `end_ms` of its latest
  delta; its answer is the assistant's first delta that starts at or after that, and
  the latency is the difference (both on the session clock).

Times of messages, replies and turns are session-clock milliseconds (stored as ns
like every projection time), the clock the server's transcripts, delegations and
sideband audio share.  Pure.
"""

from __future__ import annotations

from typing import Literal

from rtrec.projector.event_row import EventRow
from rtrec.projector.projection import Projection
from rtrec.projector.spec import Handlers, spec
from rtrec.projector.state import ItemState, Part, TurnState
from rtrec.protocols.live import events as ev
from rtrec.protocols.live.decoding import decoded
from rtrec.protocols.live.work import (
    MAX_OPEN_TURNS,
    MAX_RECENT_STARTS,
    LiveWork,
    Run,
    Start,
)

GAP_MS = 800  # a delta starting later than this after the previous one starts a new message
MS = 1_000_000  # ns per ms: projection times are ns
ITEM_PREFIX = "live-msg-"
Speaker = Literal["user", "assistant"]
_PART_TYPES = {"user": "input_audio", "assistant": "output_audio"}


def on_user_delta(p: Projection, row: EventRow, event: ev.TranscriptDelta) -> None:
    _delta(p, row, event, "user")


def on_assistant_delta(p: Projection, row: EventRow, event: ev.TranscriptDelta) -> None:
    _delta(p, row, event, "assistant")


def _delta(p: Projection, row: EventRow, event: ev.TranscriptDelta, speaker: Speaker) -> None:
    start = _ms(event.start_ms)
    end = _ms(event.end_ms) if event.end_ms is not None else start
    if start is None or end is None:
        p.session.malformed_events += 1
        return
    end = max(start, end)
    work = p.work_of(LiveWork)
    run = work.user if speaker == "user" else work.assistant
    if run is None or start - run.last_end_ms > GAP_MS:
        run = _new_message(p, work, row, speaker, start, end)
    else:
        run.start_ms = min(run.start_ms, start)
        run.last_end_ms = end
        run.end_ms = max(run.end_ms, end)
    item = p.item(run.item_id, row.t_ns)
    part = item.parts[0]
    part.transcript = (part.transcript or "") + (event.delta or "")
    item.audio_ms = float(run.end_ms - run.start_ms)
    item.added_ns = run.start_ms * MS
    item.done_ns = run.end_ms * MS
    if speaker == "user":
        _user_spoke(p, work, run)
    else:
        _assistant_spoke(p, work, run, start)
    _mark_overlap(p, work)


def _ms(value: object) -> int | None:
    """A session-clock time in whole ms (servers send integers; a float is rounded)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return round(value)


def _new_message(
    p: Projection, work: LiveWork, row: EventRow, speaker: Speaker, start: int, end: int
) -> Run:
    work.messages += 1
    item_id = f"{ITEM_PREFIX}{work.messages}"
    item = p.item(item_id, row.t_ns)
    item.type = "message"
    item.role = speaker
    item.status = "completed"
    item.source = "transcript"
    item.parts = [Part(type=_PART_TYPES[speaker], transcript="")]
    p.conversation.insert(item, None)  # messages in the order their first delta arrived
    run = Run(item_id, start, end, end)
    if speaker == "user":
        work.user = run
        _start_turn(p, work, item_id)
    else:
        work.assistant = run
        _start_reply(p, work, item, start)
    return run


# -- replies ------------------------------------------------------------------------


def _start_reply(p: Projection, work: LiveWork, item: ItemState, start: int) -> None:
    response = p.response(item.item_id, start * MS)
    response.status = "completed"
    response.conversation = "auto"
    response.output_item_ids = [item.item_id]
    response.created_ns = start * MS
    item.response_id = item.item_id
    # It belongs to the latest user turn, as a Realtime response does.
    turn = p.turns.get(work.user.item_id) if work.user is not None else None
    if turn is not None:
        response.turn_item_id = turn.item_id
        turn.responses += 1
        if turn.first_response_id is None:
            turn.first_response_id = item.item_id
        p.dirty_turns.add(turn.item_id)


def _assistant_spoke(p: Projection, work: LiveWork, run: Run, start: int) -> None:
    response = p.response(run.item_id, start * MS)
    response.first_text_ns = response.first_transcript_ns = response.first_audio_ns = (
        run.start_ms * MS
    )
    response.created_ns = run.start_ms * MS
    response.done_ns = run.end_ms * MS
    response.audio_ms = float(run.end_ms - run.start_ms)
    work.recent_starts.append(Start(start, run.item_id))
    del work.recent_starts[:-MAX_RECENT_STARTS]
    for turn_id in work.open_turns:
        turn = p.turns.get(turn_id)
        if turn is not None:
            _offer_answer(p, turn, start, run.item_id)
    current = work.user.item_id if work.user is not None else None
    # A turn answered and no longer growing keeps its answer.
    work.open_turns = [
        t
        for t in work.open_turns
        if t == current or (t in p.turns and p.turns[t].first_audio_ns is None)
    ][-MAX_OPEN_TURNS:]


# -- turns --------------------------------------------------------------------------


def _start_turn(p: Projection, work: LiveWork, item_id: str) -> None:
    p.turns[item_id] = TurnState(
        item_id=item_id, turn_index=work.turns, input="audio", end_kind="transcript_end"
    )
    work.turns += 1
    work.open_turns.append(item_id)
    del work.open_turns[:-MAX_OPEN_TURNS]
    p.dirty_turns.add(item_id)


def _user_spoke(p: Projection, work: LiveWork, run: Run) -> None:
    """The turn's speech now ends at this delta: its answer is looked for again."""
    turn = p.turns.get(run.item_id)
    if turn is None:
        return
    turn.speech_started_ns = run.start_ms * MS
    turn.audio_start_ms = run.start_ms
    turn.speech_stopped_ns = run.last_end_ms * MS
    turn.audio_end_ms = run.last_end_ms
    turn.first_audio_ns = None
    turn.response_id = None
    turn.audio_source = None
    for start in work.recent_starts:
        _offer_answer(p, turn, start.start_ms, start.item_id)
    p.dirty_turns.add(turn.item_id)


def _offer_answer(p: Projection, turn: TurnState, start: int, item_id: str) -> None:
    """An assistant delta starting at `start` answers the turn if it is the first after it."""
    end = turn.audio_end_ms
    if end is None or start < end:
        return
    if turn.first_audio_ns is not None and start * MS >= turn.first_audio_ns:
        return
    turn.first_audio_ns = start * MS
    turn.response_id = item_id
    turn.audio_source = "transcript_start"
    p.dirty_turns.add(turn.item_id)


# -- barge-in -----------------------------------------------------------------------


def _mark_overlap(p: Projection, work: LiveWork) -> None:
    """A user message overlapping an assistant message on the session clock interrupted it."""
    user, assistant = work.user, work.assistant
    if user is None or assistant is None:
        return
    if not (user.start_ms < assistant.end_ms and assistant.start_ms < user.end_ms):
        return
    response = p.responses.get(assistant.item_id)
    if response is not None and response.status != "interrupted":
        response.status = "interrupted"
        p.dirty_responses.add(assistant.item_id)
        item = p.item(assistant.item_id, 0)
        item.status = "incomplete"


HANDLERS: Handlers = {
    "session.input_transcript.delta": spec(
        on_user_delta, decoded(ev.InputTranscriptDelta), "server"
    ),
    "session.output_transcript.delta": spec(
        on_assistant_delta, decoded(ev.OutputTranscriptDelta), "server"
    ),
}
