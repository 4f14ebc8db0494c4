"""The pure fold on hand-written event sequences: no database, no event loop."""

from __future__ import annotations

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from projection_helpers import conversation, fold, pcm, row

from rtrec.events import EVENT_TYPES
from rtrec.projector import Projector, SessionState


def msg(item_id: str, role: str, text: str, kind: str = "input_text") -> dict:
    return {
        "id": item_id,
        "type": "message",
        "role": role,
        "status": "completed",
        "content": [{"type": kind, "text": text}],
    }


def added(item: dict, previous: str | None, kind: str = "conversation.item.added") -> dict:
    return {"type": kind, "previous_item_id": previous, "item": item}


def create(item: dict, previous: str | None = None, event_id: str | None = None) -> dict:
    event = {"type": "conversation.item.create", "item": item}
    if previous is not None:
        event["previous_item_id"] = previous
    if event_id is not None:
        event["event_id"] = event_id
    return event


def test_items_go_after_previous_item_id_and_positions_follow():
    p = fold(
        added(msg("a", "user", "one"), None),
        added(msg("c", "user", "three"), "a"),
        added(msg("b", "user", "two"), "a"),  # inserted in the middle
        added(msg("z", "user", "first"), "root"),
    )
    assert [i for i, _, _ in conversation(p)] == ["z", "a", "b", "c"]
    assert (p.items["c"].ordinal, p.items["c"].position) == (3, 3)


def test_root_on_a_client_create_puts_the_item_first_though_the_server_says_null():
    p = fold(
        added(msg("a", "user", "hello"), None),
        create(msg("sys", "system", "be brief"), previous="root"),
        added(msg("sys", "system", "be brief"), None),
    )
    assert [i for i, _, _ in conversation(p)] == ["sys", "a"]
    assert p.items["sys"].source == "client"


def test_done_with_null_previous_item_id_does_not_move_an_item():
    p = fold(
        added(msg("a", "user", "one"), None),
        added(msg("b", "assistant", "two", "output_text"), "a"),
        added(msg("c", "user", "three"), "b"),
        {
            "type": "conversation.item.done",
            "previous_item_id": None,
            "item": msg("b", "assistant", "two", "output_text"),
        },
    )
    assert [i for i, _, _ in conversation(p)] == ["a", "b", "c"]


def test_null_or_unknown_previous_item_id_appends():
    p = fold(
        added(msg("a", "user", "one"), None),
        added(msg("b", "user", "two"), None),  # compatible servers send null for appends
        added(msg("c", "user", "three"), "no-such-item"),
    )
    assert [i for i, _, _ in conversation(p)] == ["a", "b", "c"]


def test_deleted_items_leave_the_numbering_but_keep_their_slot():
    p = fold(
        added(msg("a", "user", "one"), None),
        added(msg("b", "user", "two"), "a"),
        added(msg("c", "user", "three"), "b"),
        {"type": "conversation.item.deleted", "item_id": "b"},
        {"type": "conversation.item.deleted", "item_id": "never-seen"},
    )
    assert [i for i, _, _ in conversation(p)] == ["a", "c"]
    b = p.items["b"]
    assert (b.deleted, b.position, b.ordinal, b.text()) == (True, None, 1, "two")
    assert (p.items["c"].position, p.items["c"].ordinal) == (1, 2)
    assert "never-seen" not in p.items


def test_a_deleted_item_added_again_comes_back_where_the_server_says():
    p = fold(
        added(msg("a", "user", "one"), None),
        added(msg("b", "user", "two"), "a"),
        {"type": "conversation.item.deleted", "item_id": "a"},
        added(msg("a", "user", "one again"), "b"),
    )
    assert [i for i, _, _ in conversation(p)] == ["b", "a"]
    assert p.items["a"].text() == "one again"


def _user_audio_turn(item_id: str, t0: float = 0.0) -> list:
    return [
        (t0, {"type": "input_audio_buffer.append", "audio": pcm(500)}),
        (
            t0 + 1,
            {
                "type": "input_audio_buffer.speech_started",
                "item_id": item_id,
                "audio_start_ms": 100,
            },
        ),
        (
            t0 + 2,
            {"type": "input_audio_buffer.speech_stopped", "item_id": item_id, "audio_end_ms": 400},
        ),
        (
            t0 + 3,
            {"type": "input_audio_buffer.committed", "item_id": item_id, "previous_item_id": None},
        ),
        (
            t0 + 4,
            added(
                {
                    "id": item_id,
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_audio", "transcript": None}],
                },
                None,
            ),
        ),
    ]


def _audio_response(rid: str, item_id: str, words: list[str], t0: float) -> list:
    where = {"response_id": rid, "item_id": item_id, "output_index": 0, "content_index": 0}
    events = [
        (
            t0,
            {
                "type": "response.created",
                "response": {
                    "id": rid,
                    "status": "in_progress",
                    "conversation_id": "conv_1",
                    "output": [],
                },
            },
        ),
        (
            t0 + 1,
            {
                "type": "response.output_item.added",
                "response_id": rid,
                "output_index": 0,
                "item": {
                    "id": item_id,
                    "type": "message",
                    "role": "assistant",
                    "status": "in_progress",
                    "content": [],
                },
            },
        ),
        (
            t0 + 2,
            added(
                {
                    "id": item_id,
                    "type": "message",
                    "role": "assistant",
                    "status": "in_progress",
                    "content": [],
                },
                None,
            ),
        ),
        (
            t0 + 3,
            {
                "type": "response.content_part.added",
                **where,
                "part": {"type": "audio", "transcript": ""},
            },
        ),
    ]
    for k, word in enumerate(words):
        events.append(
            (
                t0 + 4 + 2 * k,
                {"type": "response.output_audio_transcript.delta", **where, "delta": word},
            )
        )
        events.append(
            (t0 + 5 + 2 * k, {"type": "response.output_audio.delta", **where, "delta": pcm(100)})
        )
    return events


def test_input_transcription_before_or_after_the_response_lands_on_the_user_item():
    before = fold(
        (
            0,
            {
                "type": "conversation.item.input_audio_transcription.delta",
                "item_id": "u1",
                "content_index": 0,
                "delta": "Hel",
            },
        ),
        *_user_audio_turn("u1", 1),
        (
            10,
            {
                "type": "conversation.item.input_audio_transcription.delta",
                "item_id": "u1",
                "content_index": 0,
                "delta": "lo",
            },
        ),
        *_audio_response("r1", "a1", ["Hi", " there"], 20),
        (
            40,
            {
                "type": "conversation.item.input_audio_transcription.completed",
                "item_id": "u1",
                "content_index": 0,
                "transcript": "Hello.",
            },
        ),
        (
            41,
            {
                "type": "conversation.item.input_audio_transcription.delta",
                "item_id": "u1",
                "content_index": 0,
                "delta": " late",
            },
        ),
    )
    assert conversation(before) == [("u1", "user", "Hello."), ("a1", "assistant", "Hi there")]
    assert before.items["u1"].transcription_status == "completed"
    assert before.items["u1"].audio_ms == 300.0  # audio_end_ms - audio_start_ms


def test_failed_transcription_is_recorded_on_the_item():
    p = fold(
        *_user_audio_turn("u1"),
        {
            "type": "conversation.item.input_audio_transcription.failed",
            "item_id": "u1",
            "content_index": 0,
            "error": {
                "type": "server_error",
                "code": "DeploymentNotFound",
                "message": "no deployment",
            },
        },
    )
    item = p.items["u1"]
    assert (item.transcription_status, item.transcription_error, item.text()) == (
        "failed",
        "no deployment",
        None,
    )


def test_transcription_segments_give_text_when_no_transcript_arrives():
    p = fold(
        *_user_audio_turn("u1"),
        {
            "type": "conversation.item.input_audio_transcription.segment",
            "item_id": "u1",
            "content_index": 0,
            "id": "s1",
            "text": "Hello",
            "speaker": "A",
            "start": 0.0,
            "end": 0.5,
        },
        {
            "type": "conversation.item.input_audio_transcription.segment",
            "item_id": "u1",
            "content_index": 0,
            "id": "s2",
            "text": "there",
            "speaker": "B",
            "start": 0.5,
            "end": 1.0,
        },
    )
    assert p.items["u1"].text() == "Hello there"
    assert [s.speaker for s in p.items["u1"].segments] == ["A", "B"]


def test_truncation_keeps_the_transcript_as_delivered_and_where_audio_was_cut():
    p = fold(
        *_user_audio_turn("u1"),
        *_audio_response("r1", "a1", ["Once", " upon", " a", " time"], 10),
        (
            30,
            {
                "type": "conversation.item.truncated",
                "item_id": "a1",
                "content_index": 0,
                "audio_end_ms": 150,
            },
        ),
        # The server drops the unheard transcript; a later snapshot must not erase it.
        (
            31,
            {
                "type": "conversation.item.retrieved",
                "item": {
                    "id": "a1",
                    "type": "message",
                    "role": "assistant",
                    "status": "incomplete",
                    "content": [{"type": "output_audio", "transcript": ""}],
                },
            },
        ),
    )
    item = p.items["a1"]
    assert item.text() == "Once upon a time"
    assert item.truncated_ms == 150
    assert item.audio_ms == 400.0
    assert item.status == "incomplete"


def test_function_call_arguments_stream_and_the_client_output_is_linked_by_call_id():
    rid, call = "r1", "call_1"
    p = fold(
        added(msg("u1", "user", "weather?"), None),
        {
            "type": "response.created",
            "response": {"id": rid, "conversation_id": "c", "status": "in_progress"},
        },
        {
            "type": "response.output_item.added",
            "response_id": rid,
            "output_index": 0,
            "item": {
                "id": "f1",
                "type": "function_call",
                "status": "in_progress",
                "name": "get_weather",
                "call_id": call,
                "arguments": "",
            },
        },
        added(
            {
                "id": "f1",
                "type": "function_call",
                "status": "in_progress",
                "name": "get_weather",
                "call_id": call,
                "arguments": "",
            },
            "u1",
        ),
        {
            "type": "response.function_call_arguments.delta",
            "response_id": rid,
            "item_id": "f1",
            "call_id": call,
            "delta": '{"city":',
        },
        {
            "type": "response.function_call_arguments.delta",
            "response_id": rid,
            "item_id": "f1",
            "call_id": call,
            "delta": ' "Paris"}',
        },
        {
            "type": "response.function_call_arguments.done",
            "response_id": rid,
            "item_id": "f1",
            "call_id": call,
            "name": "get_weather",
            "arguments": '{"city": "Paris"}',
        },
        {
            "type": "response.done",
            "response": {
                "id": rid,
                "status": "completed",
                "conversation_id": "c",
                "usage": {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
            },
        },
        create(
            {"type": "function_call_output", "call_id": call, "output": "sunny"}, event_id="evt_out"
        ),
        added(
            {"id": "o1", "type": "function_call_output", "call_id": call, "output": "sunny"}, "f1"
        ),
    )
    f1, o1 = p.items["f1"], p.items["o1"]
    assert (f1.name, f1.call_id, f1.arguments, f1.response_id) == (
        "get_weather",
        call,
        '{"city": "Paris"}',
        rid,
    )
    assert (o1.call_id, o1.output, o1.source, o1.client_event_id) == (
        call,
        "sunny",
        "client",
        "evt_out",
    )
    assert [i for i, _, _ in conversation(p)] == ["u1", "f1", "o1"]
    assert json.loads(p.responses[rid].usage or "{}")["total_tokens"] == 15


def test_out_of_band_responses_are_tracked_but_never_join_the_conversation():
    rid = "r_oob"
    p = fold(
        *_user_audio_turn("u1"),
        (
            10,
            {
                "type": "response.create",
                "response": {"conversation": "none", "metadata": {"topic": "classify"}},
            },
        ),
        (
            11,
            {
                "type": "response.created",
                "response": {"id": rid, "status": "in_progress", "conversation_id": None},
            },
        ),
        (
            12,
            {
                "type": "response.output_item.added",
                "response_id": rid,
                "output_index": 0,
                "item": {"id": "x1", "type": "message", "role": "assistant", "content": []},
            },
        ),
        # A compatible server announcing it anyway must not put it in the conversation.
        (13, added({"id": "x1", "type": "message", "role": "assistant", "content": []}, None)),
        (
            14,
            {
                "type": "response.output_text.delta",
                "response_id": rid,
                "item_id": "x1",
                "content_index": 0,
                "delta": "weather",
            },
        ),
        (
            15,
            {
                "type": "response.done",
                "response": {
                    "id": rid,
                    "status": "completed",
                    "conversation_id": None,
                    "output": [
                        {
                            "id": "x1",
                            "type": "message",
                            "role": "assistant",
                            "content": [{"type": "output_text", "text": "weather"}],
                        }
                    ],
                },
            },
        ),
    )
    response = p.responses[rid]
    assert (response.conversation, response.status, response.output_item_ids) == (
        "none",
        "completed",
        ["x1"],
    )
    assert response.turn_item_id is None
    assert [i for i, _, _ in conversation(p)] == ["u1"]
    assert p.items["x1"].text() == "weather"


def test_errors_name_the_client_event_and_free_its_pending_request():
    p = fold(
        create(msg("m1", "user", "hi"), previous="missing", event_id="evt_bad"),
        {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "code": "item_not_found",
                "message": "Previous item not found",
                "param": "previous_item_id",
                "event_id": "evt_bad",
            },
        },
        {"type": "error", "error": {"type": "server_error", "message": "oops"}},
    )
    first, second = p.new_errors
    assert (first.code, first.client_event_id, first.param) == (
        "item_not_found",
        "evt_bad",
        "previous_item_id",
    )
    assert (second.code, second.client_event_id) == (None, None)
    assert p.session.work.pending_creates == []
    assert p.session.errors == 2


def test_unknown_types_shapes_and_frames_are_counted_never_fatal():
    p = fold(
        {"type": "ping"},
        {"type": "ping"},
        {
            "type": "conversation.item.truncated",
            "item_id": "a",
            "audio_end_ms": "120",
        },  # lax: salvaged
        {
            "type": "conversation.item.truncated",
            "item_id": "a",
            "audio_end_ms": {"no": 1},
        },  # not salvageable
        "this is not json",
        {"no": "type"},
        added(
            {
                "id": "v1",
                "type": "message",
                "role": "user",
                "content": [{"type": "input_video", "video": "…"}],
            },
            None,
        ),
        added({"id": "w1", "type": "widget"}, "v1"),
    )
    assert p.session.unknown_types == {
        "ping": 2,
        "(not JSON)": 1,
        "(no type)": 1,
        "content:input_video": 1,
        "item:widget": 1,
    }
    assert p.session.unknown_events == 4
    assert p.session.malformed_events == 1
    assert p.items["a"].truncated_ms == 120
    assert [i for i, _, _ in conversation(p)] == ["v1", "w1"]


def test_beta_events_and_formats():
    rid, item_id = "r1", "a1"
    where = {"response_id": rid, "item_id": item_id, "output_index": 0, "content_index": 0}
    ulaw = base64.b64encode(b"\x7f" * 800).decode()  # 100 ms of g711 at 8 kHz
    p = fold(
        {
            "type": "session.created",
            "session": {
                "model": "gpt-4o-realtime-preview",
                "modalities": ["text", "audio"],
                "voice": "verse",
                "input_audio_format": "g711_ulaw",
                "output_audio_format": "g711_ulaw",
                "turn_detection": None,
                "input_audio_transcription": {"model": "whisper-1"},
            },
        },
        {"type": "input_audio_buffer.append", "audio": ulaw},
        {"type": "input_audio_buffer.commit"},
        {"type": "input_audio_buffer.committed", "item_id": "u1", "previous_item_id": None},
        added(
            {"id": "u1", "type": "message", "role": "user", "content": [{"type": "input_audio"}]},
            None,
            "conversation.item.created",
        ),
        {
            "type": "response.created",
            "response": {"id": rid, "status": "in_progress", "output_audio_format": "g711_ulaw"},
        },
        added(
            {"id": item_id, "type": "message", "role": "assistant", "content": []},
            "u1",
            "conversation.item.created",
        ),
        {"type": "response.audio_transcript.delta", **where, "delta": "Hola"},
        {"type": "response.audio.delta", **where, "delta": ulaw},
        {"type": "response.text.delta", **where, "content_index": 1, "delta": "(text)"},
        {"type": "response.done", "response": {"id": rid, "status": "completed"}},
    )
    config = p.session.config
    assert (
        config["protocol"],
        config["voice"],
        config["input_format"],
        config["turn_detection"],
    ) == ("beta", "verse", "g711_ulaw@8000", None)
    assert config["transcription_model"] == "whisper-1"
    assert p.session.audio_in_ms == 100.0 and p.session.audio_out_ms == 100.0
    assert conversation(p) == [("u1", "user", None), ("a1", "assistant", "Hola\n(text)")]
    turn = p.turns["u1"]
    assert (turn.input, turn.client_commit_ns, turn.response_id) == ("audio", 20_000_000, rid)
    assert p.items["u1"].audio_ms == 100.0  # no VAD: the bytes appended before the commit


def test_session_config_follows_each_update_and_keeps_what_is_not_restated():
    p = fold(
        {
            "type": "session.created",
            "session": {
                "type": "realtime",
                "model": "gpt-realtime",
                "output_modalities": ["audio"],
                "audio": {
                    "input": {
                        "format": {"type": "audio/pcm", "rate": 24000},
                        "turn_detection": {"type": "server_vad"},
                        "noise_reduction": None,
                    },
                    "output": {"format": {"type": "audio/pcmu"}, "voice": "alloy", "speed": 1.0},
                },
                "instructions": "hi",
                "tools": [],
                "tool_choice": "auto",
                "max_output_tokens": "inf",
            },
        },
        {
            "type": "session.updated",
            "session": {
                "audio": {
                    "output": {"voice": "marin"},
                    "input": {
                        "turn_detection": {"type": "semantic_vad", "eagerness": "low"},
                        "noise_reduction": {"type": "near_field"},
                    },
                },
                "tools": [{"type": "function", "name": "f"}],
                "temperature": 0.7,
            },
        },
    )
    created, updated = p.new_updates
    assert (
        created.config["voice"] == "alloy" and created.config["output_format"] == "g711_ulaw@8000"
    )
    assert updated.config["model"] == "gpt-realtime"  # kept
    assert updated.config["voice"] == "marin"
    assert updated.config["turn_detection"] == {"type": "semantic_vad", "eagerness": "low"}
    assert updated.config["noise_reduction"] == {"type": "near_field"}
    assert (updated.config["tools"][0]["name"], updated.config["temperature"]) == ("f", 0.7)
    assert (updated.config["speed"], updated.config["max_output_tokens"]) == (1.0, "inf")


def test_audio_counts_use_each_response_format_and_whole_frames_too():
    p = Projector(SessionState(session_id=1))
    p.apply(
        row(
            0,
            0,
            {
                "type": "response.created",
                "response": {
                    "id": "r1",
                    "audio": {"output": {"format": {"type": "audio/pcm", "rate": 16000}}},
                },
            },
        )
    )
    p.apply(
        row(
            1,
            1,
            {
                "type": "response.output_audio.delta",
                "response_id": "r1",
                "item_id": "a1",
                "delta": pcm(250, 16000),
            },
        )
    )
    # An audio frame the writer kept whole (non-canonical base64): counted from its text.
    whole = row(2, 2, {"type": "input_audio_buffer.append", "audio": pcm(100)})._replace(
        audio_len=None, frame=json.dumps({"type": "input_audio_buffer.append", "audio": pcm(100)})
    )
    p.apply(whole)
    assert p.responses["r1"].audio_ms == 250.0
    assert p.items["a1"].audio_ms == 250.0
    assert p.session.audio_out_ms == 250.0 and p.session.audio_in_ms == 100.0


def test_a_tool_round_is_answered_by_the_spoken_reply_and_latency_ends_at_speech_stopped():
    p = fold(
        *_user_audio_turn("u1"),
        (10, {"type": "response.created", "response": {"id": "r1", "conversation_id": "c"}}),
        (
            11,
            {
                "type": "response.done",
                "response": {"id": "r1", "status": "completed", "conversation_id": "c"},
            },
        ),
        *_audio_response("r2", "a2", ["It", " is", " sunny"], 20),
    )
    turn = p.turns["u1"]
    assert (turn.first_response_id, turn.response_id, turn.responses) == ("r1", "r2", 2)
    assert turn.end_ns() == 2_000_000  # speech_stopped
    assert p.responses["r2"].first_audio_ns == 25_000_000
    assert p.responses["r2"].first_transcript_ns == 24_000_000


def test_rate_limits_keep_the_last_update():
    p = fold(
        {"type": "rate_limits.updated", "rate_limits": [{"name": "tokens", "remaining": 10}]},
        {"type": "rate_limits.updated", "rate_limits": [{"name": "tokens", "remaining": 5}]},
    )
    assert json.loads(p.session.rate_limits or "") == [{"name": "tokens", "remaining": 5}]
    assert p.session.rate_limits_ns == 10_000_000


def test_mcp_items():
    rid = "r1"
    p = fold(
        {"type": "response.created", "response": {"id": rid, "conversation_id": "c"}},
        added(
            {
                "id": "l1",
                "type": "mcp_list_tools",
                "server_label": "docs",
                "tools": [{"name": "search"}],
            },
            None,
        ),
        {"type": "mcp_list_tools.completed", "item_id": "l1"},
        {
            "type": "response.output_item.added",
            "response_id": rid,
            "output_index": 0,
            "item": {
                "id": "m1",
                "type": "mcp_call",
                "server_label": "docs",
                "name": "search",
                "arguments": "",
            },
        },
        added(
            {
                "id": "m1",
                "type": "mcp_call",
                "server_label": "docs",
                "name": "search",
                "arguments": "",
            },
            "l1",
        ),
        {
            "type": "response.mcp_call_arguments.delta",
            "response_id": rid,
            "item_id": "m1",
            "delta": '{"q":"x"}',
        },
        {"type": "response.mcp_call.completed", "item_id": "m1"},
        {
            "type": "response.output_item.done",
            "response_id": rid,
            "output_index": 0,
            "item": {
                "id": "m1",
                "type": "mcp_call",
                "server_label": "docs",
                "name": "search",
                "arguments": '{"q":"x"}',
                "output": "found",
            },
        },
    )
    m1 = p.items["m1"]
    assert (m1.type, m1.server_label, m1.arguments, m1.output, m1.status) == (
        "mcp_call",
        "docs",
        '{"q":"x"}',
        "found",
        "completed",
    )
    assert p.items["l1"].status == "completed" and "search" in (p.items["l1"].mcp_tools or "")
    assert p.session.unknown_types == {}


def test_events_from_the_wrong_side_are_counted_not_applied():
    p = fold(
        (0, {"type": "conversation.item.create", "item": msg("x", "user", "hi")}),
    )
    q = Projector(SessionState(session_id=1))
    q.apply(row(0, 0, added(msg("a", "user", "hi"), None), direction="client"))
    assert p.session.work.pending_creates and q.items == {}
    assert q.session.unknown_types == {"client:conversation.item.added": 1}


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
_ids = st.sampled_from(["a", "b", "r1", "root", None])
_fields = st.fixed_dictionaries(
    {},
    optional={
        "item_id": _ids,
        "response_id": _ids,
        "previous_item_id": _ids,
        "content_index": st.integers(-2, 300),
        "delta": st.one_of(st.text(max_size=6), _values),
        "transcript": _values,
        "audio_end_ms": _values,
        "item": st.one_of(
            _values,
            st.fixed_dictionaries(
                {
                    "id": _ids,
                    "type": st.sampled_from(["message", "function_call", "zz"]),
                    "content": st.lists(
                        st.fixed_dictionaries({"type": st.text(max_size=6)}), max_size=2
                    ),
                }
            ),
        ),
        "response": st.one_of(
            _values,
            st.fixed_dictionaries(
                {"id": _ids, "status": _values, "usage": _values, "output": _values}
            ),
        ),
        "session": _values,
        "error": _values,
        "part": _values,
    },
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([*sorted(EVENT_TYPES), "zz.unknown"]), _fields, st.booleans()),
        max_size=25,
    )
)
def test_the_fold_survives_any_sequence_of_events(events):
    p = Projector(SessionState(session_id=1))
    for seq, (kind, fields, as_client) in enumerate(events):
        frame = json.dumps({"type": kind, **fields})
        p.apply(row(seq, seq, frame, direction="client" if as_client else "server"))
    assert p.session.events == len(events)
    positions = sorted(i.position for i in p.items.values() if i.position is not None)
    assert positions == list(range(len(positions)))
    p.take_changes()
