"""`rtrec replay --serve`: the openai SDK against a recorded session, paced and strict."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from openai import AsyncOpenAI
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.sync.client import connect as sync_connect

from rtrec.replay.cues import STRICT_EXTRA, STRICT_MISMATCH
from rtrec.replay.selection import Selection
from rtrec.replay.server import ReplayServer
from rtrec.replay.session import ReplayOptions
from rtrec.replay.source import ReplaySource
from tests.replay_support import (
    TOOL_CALL_ROUND,
    CliServer,
    as_bytes,
    drive_like_recording,
    event_line,
    frames_of,
    import_file,
    import_lines,
    receive_all,
    record_sdk_call,
)


def _server_frames(db_path: str, session: int) -> list[bytes]:
    return [as_bytes(f.frame) for f in frames_of(db_path, session) if f.direction == "server"]


async def test_sdk_receives_every_server_event_in_order_with_clock_pace(db_path: str) -> None:
    session = await record_sdk_call(db_path)
    expected = _server_frames(db_path, session)
    source = ReplaySource.open(db_path, str(session), Selection())
    async with ReplayServer(source, ReplayOptions(speed=2)) as server:
        received = await receive_all(server.url, len(expected))
    assert received.frames == expected  # byte for byte, in order
    assert server.reports[0].server_events_sent == len(expected)


async def test_sdk_driven_like_the_recording_with_client_pace(db_path: str) -> None:
    session = await record_sdk_call(db_path)
    frames = frames_of(db_path, session)
    source = ReplaySource.open(db_path, str(session), Selection())
    async with ReplayServer(source, ReplayOptions(pace="client", strict=True)) as server:
        received = await drive_like_recording(server.url, frames)
    assert received.frames == _server_frames(db_path, session)
    report = server.reports[0]
    assert report.strict_failure is None and report.completed
    assert report.client_events_received == sum(f.direction == "client" for f in frames)


async def test_client_pace_holds_the_answer_until_the_client_asks(db_path: str) -> None:
    # The recorded client waited 30 s before asking; the answer came 0.2 s after.
    session = import_lines(
        db_path,
        [
            event_line(0.0, "server", {"type": "session.created", "event_id": "e0"}),
            event_line(30.0, "client", {"type": "response.create"}),
            event_line(30.2, "server", {"type": "response.created", "event_id": "e1"}),
            event_line(30.3, "server", {"type": "response.done", "event_id": "e2"}),
        ],
    )
    source = ReplaySource.open(db_path, str(session), Selection())
    async with ReplayServer(source, ReplayOptions(pace="client")) as server:
        client = AsyncOpenAI(api_key="sk-test", websocket_base_url=server.url)
        async with client.realtime.connect(model="gpt-realtime") as conn:
            assert (await conn.recv()).type == "session.created"
            sent_at = time.monotonic()
            await conn.send({"type": "response.create"})
            # On the clock this would come 30 s in; paced by the client, 0.2 s after the send.
            created = await asyncio.wait_for(conn.recv(), 10)
            created_at = time.monotonic()
            done = await asyncio.wait_for(conn.recv(), 10)
            done_at = time.monotonic()
    assert (created.type, done.type) == ("response.created", "response.done")
    # Never before their recorded delays after the send (measured from the send: a
    # receive that is late on a busy machine would shorten the gap after it).
    assert created_at - sent_at >= 0.2 - 0.005
    assert done_at - sent_at >= 0.3 - 0.005


async def test_strict_closes_on_a_wrong_client_event_with_a_clear_reason(db_path: str) -> None:
    session = import_file(db_path, TOOL_CALL_ROUND)
    source = ReplaySource.open(db_path, str(session), Selection())
    async with ReplayServer(source, ReplayOptions(pace="client", strict=True)) as server:
        client = AsyncOpenAI(api_key="sk-test", websocket_base_url=server.url)
        async with client.realtime.connect(model="gpt-realtime") as conn:
            assert (await conn.recv()).type == "session.created"
            await conn.send({"type": "response.create"})  # the recording has session.update
            with pytest.raises(ConnectionClosedError) as closed:
                await asyncio.wait_for(conn.recv(), 10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == STRICT_MISMATCH
    assert "expected session.update" in closed.value.rcvd.reason
    assert "received response.create" in closed.value.rcvd.reason
    assert server.reports[0].strict_failure == closed.value.rcvd.reason


async def test_strict_closes_on_an_event_past_the_end_of_the_recording(db_path: str) -> None:
    session = import_lines(
        db_path,
        [
            event_line(0.0, "server", {"type": "session.created"}),
            event_line(0.1, "client", {"type": "session.update", "session": {}}),
            event_line(0.2, "server", {"type": "session.updated"}),
        ],
    )
    source = ReplaySource.open(db_path, str(session), Selection())
    async with (
        ReplayServer(source, ReplayOptions(pace="client", strict=True)) as server,
        connect(server.url + "/realtime?model=x") as ws,
    ):
        await ws.send('{"type":"session.update","session":{}}')
        await ws.send('{"type":"response.create"}')
        with pytest.raises(ConnectionClosedError) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == STRICT_EXTRA
    assert "received response.create" in closed.value.rcvd.reason


async def test_realtime_subprotocol_is_selected_and_any_path_is_served(db_path: str) -> None:
    session = import_file(db_path, TOOL_CALL_ROUND)
    source = ReplaySource.open(db_path, str(session), Selection())
    expected = _server_frames(db_path, session)[0]
    async with ReplayServer(source, ReplayOptions(speed=10)) as server:
        base = server.url.removesuffix("/v1")
        async with connect(
            base + "/openai/realtime?api-version=2025-04-01&deployment=x",
            subprotocols=["realtime", "openai-insecure-api-key.sk-whatever"],  # type: ignore[list-item]
        ) as ws:
            assert ws.subprotocol == "realtime"
            assert (await asyncio.wait_for(ws.recv(), 10)).encode() == expected


async def test_several_clients_at_once_with_loop_each_get_the_whole_session(db_path: str) -> None:
    session = import_file(db_path, TOOL_CALL_ROUND)
    expected = _server_frames(db_path, session)
    server = CliServer(
        str(session), "--serve", "127.0.0.1:0", "--speed", "4", "--loop", db_path=db_path
    )
    try:
        together = await asyncio.gather(*(receive_all(server.url, len(expected)) for _ in range(3)))
        assert all(r.frames == expected for r in together)
        # --loop: a client coming after them gets the session again, from the start.
        again = await receive_all(server.url, len(expected))
        assert again.frames == expected
        server.interrupt()
        assert await asyncio.to_thread(server.wait) == 0
        assert server.stderr().count("replay complete") == 4
    finally:
        server.close()


async def test_without_loop_the_server_exits_after_its_client(db_path: str) -> None:
    session = import_file(db_path, TOOL_CALL_ROUND)
    expected = _server_frames(db_path, session)
    server = CliServer(str(session), "--serve", "127.0.0.1:0", "--speed", "4", db_path=db_path)
    try:
        received = await receive_all(server.url, len(expected))
        assert received.frames == expected
        assert await asyncio.to_thread(server.wait) == 0
        with pytest.raises(OSError):
            await receive_all(server.url, 1)
    finally:
        server.close()


async def test_a_late_client_is_refused_once_the_replay_is_over(db_path: str) -> None:
    session = import_file(db_path, TOOL_CALL_ROUND)
    source = ReplaySource.open(db_path, str(session), Selection())
    async with ReplayServer(source, ReplayOptions(speed=10), loop=False) as server:
        await receive_all(server.url, len(_server_frames(db_path, session)))
        await asyncio.wait_for(server.finished.wait(), 10)
        with pytest.raises(InvalidStatus) as refused:
            await receive_all(server.url, 1)
    assert refused.value.response.status_code == 503


async def test_pytest_fixture_serves_a_jsonl_recording(rtrec_replay_server, tmp_path) -> None:
    recording = tmp_path / "call.jsonl"
    recording.write_text(TOOL_CALL_ROUND.read_text())
    # The call's opening only: its session.update, answered by session.updated (#2).
    url = rtrec_replay_server(recording, pace="client", speed=4, strict=True, until="#2")
    recorded_update = json.loads(TOOL_CALL_ROUND.read_text().splitlines()[1])["event"]
    client = AsyncOpenAI(api_key="sk-test", websocket_base_url=url)
    async with client.realtime.connect(model="gpt-realtime") as conn:
        assert (await conn.recv()).type == "session.created"
        await conn.send(recorded_update)
        assert (await asyncio.wait_for(conn.recv(), 10)).type == "session.updated"
    assert url.clients[0].strict_failure is None
    assert url.clients[0].server_events_sent == 2


def test_pytest_fixture_works_from_a_sync_test_too(rtrec_replay_server, db_path) -> None:
    session = import_file(db_path, TOOL_CALL_ROUND)
    expected = _server_frames(db_path, session)
    url = rtrec_replay_server(db_path, str(session), pace="clock", speed=10)
    with sync_connect(url + "/realtime?model=gpt-realtime") as ws:
        received = [ws.recv(timeout=10) for _ in expected]
    assert [as_bytes(frame) for frame in received] == expected
