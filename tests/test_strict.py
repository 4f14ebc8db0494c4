"""`--strict`'s matcher, pure: what may reorder, what must match, and what the message says."""

from __future__ import annotations

import json
from typing import Any

from rtrec.replay.strict import (
    STRICT_EXTRA,
    STRICT_MISMATCH,
    Received,
    ScriptedEvent,
    StrictMatcher,
)

APPEND = "input_audio_buffer.append"


def recording(*events: dict[str, Any] | str) -> list[ScriptedEvent]:
    """Client events as dicts, server events as the string "server"; stretches counted."""
    scripted, stretch = [], 0
    for seq, event in enumerate(events):
        if event == "server":
            stretch += 1
            continue
        assert isinstance(event, dict)
        frame = None if event["type"] == APPEND else json.dumps(event)
        scripted.append(ScriptedEvent(seq, event["type"], frame, stretch))
    return scripted


def matcher(script: list[ScriptedEvent]) -> StrictMatcher:
    return StrictMatcher(iter(script), iter(script))


def sent(event: dict[str, Any]) -> Received:
    return Received(event["type"], json.dumps(event))


def replay(script: list[ScriptedEvent], *events: dict[str, Any]) -> tuple[int, str] | None:
    """The first failure when the live client sends `events`, or None."""
    m = matcher(script)
    for event in events:
        failure = m.check(sent(event))
        if failure is not None:
            return failure
    return None


UPDATE = {"type": "session.update", "session": {"instructions": "Be brief."}}
TRACING = {"type": "session.update", "session": {"tracing": "auto"}}
HELLO = {
    "type": "conversation.item.create",
    "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
}
CREATE = {"type": "response.create"}
OUTPUT = {
    "type": "conversation.item.create",
    "item": {"type": "function_call_output", "call_id": "call_1", "output": '{"city": "Paris"}'},
}
RETRIEVE = {"type": "conversation.item.retrieve", "item_id": "item_7"}


def audio() -> dict[str, Any]:
    return {"type": APPEND, "audio": "AAAA"}


def test_events_sent_in_one_stretch_may_come_in_any_order():
    # The Agents SDK: its tracing update answers session.created from another task.
    script = recording("server", UPDATE, HELLO, TRACING, CREATE, "server", "server")
    for order in ([UPDATE, HELLO, TRACING, CREATE], [TRACING, UPDATE, CREATE, HELLO]):
        assert replay(script, *order) is None


def test_the_order_of_stretches_holds():
    script = recording("server", OUTPUT, "server", CREATE, "server")
    code, reason = replay(script, CREATE, OUTPUT)  # type: ignore[misc]
    assert code == STRICT_MISMATCH
    assert reason.startswith("rtrec strict: client event #1: expected conversation.item.create")
    assert "received response.create" in reason


def test_appends_are_a_stream_of_their_own():
    script = recording(
        "server", audio(), audio(), "server", OUTPUT, CREATE, audio(), "server", RETRIEVE, audio()
    )
    # Audio ahead of a tool round, or behind it: the stream is only compared with itself.
    assert replay(script, audio(), audio(), audio(), audio(), OUTPUT, CREATE, RETRIEVE) is None
    assert replay(script, OUTPUT, audio(), CREATE, RETRIEVE, audio(), audio(), audio()) is None
    code, reason = replay(script, *[audio()] * 5)  # type: ignore[misc]
    assert code == STRICT_EXTRA and f"expected no more {APPEND}" in reason


def test_another_tool_output_names_both_values():
    script = recording("server", OUTPUT, CREATE, "server")
    other = {**OUTPUT, "item": {**OUTPUT["item"], "output": '{"city": "Rome"}'}}
    code, reason = replay(script, other)  # type: ignore[misc]
    assert code == STRICT_MISMATCH
    assert "expected conversation.item.create with item.output = " in reason
    assert '"{\\"city\\": \\"Paris\\"}"' in reason and '"{\\"city\\": \\"Rome\\"}"' in reason


def test_a_missing_or_extra_user_turn_fails():
    bye = {**HELLO, "item": {**HELLO["item"], "content": [{"type": "input_text", "text": "Bye"}]}}
    script = recording("server", HELLO, CREATE, "server", "server", bye, CREATE, "server")
    code, reason = replay(script, bye)  # type: ignore[misc]  # the first turn is missing
    assert code == STRICT_MISMATCH
    assert 'item.content[0].text = "Hi"' in reason and 'item.content[0].text = "Bye"' in reason
    code, reason = replay(script, HELLO, CREATE, HELLO)  # type: ignore[misc]  # one turn too many
    assert code == STRICT_MISMATCH and '"Hi"' in reason
    code, reason = replay(script, HELLO, CREATE, bye, CREATE, bye)  # type: ignore[misc]
    assert code == STRICT_EXTRA and "expected no more client events" in reason
    # Leaving early: what was missing is named when the client goes.
    early = matcher(script)
    assert early.check(sent(HELLO)) is None and early.check(sent(CREATE)) is None
    missing = early.missing()
    assert missing is not None and "conversation.item.create (seq 5)" in missing
    done = matcher(script)
    for event in (HELLO, CREATE, bye, CREATE):
        assert done.check(sent(event)) is None
    assert done.missing() is None


def test_other_arguments_fail():
    script = recording("server", {"type": "response.create", "response": {"instructions": "A"}})
    code, reason = replay(script, {"type": "response.create", "response": {"instructions": "B"}})  # type: ignore[misc]
    assert code == STRICT_MISMATCH and 'response.instructions = "A"' in reason
    code, reason = replay(script, {"type": "response.create"})  # type: ignore[misc]
    assert (
        'response = {"instructions": "A"}, received response.create with response = (absent)'
        in reason
    )


def test_what_a_client_makes_up_on_every_run_is_not_compared():
    truncate = {"type": "conversation.item.truncate", "item_id": "item_7", "audio_end_ms": 1200}
    own = {**HELLO, "event_id": "evt_1", "item": {**HELLO["item"], "id": "mine_1"}}
    delete = {"type": "conversation.item.delete", "item_id": "mine_1"}
    script = recording("server", truncate, "server", own, "server", delete)
    live_own = {**own, "event_id": "evt_9", "item": {**own["item"], "id": "mine_9"}}
    live_truncate = {**truncate, "audio_end_ms": 1187}
    live_delete = {**delete, "item_id": "mine_9"}  # its own id for the same item
    assert replay(script, live_truncate, live_own, live_delete) is None
    code, reason = replay(script, live_truncate, live_own, delete)  # type: ignore[misc]
    assert code == STRICT_MISMATCH and 'item_id = "mine_9", received' in reason
    other_item = {**truncate, "item_id": "item_8"}
    assert replay(script, other_item) is not None


def test_frames_that_are_not_json_objects_are_compared_by_kind():
    script = [ScriptedEvent(1, None, "not json", 1), ScriptedEvent(2, None, b"\x00", 1)]
    m = matcher(script)
    assert m.check(Received(None, "something else")) is None
    assert m.check(Received(None, b"\x01")) is None
    bad = matcher([ScriptedEvent(1, None, "not json", 1), ScriptedEvent(3, None, b"\x00", 2)])
    _, reason = bad.check(Received(None, b"\x01"))  # type: ignore[misc]
    assert "expected (not JSON), received (binary frame)" in reason


def test_the_close_frame_keeps_both_values_in_sight():
    long_output = '{"city": "Paris", "forecast": "sunny and 22 degrees", "wind": "light"}'
    recorded = {**OUTPUT, "item": {**OUTPUT["item"], "output": long_output}}
    live = {**OUTPUT, "item": {**OUTPUT["item"], "output": long_output.replace("sunny", "rain")}}
    m = matcher(recording("server", recorded))
    _, reason = m.check(sent(live))  # type: ignore[misc]
    assert len(reason.encode()) > 123  # the report has it all
    assert len(m.close_reason.encode()) <= 123
    assert "sunny" in m.close_reason and "rain" in m.close_reason
    assert m.close_reason.startswith("rtrec strict: #1: item.output: expected ")
