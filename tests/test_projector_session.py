"""The pure fold: responses, turns, configuration, audio, errors and what it cannot read."""

from __future__ import annotations

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from rtrec.projector import Projector, SessionState
from rtrec.protocols.realtime.events import EVENT_TYPES
from tests.projection_events import (
    added,
    audio_response,
    create,
    created,
    msg,
    output_item,
    response_done,
    streamed,
    user_audio_turn,
)
from tests.projection_helpers import conversation, fold, pcm, row


def test_out_of_band_responses_are_tracked_but_never_join_the_conversation():
    side = {"id": "x1", "type": "message", "role": "assistant", "content": []}
    said = {**side, "content": [{"type": "output_text", "text": "weather"}]}
    p = fold(
        *user_audio_turn("u1"),
        (10, {"type": "response.create", "response": {"conversation": "none"}}),
        (11, created("oob", conversation_id=None, metadata={"topic": "classify"})),
        (12, output_item("oob", side)),
        (13, added(side, None)),  # a compatible server announcing it anyway
        (14, streamed("response.output_text.delta", "oob", "x1", delta="weather")),
        (15, response_done("oob", conversation_id=None, output=[said])),
    )
    response = p.responses["oob"]
    assert (response.conversation, response.status, response.output_item_ids) == (
        "none",
        "completed",
        ["x1"],
    )
    assert (response.turn_item_id, response.requested_ns) == (None, 10_000_000)
    assert json.loads(response.metadata or "") == {"topic": "classify"}
    assert [i for i, _, _ in conversation(p)] == ["u1"]
    assert p.items["x1"].text() == "weather" and not p.items["x1"].in_conversation


def test_errors_name_the_client_event_and_free_its_pending_request():
    bad = {"type": "invalid_request_error", "code": "item_not_found", "param": "previous_item_id",
           "message": "Previous item not found", "event_id": "evt_bad"}  # fmt: skip
    p = fold(
        create(msg(None, "user", "hi"), previous="missing", event_id="evt_bad"),
        {"type": "error", "error": bad},
        {"type": "error", "error": {"type": "server_error", "message": "oops"}},
        added(msg("later", "user", "not the failed one"), None),
    )
    first, second = p.new_errors
    assert (first.code, first.client_event_id, first.param, first.seq) == (
        "item_not_found",
        "evt_bad",
        "previous_item_id",
        1,
    )
    assert (second.code, second.client_event_id) == (None, None)
    assert p.session.work.pending_creates == []
    assert p.items["later"].source == "server"  # not taken for the failed create
    assert p.session.errors == 2


def test_unknown_types_shapes_and_frames_are_counted_never_fatal():
    video = {"id": "v1", "type": "message", "role": "user",
             "content": [{"type": "input_video", "video": "…"}]}  # fmt: skip
    p = fold(
        {"type": "ping"},
        {"type": "ping"},
        {"type": "conversation.item.truncated", "item_id": "a", "audio_end_ms": "120"},  # salvaged
        {"type": "conversation.item.truncated", "item_id": "a", "audio_end_ms": {"no": 1}},
        "this is not json",
        {"no": "type"},
        added(video, None),
        added({"id": "w1", "type": "widget"}, "v1"),
    )
    assert p.session.unknown_types == {
        "ping": 2,
        "(not JSON)": 1,
        "(no type)": 1,
        "content:input_video": 1,
        "item:widget": 1,
    }
    assert (p.session.unknown_events, p.session.malformed_events) == (4, 1)
    assert p.items["a"].truncated_ms == 120
    assert [i for i, _, _ in conversation(p)] == ["v1", "w1"]


def test_events_from_the_wrong_side_are_counted_not_applied():
    p = Projector(SessionState(session_id=1))
    p.apply(row(0, 0, added(msg("a", "user", "hi"), None), direction="client"))
    assert p.items == {}
    assert p.session.unknown_types == {"client:conversation.item.added": 1}


def test_beta_events_and_formats():
    ulaw = base64.b64encode(b"\x7f" * 800).decode()  # 100 ms of g711 at 8 kHz
    beta = {"model": "gpt-4o-realtime-preview", "modalities": ["text", "audio"],
            "voice": "verse", "input_audio_format": "g711_ulaw",
            "output_audio_format": "g711_ulaw", "turn_detection": None,
            "input_audio_transcription": {"model": "whisper-1"}}  # fmt: skip
    user = {"id": "u1", "type": "message", "role": "user", "content": [{"type": "input_audio"}]}
    reply = {"id": "a1", "type": "message", "role": "assistant", "content": []}
    p = fold(
        {"type": "session.created", "session": beta},
        {"type": "input_audio_buffer.append", "audio": ulaw},
        {"type": "input_audio_buffer.commit"},
        {"type": "input_audio_buffer.committed", "item_id": "u1", "previous_item_id": None},
        added(user, None, kind="conversation.item.created"),
        created("r1", output_audio_format="g711_ulaw"),
        added(reply, "u1", kind="conversation.item.created"),
        streamed("response.audio_transcript.delta", "r1", "a1", delta="Hola"),
        streamed("response.audio.delta", "r1", "a1", delta=ulaw),
        streamed("response.text.delta", "r1", "a1", index=1, delta="(text)"),
        response_done("r1"),
    )
    config = p.session.config
    assert (config["protocol_version"], config["voice"], config["input_format"]) == (
        "beta",
        "verse",
        "g711_ulaw@8000",
    )
    assert (config["turn_detection"], config["transcription_model"]) == (None, "whisper-1")
    assert (p.session.audio_in_ms, p.session.audio_out_ms) == (100.0, 100.0)
    assert conversation(p) == [("u1", "user", None), ("a1", "assistant", "Hola\n(text)")]
    turn = p.turns["u1"]
    assert (turn.input, turn.client_commit_ns, turn.end_ns(), turn.response_id) == (
        "audio",
        20_000_000,
        20_000_000,
        "r1",
    )
    assert p.items["u1"].audio_ms == 100.0  # no VAD: the bytes appended before the commit


def test_session_config_follows_each_update_and_keeps_what_is_not_restated():
    pcm24, pcmu = {"type": "audio/pcm", "rate": 24000}, {"type": "audio/pcmu"}
    first = {"type": "realtime", "model": "gpt-realtime", "output_modalities": ["audio"],
             "audio": {"input": {"format": pcm24, "turn_detection": {"type": "server_vad"},
                                 "noise_reduction": None},
                       "output": {"format": pcmu, "voice": "alloy", "speed": 1.0}},
             "instructions": "hi", "tools": [], "tool_choice": "auto",
             "max_output_tokens": "inf"}  # fmt: skip
    second = {"audio": {"output": {"voice": "marin"},
                        "input": {"turn_detection": {"type": "semantic_vad", "eagerness": "low"},
                                  "noise_reduction": {"type": "near_field"}}},
              "tools": [{"type": "function", "name": "f"}], "temperature": 0.7}  # fmt: skip
    p = fold(
        {"type": "session.created", "session": first},
        {"type": "session.updated", "session": second},
    )
    before, after = (u.config for u in p.new_updates)
    assert (before["voice"], before["output_format"]) == ("alloy", "g711_ulaw@8000")
    assert (after["model"], after["voice"], after["speed"]) == ("gpt-realtime", "marin", 1.0)
    assert after["turn_detection"] == {"type": "semantic_vad", "eagerness": "low"}
    assert after["noise_reduction"] == {"type": "near_field"}
    assert (after["tools"][0]["name"], after["temperature"]) == ("f", 0.7)
    assert [u.event_type for u in p.new_updates] == ["session.created", "session.updated"]
    assert p.session.work.media.session_output.rate == 8000


def test_audio_counts_use_each_response_format_and_whole_frames_too():
    pcm16k = {"audio": {"output": {"format": {"type": "audio/pcm", "rate": 16000}}}}
    append = {"type": "input_audio_buffer.append", "audio": pcm(100)}
    p = Projector(SessionState(session_id=1))
    p.apply(row(0, 0, created("r1", **pcm16k)))
    p.apply(row(1, 1, streamed("response.output_audio.delta", "r1", "a1", delta=pcm(250, 16000))))
    # An audio frame the writer kept whole (non-canonical base64): counted from its text.
    p.apply(row(2, 2, append)._replace(audio_len=None, frame=json.dumps(append)))
    assert (p.responses["r1"].audio_ms, p.items["a1"].audio_ms) == (250.0, 250.0)
    assert (p.session.audio_out_ms, p.session.audio_in_ms) == (250.0, 100.0)
    assert p.responses["r1"].output_format == "pcm16@16000"


def test_a_tool_round_is_answered_by_the_spoken_reply_and_latency_ends_at_speech_stopped():
    p = fold(
        *user_audio_turn("u1"),
        (10, created("r1")),
        (11, response_done("r1", usage={"input_tokens": 3, "output_tokens": 2})),
        *audio_response("r2", "a2", ["It", " is", " sunny"], 20),
    )
    turn = p.turns["u1"]
    assert (turn.first_response_id, turn.response_id, turn.responses) == ("r1", "r2", 2)
    assert (turn.end_ns(), turn.audio_start_ms, turn.audio_end_ms) == (2_000_000, 100, 400)
    r2 = p.responses["r2"]
    assert (r2.created_ns, r2.first_transcript_ns, r2.first_text_ns, r2.first_audio_ns) == (
        20_000_000,
        24_000_000,
        24_000_000,
        25_000_000,
    )
    assert (
        r2.turn_item_id == "u1" and json.loads(p.responses["r1"].usage or "")["input_tokens"] == 3
    )


def test_rate_limits_keep_the_last_update():
    p = fold(
        {"type": "rate_limits.updated", "rate_limits": [{"name": "tokens", "remaining": 10}]},
        {"type": "rate_limits.updated", "rate_limits": [{"name": "tokens", "remaining": 5}]},
    )
    assert json.loads(p.session.rate_limits or "") == [{"name": "tokens", "remaining": 5}]
    assert p.session.rate_limits_ns == 10_000_000


def test_changes_are_handed_over_once():
    p = fold(*user_audio_turn("u1"), *audio_response("r1", "a1", ["Hi"], 10))
    changes = p.take_changes()
    assert [i.item_id for i in changes.items] == ["a1", "u1"]
    assert [r.response_id for r in changes.responses] == ["r1"]
    assert [t.item_id for t in changes.turns] == ["u1"]
    assert p.take_changes().items == []


_values = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=False),
    st.text(max_size=8), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)  # fmt: skip
_ids = st.sampled_from(["a", "b", "r1", "root", None])
_items = st.fixed_dictionaries(
    {"id": _ids, "type": st.sampled_from(["message", "function_call", "zz"]),
     "content": st.lists(st.fixed_dictionaries({"type": st.text(max_size=6)}), max_size=2)}
)  # fmt: skip
_fields = st.fixed_dictionaries(
    {},
    optional={
        "item_id": _ids, "response_id": _ids, "previous_item_id": _ids,
        "content_index": st.integers(-2, 300), "delta": st.one_of(st.text(max_size=6), _values),
        "transcript": _values, "audio_end_ms": _values, "item": st.one_of(_values, _items),
        "response": st.one_of(_values, st.fixed_dictionaries(
            {"id": _ids, "status": _values, "usage": _values, "output": _values})),
        "session": _values, "error": _values, "part": _values,
    },
)  # fmt: skip


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


def test_the_projector_is_pure():
    from pathlib import Path

    import rtrec.projector

    for path in Path(rtrec.projector.__file__).parent.glob("*.py"):
        source = path.read_text()
        for module in ("sqlite3", "asyncio", "aiosqlite", "websockets"):
            assert f"import {module}" not in source and f"from {module}" not in source, path


HOSTILE = [
    "[" * 5000 + "]" * 5000,
    '{"a":' * 3000 + "1" + "}" * 3000,
    '{"type": "response.done", "response": ' + "[" * 3000 + "]" * 3000 + "}",
    '{"type": "error", "error": ' + '{"a":' * 3000 + "1" + "}" * 3000 + "}",
    '{"type": "x", "type": "y", "type": 5}',
    '{"value": NaN}',
    "\x00\x01",
    '"just a string"',
    b"\xff\xfe",
    b"",
]


def test_hostile_frames_are_counted_not_fatal():
    p = Projector(SessionState(session_id=1))
    for seq, frame in enumerate(HOSTILE * 2):
        direction = "client" if seq % 2 else "server"
        if isinstance(frame, bytes):
            p.apply(row(seq, seq, "{}", direction)._replace(type=None, frame=frame))
        else:
            p.apply(row(seq, seq, frame, direction))
    assert p.session.events == 20
    assert p.session.unknown_events + p.session.malformed_events >= 16
    assert p.items == {} and p.new_errors == []
