"""A call recorded through the relay from the openai SDK is in the views right away."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

import pytest
from websockets.asyncio.client import connect

from rtrec.recorder.service import Recorder
from rtrec.sim.dialogue import STORY
from rtrec.sim.options import DEFAULT_USER_LINES
from rtrec.store.db import open_db
from rtrec.store.projection import catch_up, reproject
from tests.projection_helpers import dump_projection
from tests.sdk_call import FORECAST, TRUNCATE_AT_MS, voice_agent_call

WEATHER, STORY_REQUEST, THANKS = DEFAULT_USER_LINES


def _query(db_path: str, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


async def _current(rec: Recorder) -> None:
    """Wait until everything relayed so far is written and projected."""
    assert rec.writer is not None
    assert await rec.writer.flush(projections=True)


@pytest.fixture
async def recorded(db_path: str, recorder: Recorder) -> tuple[str, object, list]:
    """The call, recorded by the relay, which keeps running: the views are read while it does."""
    seen_during: list = []

    async def during(_connection: object) -> None:
        # While the call goes on: what was said so far is already in the views.
        await _current(recorder)
        seen_during.extend(_query(db_path, "SELECT type, role, text FROM items ORDER BY position"))

    log = await voice_agent_call(recorder.url, during)
    await _current(recorder)
    return db_path, log, seen_during


async def test_views_are_current_during_the_recording(recorded):
    _, _, seen = recorded
    assert seen == [
        ("message", "user", WEATHER),
        ("function_call", None, None),
        ("function_call_output", None, None),
        ("message", "assistant", "In Paris it is sunny and 22 degrees right now."),
    ]


async def test_items_after_recording(recorded):
    db_path, _, _ = recorded
    rows = _query(
        db_path,
        "SELECT position, type, role, status, text, name, arguments, output, truncated_ms, "
        "deleted, audio_ms FROM items WHERE session_id = 1 ORDER BY ordinal",
    )
    spoken_story = rows[5][4]
    assert [r[:4] for r in rows] == [
        (0, "message", "user", "completed"),
        (1, "function_call", None, "completed"),
        (2, "function_call_output", None, "completed"),
        (3, "message", "assistant", "completed"),
        (4, "message", "user", "completed"),
        (5, "message", "assistant", "completed"),
        (6, "message", "user", "completed"),
        (7, "message", "assistant", "completed"),
        (None, "message", "user", "completed"),
    ]
    texts = [r[4] for r in rows]
    assert texts[0] == WEATHER and texts[4] == STORY_REQUEST and texts[6] == THANKS
    assert texts[3] == "In Paris it is sunny and 22 degrees right now."
    assert spoken_story == STORY  # the whole transcript as delivered, though audio was cut
    assert texts[7] == "You said: Thanks, that's all for now. Got it, happy to help."
    assert texts[8] == "Note to self: delete me."
    assert rows[1][5:7] == ("get_weather", '{"city": "Paris"}')
    assert json.loads(rows[2][7]) == FORECAST
    assert rows[5][8] == TRUNCATE_AT_MS and rows[5][10] > TRUNCATE_AT_MS
    assert [r[9] for r in rows] == [0] * 8 + [1]
    assert all(r[10] > 0 for r in rows if r[2] in ("user", "assistant") and r[9] == 0)


async def test_responses_after_recording(recorded):
    db_path, log, _ = recorded
    rows = _query(
        db_path,
        "SELECT response_id, status, created_ms, first_audio_ms, done_ms, input_tokens, "
        "output_tokens, total_tokens, output_items FROM responses ORDER BY created_ms",
    )
    assert [r[0] for r in rows] == log.responses
    assert [r[1] for r in rows] == ["completed"] * 4
    for _, _, created, first_audio, done, tokens_in, tokens_out, total, outputs in rows:
        assert tokens_in > 0 and tokens_out > 0 and total == tokens_in + tokens_out
        assert outputs == 1 and done >= created
        assert first_audio is None or created <= first_audio <= done
    assert rows[0][3] is None  # the tool call: no audio


async def test_turns_after_recording(recorded):
    db_path, log, _ = recorded
    rows = _query(
        db_path,
        "SELECT turn, input, ended_by, speech_stopped_ms, response_id, first_audio_ms, "
        "latency_ms, first_response_id, responses, text FROM turns ORDER BY turn",
    )
    assert [(r[0], r[1], r[2], r[9]) for r in rows] == [
        (0, "audio", "speech_stopped", WEATHER),
        (1, "audio", "speech_stopped", STORY_REQUEST),
        (2, "audio", "speech_stopped", THANKS),
        (3, "text", "message", "Note to self: delete me."),
    ]
    # The tool round: the call came first, the spoken answer answers the turn.
    assert rows[0][7] == log.responses[0] and rows[0][4] == log.responses[1]
    assert rows[0][8] == 2
    for turn in rows[:3]:
        assert turn[6] >= 0
        assert turn[6] == pytest.approx(turn[5] - turn[3])
    assert rows[3][4] is None and rows[3][6] is None


async def test_session_errors_and_tool_calls_after_recording(recorded):
    db_path, log, _ = recorded
    ((in_ms, out_ms, voice, fmt, vad, model, items, responses),) = _query(
        db_path,
        "SELECT audio_in_ms, audio_out_ms, voice, input_format, turn_detection, model, items, "
        "responses FROM sessions",
    )
    assert in_ms == log.audio_in_bytes / 48 and out_ms > 0
    assert (voice, fmt, vad, model, items, responses) == (
        "marin",
        "pcm16@24000",
        "server_vad",
        "gpt-realtime",
        8,
        4,
    )
    errors = _query(
        db_path, "SELECT code, client_event_id, client_event_type, client_t_ms, t_ms FROM errors"
    )
    assert len(errors) == 1
    code, event_id, event_type, client_t, t = errors[0]
    assert (code, event_id, event_type) == (
        "item_not_found",
        "evt_missing",
        "conversation.item.delete",
    )
    assert 0 <= client_t <= t
    calls = _query(db_path, "SELECT name, output, answer_ms FROM tool_calls")
    assert len(calls) == 1 and json.loads(calls[0][1]) == FORECAST and calls[0][2] >= 0
    updates = _query(db_path, "SELECT voice, turn_detection FROM session_updates ORDER BY seq")
    assert updates == [("alloy", "server_vad"), ("marin", "server_vad")]


async def test_a_beta_session_with_an_out_of_band_response(db_path: str, recorder: Recorder):
    beta = {"OpenAI-Beta": "realtime=v1"}
    url = f"{recorder.url}/v1/realtime?model=gpt-4o-realtime-preview"
    async with connect(url, additional_headers=beta) as ws:

        async def until(kind: str) -> dict:
            async for message in ws:
                event = json.loads(message)
                if event["type"] == kind:
                    return event
            raise AssertionError(kind)

        await until("session.created")
        update = {"modalities": ["text", "audio"], "voice": "verse", "turn_detection": None,
                  "input_audio_format": "g711_ulaw",
                  "output_audio_format": "g711_ulaw"}  # fmt: skip
        await ws.send(json.dumps({"type": "session.update", "session": update}))
        await until("session.updated")
        hello = {"type": "message", "role": "user",
                 "content": [{"type": "input_text", "text": "Hello there"}]}  # fmt: skip
        await ws.send(json.dumps({"type": "conversation.item.create", "item": hello}))
        await ws.send(json.dumps({"type": "response.create"}))
        await until("response.done")
        side = {"conversation": "none", "metadata": {"purpose": "summary"}}
        await ws.send(json.dumps({"type": "response.create", "response": side}))
        await until("response.done")
    await _current(recorder)
    reply = "You said: Hello there. Got it, happy to help."
    assert _query(db_path, "SELECT role, text FROM items ORDER BY position") == [
        ("user", "Hello there"),
        ("assistant", reply),
    ]
    responses = _query(
        db_path, "SELECT out_of_band, conversation, metadata FROM responses ORDER BY created_ms"
    )
    assert responses == [(0, "auto", None), (1, "none", '{"purpose":"summary"}')]
    ((out_ms, fmt, protocol, voice),) = _query(
        db_path, "SELECT audio_out_ms, output_format, protocol_version, voice FROM sessions"
    )
    ((audio_bytes,),) = _query(
        db_path, "SELECT sum(length(audio)) FROM event WHERE type = 'response.audio.delta'"
    )
    assert (fmt, protocol, voice) == ("g711_ulaw@8000", "beta", "verse")
    assert out_ms == audio_bytes / 8  # one byte a sample at 8 kHz, both responses


async def test_a_reader_catching_up_mid_call_and_the_follower_agree_with_a_rebuild(
    db_path: str, recorder: Recorder
):
    async def during(connection: Any) -> None:
        assert recorder.writer is not None
        # The follower holds the session's state, projected this far...
        assert await recorder.writer.flush(projections=True)
        # ...and more of the call is committed beyond it,
        await connection.session.update(session={"type": "realtime"})
        async for event in connection:
            if event.type == "session.updated":
                break
        assert await recorder.writer.flush()
        # which `rtrec reproject` run now projects itself (reading commands no longer
        # write), moving the checkpoint under the follower's feet.
        await asyncio.to_thread(_reader_catch_up, db_path)

    await voice_agent_call(recorder.url, during)
    await _current(recorder)
    assert recorder.writer is not None and recorder.writer.stats["reloads"] >= 1
    conn = open_db(db_path)
    try:
        live = dump_projection(conn)
        reproject(conn)
        assert dump_projection(conn) == live
    finally:
        conn.close()


def _reader_catch_up(db_path: str) -> None:
    conn = open_db(db_path)
    try:
        assert catch_up(conn) > 0
    finally:
        conn.close()
