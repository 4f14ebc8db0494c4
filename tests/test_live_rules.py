"""DESIGN.md's rules for GPT-Live messages, replies and turns, edge by edge.

Events go through the real encoder and the projector, as the writer and the
follower would feed them; times are the session clock's (`start_ms`/`end_ms`).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from rtrec.projector import EventRow, Projector, SessionState
from rtrec.protocols import adapter_named
from rtrec.store.frames import encode_frame

LIVE = adapter_named("live")


def row(seq: int, event: dict[str, Any] | str, direction: str | None = None) -> EventRow:
    frame = event if isinstance(event, str) else json.dumps(event)
    if direction is None:
        kind = event.get("type") if isinstance(event, dict) else None
        direction = LIVE.direction_of_object({"type": kind}) or "server"
    enc = encode_frame(frame, adapter=LIVE)
    compacted = enc.audio is not None
    return EventRow(
        seq,
        seq * 10_000_000,
        direction,
        enc.type,
        enc.event_id,
        enc.item_id,
        enc.response_id,
        len(enc.audio) if compacted else None,
        enc.frame,
    )


def fold(*events: dict[str, Any] | tuple[str, dict[str, Any]]) -> Projector:
    projector = Projector(SessionState(session_id=1, protocol="live"))
    for seq, event in enumerate(events):
        if isinstance(event, tuple):
            projector.apply(row(seq, event[1], event[0]))
        else:
            projector.apply(row(seq, event))
    return projector


def user(start: int, end: int, text: str) -> dict[str, Any]:
    return {
        "type": "session.input_transcript.delta",
        "start_ms": start,
        "end_ms": end,
        "delta": text,
    }


def assistant(start: int, end: int, text: str) -> dict[str, Any]:
    return {
        "type": "session.output_transcript.delta",
        "start_ms": start,
        "end_ms": end,
        "delta": text,
    }


def messages(p: Projector) -> list[tuple[str, str | None, str | None]]:
    live = sorted((i for i in p.items.values() if i.in_conversation), key=lambda i: i.position)
    return [(i.item_id, i.role, i.text()) for i in live]


def latency(p: Projector, item_id: str) -> float | None:
    turn = p.turns[item_id]
    if turn.first_audio_ns is None:
        return None
    return (turn.first_audio_ns - turn.end_ns()) / 1e6  # what the turns view computes


def test_a_delta_starting_800_ms_after_the_last_ended_continues_the_message() -> None:
    p = fold(user(0, 200, "one"), user(1000, 1200, " two"), user(2001, 2200, " three"))
    assert messages(p) == [("live-msg-1", "user", "one two"), ("live-msg-2", "user", " three")]


def test_float_times_are_read_and_a_missing_end_is_the_start() -> None:
    p = fold(user(0, 200, "a"), {**user(200, 0, " b"), "start_ms": 200.0, "end_ms": None})
    assert messages(p) == [("live-msg-1", "user", "a b")]
    assert p.turns["live-msg-1"].audio_end_ms == 200


def test_the_other_speakers_deltas_do_not_end_a_run() -> None:
    p = fold(
        user(0, 200, "Tell"),
        assistant(200, 400, "Mm"),
        user(400, 600, " me"),
        assistant(400, 600, "-hm"),
        user(600, 800, " more"),
    )
    assert messages(p) == [
        ("live-msg-1", "user", "Tell me more"),
        ("live-msg-2", "assistant", "Mm-hm"),
    ]


def test_text_is_the_deltas_concatenated_as_sent() -> None:
    p = fold(user(0, 200, " Hello,"), user(200, 200, ""), user(200, 400, "  world "))
    assert messages(p) == [("live-msg-1", "user", " Hello,  world ")]


def test_latency_is_from_the_last_user_end_to_the_first_assistant_start_after_it() -> None:
    p = fold(
        user(0, 200, "Is"),
        assistant(100, 300, "(overlapping)"),  # starts before the user's end: not the answer
        user(200, 400, " it?"),
        assistant(700, 900, "Yes"),
        assistant(600, 800, "Well,"),  # arrived later, started earlier: the first after the end
    )
    turn = p.turns["live-msg-1"]
    assert (turn.audio_end_ms, turn.end_kind, turn.audio_source) == (
        400,
        "transcript_end",
        "transcript_start",
    )
    assert latency(p, "live-msg-1") == 200
    assert turn.response_id == "live-msg-2"


def test_a_later_user_delta_moves_the_end_and_the_answer_is_found_again() -> None:
    p = fold(
        user(0, 200, "Wait"),
        assistant(400, 600, "Sure"),
        user(600, 800, " no"),
        assistant(1000, 1200, "OK"),
    )
    assert latency(p, "live-msg-1") == 200  # 1000 - 800, no longer 400 - 200
    # The assistant delta that arrived before the user's last one, but starts after it.
    q = fold(user(0, 200, "Hi"), assistant(1000, 1200, "Hello"), user(400, 600, " there"))
    assert latency(q, "live-msg-1") == 400


def test_two_user_turns_before_an_answer_both_measure_to_it() -> None:
    p = fold(user(0, 200, "One."), user(2000, 2200, "Two."), assistant(2400, 2600, "Both."))
    assert latency(p, "live-msg-1") == 2200
    assert latency(p, "live-msg-2") == 200
    assert p.turns["live-msg-1"].response_id == p.turns["live-msg-2"].response_id == "live-msg-3"


def test_a_turn_without_an_answer_has_no_latency() -> None:
    p = fold(user(0, 200, "Hello?"))
    assert latency(p, "live-msg-1") is None and p.turns["live-msg-1"].response_id is None


def test_a_reply_a_user_message_overlaps_is_interrupted_one_it_touches_is_not() -> None:
    p = fold(
        user(0, 1000, "Question"),
        assistant(1000, 2000, "Answer"),  # starts where the user ended: completed
        assistant(3000, 3200, "Long"),
        user(3100, 3300, "Stop"),  # talks over it
        assistant(3200, 3400, " story"),
    )
    statuses = {r.response_id: r.status for r in p.responses.values()}
    assert statuses == {"live-msg-2": "completed", "live-msg-3": "interrupted"}
    assert p.items["live-msg-3"].status == "incomplete"
    reply = p.responses["live-msg-3"]
    assert (reply.created_ns, reply.done_ns) == (3000 * 10**6, 3400 * 10**6)


def test_session_metadata_usage_and_the_close() -> None:
    p = fold(
        (
            "client",
            {
                "type": "session.start",
                "session": {"model": "gpt-live-1.1", "audio": {"format": {"type": "audio/pcmu"}}},
            },
        ),
        {
            "type": "session.started",
            "event_id": "e1",
            "session": {
                "id": "live_abc",
                "model": "gpt-live-1.1",
                "audio": {
                    "format": {"type": "audio/pcmu", "rate": 8000},
                    "output": {"voice": {"id": "voice_custom"}},
                },
            },
        },
        {"type": "session.usage.updated", "usage": {"seconds": 3}},
        {"type": "session.closed", "reason": "expired", "usage": {"seconds": 4}},
    )
    s = p.session
    assert (s.provider_session_id, s.usage_seconds, s.closed_reason) == ("live_abc", 4.0, "expired")
    assert s.config["model"] == "gpt-live-1.1"
    assert s.config["input_format"] == s.config["output_format"] == "g711_ulaw@8000"
    assert s.config["voice"] == "voice_custom"
    (update,) = p.new_updates
    assert update.event_type == "session.started"


def test_errors_name_the_client_event() -> None:
    p = fold(
        (
            "client",
            {
                "type": "session.commentary.append",
                "event_id": "c1",
                "delegation_id": "nope",
                "content": "x",
            },
        ),
        {
            "type": "error",
            "event_id": "e",
            "error": {
                "type": "invalid_request_error",
                "code": "invalid_value",
                "message": "Unknown delegation",
                "param": "delegation_id",
                "client_event_id": "c1",
            },
        },
    )
    (error,) = p.new_errors
    assert (error.code, error.param, error.client_event_id) == (
        "invalid_value",
        "delegation_id",
        "c1",
    )


def test_unknown_and_malformed_events_are_counted_never_fatal() -> None:
    p = fold(
        {"type": "session.something_new", "x": 1},
        {"type": "session.input_transcript.delta", "delta": "no times"},
        user(0, 200, "still fine"),
    )
    assert p.session.unknown_types == {"session.something_new": 1}
    assert p.session.malformed_events == 1
    assert messages(p) == [("live-msg-1", "user", "still fine")]


def test_responses_function_calls_are_items_with_the_clients_output() -> None:
    call = {
        "id": "fc_1",
        "type": "function_call",
        "call_id": "call_1",
        "name": "lookup",
        "arguments": "",
    }

    def nested(event: dict[str, Any]) -> dict[str, Any]:
        return {"type": "response.event", "delegation_id": "d1", "event": event}

    p = fold(
        {
            "type": "session.delegation.created",
            "offset_ms": 900,
            "delegation": {
                "id": "d1",
                "type": "delegation",
                "target": "responses",
                "response_id": "resp_1",
            },
        },
        nested({"type": "response.output_item.added", "response_id": "resp_1", "item": call}),
        nested(
            {"type": "response.function_call_arguments.delta", "item_id": "fc_1", "delta": '{"q":'}
        ),
        nested(
            {"type": "response.function_call_arguments.delta", "item_id": "fc_1", "delta": '"x"}'}
        ),
        nested(
            {
                "type": "response.output_item.done",
                "item": {**call, "arguments": '{"q":"x"}', "status": "completed"},
            }
        ),
        (
            "client",
            {
                "type": "response.item.create",
                "item": {"type": "function_call_output", "call_id": "call_1", "output": "42"},
            },
        ),
    )
    item = p.items["fc_1"]
    assert (item.type, item.name, item.call_id, item.arguments, item.output) == (
        "function_call",
        "lookup",
        "call_1",
        '{"q":"x"}',
        "42",
    )
    assert item.in_conversation and item.response_id == "resp_1"
    delegation = p.items["d1"]
    assert (delegation.type, delegation.name, delegation.in_conversation) == (
        "delegation",
        "responses",
        False,
    )
    assert json.loads(delegation.arguments or "") == {"offset_ms": 900, "response_id": "resp_1"}


@pytest.mark.parametrize(
    ("start", "started", "expected"),
    [
        (None, None, "pcm16@24000"),
        ({"type": "audio/pcm", "rate": 16000}, None, "pcm16@16000"),
        (None, {"type": "audio/pcm", "rate": 16000}, "pcm16@16000"),
        ({"type": "audio/pcma"}, {"type": "audio/pcm", "rate": 24000}, "g711_alaw@8000"),
    ],
)
def test_the_one_format_comes_from_session_start_then_session_started(start, started, expected):
    media = LIVE.media()
    from rtrec.protocols.base import MediaRow

    def session_row(seq: int, kind: str, fmt: Any, direction: str) -> MediaRow:
        session = {"model": "m", **({"audio": {"format": fmt}} if fmt else {})}
        return MediaRow(
            seq, 0, direction, kind, frame=json.dumps({"type": kind, "session": session})
        )

    media.feed(session_row(0, "session.start", start, "client"))
    media.feed(session_row(1, "session.started", started, "server"))
    assert str(media.formats()[0]) == str(media.formats()[1]) == expected
    # A sideband's copies are PCM16 24 kHz whatever the session uses; output copies are timed.
    copy = MediaRow(2, 0, "server", "session.input_audio.append", audio=b"\0" * 480)
    timed = MediaRow(
        3,
        0,
        "server",
        "session.output_audio.delta",
        audio=b"\0" * 480,
        frame='{"type":"session.output_audio.delta","delta":"","start_ms":500,"end_ms":510}',
    )
    (user_copy,) = media.feed(copy)
    (output_copy,) = media.feed(timed)
    assert str(user_copy.fmt) == str(output_copy.fmt) == "pcm16@24000"
    assert output_copy.media_ms == 500.0 and user_copy.media_ms is None
