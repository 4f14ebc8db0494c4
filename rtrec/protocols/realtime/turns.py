"""User turns and the responses that answer them.

A turn is a user message entering the conversation: speech committed from the input
audio buffer (by server VAD or by the client's commit), or a user message the client
created.  It ends at `input_audio_buffer.speech_stopped` when VAD is on, else at the
client's `input_audio_buffer.commit`, else when the client sent the message.

Responses created (in the conversation) after a turn and before the next one belong
to it.  The turn's `response_id` is the first of them that produced audio; failing
that, the first that produced text; failing that, the first one.  So a tool round
(a function-call response, then the spoken answer) is answered by the spoken answer.
Pure.
"""

from __future__ import annotations

from rtrec.projector.event_row import EventRow
from rtrec.projector.projection import Projection
from rtrec.projector.spec import Handlers, spec
from rtrec.projector.state import ItemState, ResponseState, TurnState
from rtrec.protocols.realtime import events as ev
from rtrec.protocols.realtime.content import part_at
from rtrec.protocols.realtime.decoding import decoded
from rtrec.protocols.realtime.work import PendingCreate, RealtimeWork, SpeechMark

MAX_SPEECH_MARKS = 8


def on_speech_started(p: Projection, row: EventRow, event: ev.SpeechStarted) -> None:
    item_id = event.item_id or row.item_id
    if item_id is None:
        return
    speech = p.work_of(RealtimeWork).speech
    speech[item_id] = SpeechMark(started_ns=row.t_ns, audio_start_ms=event.audio_start_ms)
    while len(speech) > MAX_SPEECH_MARKS:  # speech the server never committed
        del speech[next(iter(speech))]


def on_speech_stopped(p: Projection, row: EventRow, event: ev.SpeechStopped) -> None:
    item_id = event.item_id or row.item_id
    if item_id is None:
        return
    mark = p.work_of(RealtimeWork).speech.setdefault(item_id, SpeechMark())
    mark.stopped_ns = row.t_ns
    mark.audio_end_ms = event.audio_end_ms
    turn = p.turns.get(item_id)
    if turn is not None:  # stopped after the commit: out of order, still the same turn
        turn.speech_stopped_ns = row.t_ns
        turn.audio_end_ms = event.audio_end_ms
        p.dirty_turns.add(item_id)


def on_client_commit(p: Projection, row: EventRow, _: None) -> None:
    p.work_of(RealtimeWork).client_commit_ns = row.t_ns


def on_buffer_cleared(p: Projection, row: EventRow, _: None) -> None:
    p.work_of(RealtimeWork).buffer_ms = 0.0


def on_committed(p: Projection, row: EventRow, event: ev.BufferCommitted) -> None:
    item_id = event.item_id or row.item_id
    if item_id is None:
        return
    work = p.work_of(RealtimeWork)
    item = p.item(item_id, row.t_ns)
    item.source = item.source or "input_audio_buffer"
    item.type = item.type or "message"
    item.role = item.role or "user"
    part_at(item, 0, "input_audio")
    # The committed audio becomes a user item; servers announce it with
    # conversation.item.added (or .created) next, which finds it in place.
    p.conversation.insert(item, event.previous_item_id)
    if item.added_ns is None:
        item.added_ns = row.t_ns
    mark = work.speech.pop(item_id, None) or SpeechMark()
    if mark.audio_start_ms is not None and mark.audio_end_ms is not None:
        item.audio_ms = float(max(0, mark.audio_end_ms - mark.audio_start_ms))
    elif item.audio_ms is None:
        item.audio_ms = work.buffer_ms
    work.buffer_ms = 0.0
    if item_id in p.turns:
        return
    turn = start_turn(p, item_id, "audio")
    turn.speech_started_ns = mark.started_ns
    turn.speech_stopped_ns = mark.stopped_ns
    turn.audio_start_ms = mark.audio_start_ms
    turn.audio_end_ms = mark.audio_end_ms
    turn.committed_ns = row.t_ns
    turn.client_commit_ns = None if mark.stopped_ns is not None else work.client_commit_ns
    work.client_commit_ns = None


def client_turn(p: Projection, item: ItemState, create: PendingCreate, t_ns: int) -> None:
    """A user message the client created starts a turn (seeded history included)."""
    if create.input is None or item.item_id in p.turns:
        return
    turn = start_turn(p, item.item_id, create.input)
    turn.client_ns = create.t_ns
    turn.committed_ns = t_ns


def start_turn(p: Projection, item_id: str, kind: str) -> TurnState:
    work = p.work_of(RealtimeWork)
    turn = p.turns[item_id] = TurnState(item_id=item_id, turn_index=work.turns, input=kind)
    work.turns += 1
    work.current_turn = item_id
    p.dirty_turns.add(item_id)
    return turn


def attach_response(p: Projection, response: ResponseState) -> None:
    """A response just created in the conversation belongs to the latest turn."""
    turn_id = p.work_of(RealtimeWork).current_turn
    turn = p.turns.get(turn_id) if turn_id is not None else None
    if turn is None or response.turn_item_id is not None:
        return
    response.turn_item_id = turn.item_id
    turn.responses += 1
    if turn.first_response_id is None:
        turn.first_response_id = response.response_id
    if turn.response_id is None:
        turn.response_id = response.response_id
    p.dirty_turns.add(turn.item_id)


def first_output(p: Projection, response: ResponseState, audio: bool) -> None:
    """The response produced its first audio (or text): it may now answer its turn."""
    turn = p.turns.get(response.turn_item_id) if response.turn_item_id else None
    if turn is None or turn.response_id == response.response_id:
        return
    chosen = p.responses.get(turn.response_id) if turn.response_id else None
    if chosen is not None:
        if chosen.first_audio_ns is not None:
            return
        if not audio and chosen.first_text_ns is not None:
            return
    turn.response_id = response.response_id
    p.dirty_turns.add(turn.item_id)


HANDLERS: Handlers = {
    "input_audio_buffer.speech_started": spec(
        on_speech_started, decoded(ev.SpeechStarted), "server"
    ),
    "input_audio_buffer.speech_stopped": spec(
        on_speech_stopped, decoded(ev.SpeechStopped), "server"
    ),
    "input_audio_buffer.committed": spec(on_committed, decoded(ev.BufferCommitted), "server"),
    "input_audio_buffer.cleared": spec(on_buffer_cleared, None, "server"),
    "input_audio_buffer.commit": spec(on_client_commit, None, "client"),
}
