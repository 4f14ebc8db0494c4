"""User turns, and the model turns that answer them.  Pure.

A turn is a user message: a `clientContent` turn of role user, a `realtimeInput`
text, or a spoken message (a run of `inputTranscription`).  What marks the end of
the user's input (`ended_by`):

- `turn_complete`: the `clientContent` with `turnComplete: true` that sent it (or
  that completed the turn later);
- `message`: a user message sent without completing the turn (history seeding,
  `realtimeInput` text);
- `activity_end`: the client's `realtimeInput.activityEnd` (manual activity
  detection), or `audio_stream_end` for `audioStreamEnd`;
- `transcript_end`: otherwise (automatic activity detection, which reports no end of
  speech) the arrival of the run's last `inputTranscription` before the model's
  first output.

A model turn answers the latest user turn when it starts, if that turn has no answer
yet; a spoken message whose transcript only starts while a model turn is under way
is answered by that turn.  Latency is then measured to the model turn's first audio.
"""

from __future__ import annotations

from rtrec.projector.projection import Projection
from rtrec.projector.state import ResponseState, TurnState
from rtrec.protocols.gemini.work import GeminiWork


def start_turn(p: Projection, item_id: str, kind: str, t_ns: int, end_kind: str) -> TurnState:
    work = p.work_of(GeminiWork)
    turn = TurnState(
        item_id=item_id, turn_index=work.turns, input=kind, committed_ns=t_ns, end_kind=end_kind
    )
    p.turns[item_id] = turn
    work.turns += 1
    work.current_turn = item_id
    p.dirty_turns.add(item_id)
    return turn


def attach(p: Projection, response: ResponseState) -> None:
    """The latest user turn, if unanswered, is answered by this model turn."""
    turn_id = p.work_of(GeminiWork).current_turn
    turn = p.turns.get(turn_id) if turn_id is not None else None
    if turn is None or turn.response_id is not None or response.turn_item_id is not None:
        return
    turn.response_id = turn.first_response_id = response.response_id
    turn.responses += 1
    response.turn_item_id = turn.item_id
    p.dirty_turns.add(turn.item_id)
    p.dirty_responses.add(response.response_id)


def answered(p: Projection, turn: TurnState) -> bool:
    """Whether the model turn answering this user turn has produced output yet."""
    response = p.responses.get(turn.response_id) if turn.response_id else None
    if response is None:
        return False
    return response.first_audio_ns is not None or response.first_text_ns is not None


def mark_end(p: Projection, turn: TurnState, t_ns: int, kind: str) -> None:
    """The user's input ended at t_ns (as `kind` says), unless the model already answered."""
    if answered(p, turn):
        return
    turn.speech_stopped_ns = t_ns
    turn.end_kind = kind
    p.dirty_turns.add(turn.item_id)
