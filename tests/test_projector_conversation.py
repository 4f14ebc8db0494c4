"""The pure fold: where items go, and what they say.  No database, no event loop."""

from __future__ import annotations

from tests.projection_events import (
    added,
    audio_response,
    create,
    created,
    deleted,
    item_done,
    msg,
    output_item,
    response_done,
    streamed,
    transcription,
    user_audio_turn,
)
from tests.projection_helpers import conversation, fold


def order(p: object) -> list[str]:
    return [item_id for item_id, _, _ in conversation(p)]  # type: ignore[arg-type]


def test_items_go_after_previous_item_id_and_positions_follow():
    p = fold(
        added(msg("a", "user", "one"), None),
        added(msg("c", "user", "three"), "a"),
        added(msg("b", "user", "two"), "a"),  # inserted in the middle
        added(msg("z", "user", "first"), "root"),
    )
    assert order(p) == ["z", "a", "b", "c"]
    assert (p.items["c"].ordinal, p.items["c"].position) == (3, 3)
    assert p.dirty_items == {"z", "a", "b", "c"}


def test_root_on_a_client_create_puts_the_item_first_though_the_server_says_null():
    p = fold(
        added(msg("a", "user", "hello"), None),
        create(msg(None, "system", "be brief"), previous="root"),
        added(msg("sys", "system", "be brief"), None),
    )
    assert order(p) == ["sys", "a"]
    assert p.items["sys"].source == "client"


def test_done_with_null_previous_item_id_does_not_move_an_item():
    p = fold(
        added(msg("a", "user", "one"), None),
        added(msg("b", "assistant", "two"), "a"),
        added(msg("c", "user", "three"), "b"),
        item_done(msg("b", "assistant", "two"), None),
    )
    assert order(p) == ["a", "b", "c"]


def test_null_or_unknown_previous_item_id_appends():
    p = fold(
        added(msg("a", "user", "one"), None),
        added(msg("b", "user", "two"), None),  # compatible servers send null for appends
        added(msg("c", "user", "three"), "no-such-item"),
    )
    assert order(p) == ["a", "b", "c"]


def test_an_item_announced_only_by_done_still_enters_the_conversation():
    p = fold(added(msg("a", "user", "one"), None), item_done(msg("b", "user", "two"), None))
    assert order(p) == ["a", "b"]


def test_deleted_items_leave_the_numbering_but_keep_their_slot():
    p = fold(
        added(msg("a", "user", "one"), None),
        added(msg("b", "user", "two"), "a"),
        added(msg("c", "user", "three"), "b"),
        deleted("b"),
        deleted("never-seen"),
        item_done(msg("b", "user", "two"), None),  # a late done does not bring it back
    )
    assert order(p) == ["a", "c"]
    b = p.items["b"]
    assert (b.deleted, b.position, b.ordinal, b.text(), b.deleted_ns) == (
        True,
        None,
        1,
        "two",
        30_000_000,
    )
    assert (p.items["c"].position, p.items["c"].ordinal) == (1, 2)
    assert "never-seen" not in p.items


def test_a_deleted_item_added_again_comes_back_where_the_server_says():
    p = fold(
        added(msg("a", "user", "one"), None),
        added(msg("b", "user", "two"), "a"),
        deleted("a"),
        added(msg("a", "user", "one again"), "b"),
    )
    assert order(p) == ["b", "a"]
    assert p.items["a"].text() == "one again" and not p.items["a"].deleted


def test_input_transcription_before_or_after_the_response_lands_on_the_user_item():
    p = fold(
        (0, transcription("delta", "u1", delta="Hel")),  # before the item exists
        *user_audio_turn("u1", 1),
        (10, transcription("delta", "u1", delta="lo")),
        *audio_response("r1", "a1", ["Hi", " there"], 20),
        (40, transcription("completed", "u1", transcript="Hello.")),  # after the response
        (41, transcription("delta", "u1", delta=" late")),  # ignored once completed
    )
    assert conversation(p) == [("u1", "user", "Hello."), ("a1", "assistant", "Hi there")]
    assert p.items["u1"].transcription_status == "completed"
    assert p.items["u1"].audio_ms == 300.0  # audio_end_ms - audio_start_ms


def test_failed_transcription_is_recorded_on_the_item():
    error = {"type": "server_error", "code": "DeploymentNotFound", "message": "no deployment"}
    p = fold(*user_audio_turn("u1"), transcription("failed", "u1", error=error))
    item = p.items["u1"]
    assert (item.transcription_status, item.transcription_error, item.text()) == (
        "failed",
        "no deployment",
        None,
    )


def test_transcription_segments_give_text_when_no_transcript_arrives():
    p = fold(
        *user_audio_turn("u1"),
        transcription("segment", "u1", id="s1", text="Hello", speaker="A", start=0.0, end=0.5),
        transcription("segment", "u1", id="s2", text="there", speaker="B", start=0.5, end=1.0),
    )
    assert p.items["u1"].text() == "Hello there"
    assert [s.speaker for s in p.items["u1"].segments] == ["A", "B"]


def test_truncation_keeps_the_transcript_as_delivered_and_where_audio_was_cut():
    unheard = {"id": "a1", "type": "message", "role": "assistant", "status": "incomplete",
               "content": [{"type": "output_audio", "transcript": ""}]}  # fmt: skip
    p = fold(
        *user_audio_turn("u1"),
        *audio_response("r1", "a1", ["Once", " upon", " a", " time"], 10),
        (30, {"type": "conversation.item.truncated", "item_id": "a1", "audio_end_ms": 150}),
        # The server drops the unheard transcript; a later snapshot must not erase it.
        (31, {"type": "conversation.item.retrieved", "item": unheard}),
    )
    item = p.items["a1"]
    assert (item.text(), item.truncated_ms, item.audio_ms, item.status) == (
        "Once upon a time",
        150,
        400.0,
        "incomplete",
    )
    assert item.parts[0].type == "output_audio"


def test_text_deltas_and_done_and_multiple_parts():
    p = fold(
        created("r1"),
        output_item("r1", {"id": "a1", "type": "message", "role": "assistant", "content": []}),
        streamed("response.output_text.delta", "r1", "a1", delta="Hel"),
        streamed("response.output_text.delta", "r1", "a1", delta="lo"),
        streamed("response.output_text.done", "r1", "a1", text="Hello!"),
        streamed("response.output_text.delta", "r1", "a1", index=1, delta="More"),
        response_done("r1"),
    )
    assert conversation(p) == [("a1", "assistant", "Hello!\nMore")]  # appended by response.done


def test_function_call_arguments_stream_and_the_client_output_is_linked_by_call_id():
    call = {"id": "f1", "type": "function_call", "status": "in_progress", "name": "get_weather",
            "call_id": "call_1", "arguments": ""}  # fmt: skip
    result = {"type": "function_call_output", "call_id": "call_1", "output": "sunny"}
    args = {"call_id": "call_1"}
    finished = {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    p = fold(
        added(msg("u1", "user", "weather?"), None),
        created("r1"),
        output_item("r1", call),
        added(call, "u1"),
        streamed("response.function_call_arguments.delta", "r1", "f1", **args, delta='{"city":'),
        streamed("response.function_call_arguments.delta", "r1", "f1", **args, delta=' "Paris"}'),
        streamed("response.function_call_arguments.done", "r1", "f1", **args, **finished),
        response_done("r1", usage={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}),
        create(result, event_id="evt_out"),
        added({**result, "id": "o1"}, "f1"),
    )
    f1, o1 = p.items["f1"], p.items["o1"]
    assert (f1.name, f1.call_id, f1.arguments, f1.response_id, f1.done_ns) == (
        "get_weather",
        "call_1",
        '{"city": "Paris"}',
        "r1",
        60_000_000,
    )
    assert (o1.call_id, o1.output, o1.source, o1.client_event_id, o1.client_ns) == (
        "call_1",
        "sunny",
        "client",
        "evt_out",
        80_000_000,
    )
    assert order(p) == ["u1", "f1", "o1"]


def test_mcp_items():
    call = {"id": "m1", "type": "mcp_call", "server_label": "docs", "name": "search",
            "arguments": ""}  # fmt: skip
    listing = {"id": "l1", "type": "mcp_list_tools", "server_label": "docs",
               "tools": [{"name": "search", "input_schema": {}}]}  # fmt: skip
    p = fold(
        created("r1"),
        added(listing, None),
        {"type": "mcp_list_tools.completed", "item_id": "l1"},
        output_item("r1", call),
        added(call, "l1"),
        streamed("response.mcp_call_arguments.delta", "r1", "m1", delta='{"q":"x"}'),
        {"type": "response.mcp_call.completed", "item_id": "m1"},
        output_item("r1", {**call, "arguments": '{"q":"x"}', "output": "found"}, done=True),
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
