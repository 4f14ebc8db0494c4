"""The relay with a scripted upstream: odd frames, headers, subprotocols, closes, refusals."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidStatus

from rtrec.recorder.service import Recorder
from tests.conftest import run_cli

ODD_FRAMES: list[str | bytes] = [
    b"\x00\x01\x02\xff binary \x80",
    '{"type": "session.update", "session": {',  # malformed JSON
    '{"no_type": true}',
    '{"type": "rtrec.test.unknown", "payload": [1, 2, 3]}',
    "[1, 2, 3]",
    '{"type":"conversation.item.create","item":{"type":"message","role":"user",'
    '"content":[{"type":"input_text","text":"héllo — 你好 🎧"}]}}',
    '{"type":"input_audio_buffer.append","audio":"' + "QUFB" * (1024 * 1024) + '"}',  # 4 MiB
    "",  # an empty text frame
]


@dataclass
class ScriptedUpstream:
    """An upstream that records what it receives and sends what the test asks."""

    received: list[str | bytes] = field(default_factory=list)
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_path: str = ""
    subprotocol_offered: list[str] = field(default_factory=list)
    to_send: list[str | bytes] = field(default_factory=list)
    close_with: tuple[int, str] | None = None
    wait_for: int = 0  # frames to receive before sending and closing
    connection: ServerConnection | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    close_code: int | None = None
    close_reason: str | None = None
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def receive(self, ws: ServerConnection) -> None:
        frame = await ws.recv()
        async with self.arrived:
            self.received.append(frame)
            self.arrived.notify_all()

    async def wait_received(self, count: int) -> None:
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: len(self.received) >= count), 10)

    async def handler(self, ws: ServerConnection) -> None:
        self.connection = ws
        assert ws.request is not None
        self.request_headers = list(ws.request.headers.raw_items())
        self.request_path = ws.request.path
        try:
            while len(self.received) < self.wait_for:
                await self.receive(ws)
            for frame in self.to_send:
                await ws.send(frame)
            if self.close_with is not None:
                await ws.close(*self.close_with)
            while True:
                await self.receive(ws)
        except ConnectionClosed:
            pass
        finally:
            self.close_code = ws.close_code
            self.close_reason = ws.close_reason
            self.closed.set()


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[ScriptedUpstream, str]]:
    script = ScriptedUpstream()

    def select(connection: ServerConnection, offered: list[str]) -> str | None:
        script.subprotocol_offered = list(offered)
        return "realtime" if "realtime" in offered else None

    async with serve(
        script.handler, "127.0.0.1", 0, max_size=None, select_subprotocol=select
    ) as server:
        port = server.sockets[0].getsockname()[1]
        yield script, f"ws://127.0.0.1:{port}"


def exported(db_path: str, session: str = "last") -> list[dict[str, object]]:
    result = run_cli("export", session, db_path=db_path)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def frame_of(line: dict[str, object]) -> str | bytes:
    import base64

    if "frame_b64" in line:
        return base64.b64decode(str(line["frame_b64"]))
    return str(line["frame"])


async def test_odd_frames_pass_both_ways_and_are_kept_exactly(db_path, upstream):
    script, url = upstream
    script.wait_for = len(ODD_FRAMES)
    script.to_send = list(ODD_FRAMES)
    async with Recorder(db_path, upstream=url, port=0, live_status=False) as rec:
        async with connect(rec.url + "/v1/realtime", max_size=None) as ws:
            for frame in ODD_FRAMES:
                await ws.send(frame)
            echoed = [await ws.recv() for _ in ODD_FRAMES]
    assert script.received == ODD_FRAMES
    assert echoed == ODD_FRAMES
    lines = exported(db_path)
    assert [frame_of(x) for x in lines if x["dir"] == "client"] == ODD_FRAMES
    assert [frame_of(x) for x in lines if x["dir"] == "server"] == ODD_FRAMES
    with sqlite3.connect(db_path) as db:
        kinds = dict(
            db.execute(
                "SELECT seq, binary FROM events WHERE direction = 'client' ORDER BY seq"
            ).fetchall()
        )
    assert next(iter(kinds.values())) == 1  # the binary frame is marked as binary


async def test_headers_path_query_and_subprotocols_go_upstream(db_path, upstream):
    script, url = upstream
    key = "sk-browserKEY0123456789abcdef"
    headers = {
        "Authorization": "Bearer sk-headerKEY0123456789abcdef",
        "api-key": "azure-key-0123456789abcdef",
        "OpenAI-Beta": "realtime=v1",
        "OpenAI-Organization": "org-123",
        "OpenAI-Project": "proj-456",
        "X-Custom": "kept",
    }
    path = (
        "/openai/realtime?api-version=2025-04-01-preview&deployment=gpt-rt&api-key=qkey0123456789"
    )
    async with (
        Recorder(db_path, upstream=url, port=0, live_status=False) as rec,
        connect(
            rec.url + path,
            additional_headers=headers,
            subprotocols=["realtime", f"openai-insecure-api-key.{key}"],
            compression=None,
        ) as ws,
    ):
        assert ws.subprotocol == "realtime"
        await ws.send('{"type":"response.create"}')
        await script.wait_received(1)
    got = {name.lower(): value for name, value in script.request_headers}
    for name, value in headers.items():
        assert got[name.lower()] == value
    assert script.request_path == path
    assert script.subprotocol_offered == ["realtime", f"openai-insecure-api-key.{key}"]
    assert "sec-websocket-extensions" not in got  # no deflate upstream unless the client asked

    with sqlite3.connect(db_path) as db:
        row = db.execute(
            "SELECT path, query, model, request_headers, subprotocol FROM session"
        ).fetchone()
    rec_path, rec_query, model, rec_headers, subprotocol = row
    assert rec_path == "/openai/realtime"
    assert "qkey0123456789" not in rec_query and "api-version=2025-04-01-preview" in rec_query
    assert model == "gpt-rt"
    assert subprotocol == "realtime"
    recorded = json.loads(rec_headers)
    assert recorded["authorization"] == "[redacted]"
    assert recorded["api-key"] == "[redacted]"
    assert recorded["openai-organization"] == "org-123"
    assert key not in rec_headers
    with open(db_path, "rb") as f:
        content = f.read()
    for secret in (
        key,
        "sk-headerKEY0123456789abcdef",
        "azure-key-0123456789abcdef",
        "qkey0123456789",
    ):
        assert secret.encode() not in content


async def test_compression_requested_by_the_client_is_asked_upstream(db_path, upstream):
    script, url = upstream
    async with Recorder(db_path, upstream=url, port=0, live_status=False) as rec:
        async with connect(rec.url + "/v1/realtime", compression="deflate") as ws:
            await ws.send("x")
            await script.wait_received(1)
    got = {name.lower(): value for name, value in script.request_headers}
    assert "permessage-deflate" in got.get("sec-websocket-extensions", "")


async def test_client_close_code_and_reason_reach_upstream_and_are_recorded(db_path, upstream):
    script, url = upstream
    async with Recorder(db_path, upstream=url, port=0, live_status=False) as rec:
        async with connect(rec.url + "/v1/realtime") as ws:
            await ws.send("hello")
            await ws.close(4000, "client says bye")
        await asyncio.wait_for(script.closed.wait(), 10)
    assert (script.close_code, script.close_reason) == (4000, "client says bye")
    with sqlite3.connect(db_path) as db:
        row = db.execute(
            "SELECT end_reason, client_close_code, client_close_reason, upstream_close_code "
            "FROM session"
        ).fetchone()
    assert row == ("client_closed", 4000, "client says bye", 4000)


async def test_upstream_close_code_and_reason_reach_the_client(db_path, upstream):
    script, url = upstream
    script.to_send = ['{"type":"error","error":{"message":"bye"}}']
    script.close_with = (4002, "server says bye")
    async with Recorder(db_path, upstream=url, port=0, live_status=False) as rec:
        async with connect(rec.url + "/v1/realtime") as ws:
            assert json.loads(await ws.recv())["type"] == "error"
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert (ws.close_code, ws.close_reason) == (4002, "server says bye")
    with sqlite3.connect(db_path) as db:
        row = db.execute(
            "SELECT end_reason, upstream_close_code, upstream_close_reason, client_close_code "
            "FROM session"
        ).fetchone()
    assert row == ("upstream_closed", 4002, "server says bye", 4002)


@pytest.mark.parametrize("status", [401, 403, 404, 429])
async def test_upstream_refusal_reaches_the_client_with_its_status(db_path, simulator, status):
    async with Recorder(db_path, upstream=simulator.url, port=0, live_status=False) as rec:
        with pytest.raises(InvalidStatus) as caught:
            async with connect(rec.url + f"/v1/realtime?sim_status={status}"):
                pass
    response = caught.value.response
    assert response.status_code == status
    assert json.loads(response.body)["error"]["code"] == "simulated_refusal"
    with sqlite3.connect(db_path) as db:
        row = db.execute("SELECT end_reason, refused_status, refused_body FROM session").fetchone()
    assert row[0] == "upstream_refused" and row[1] == status
    assert "simulated_refusal" in row[2]


async def test_unreachable_upstream_is_a_502_and_recorded(db_path):
    # A port nothing listens on: bind one, then close it.
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    async with Recorder(
        db_path, upstream=f"ws://127.0.0.1:{port}", port=0, live_status=False
    ) as rec:
        with pytest.raises(InvalidStatus) as caught:
            async with connect(rec.url + "/v1/realtime"):
                pass
    assert caught.value.response.status_code == 502
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT end_reason, refused_status FROM session").fetchone() == (
            "upstream_refused",
            502,
        )


async def test_many_concurrent_sessions_into_one_database(db_path, simulator):
    async def one_session(rec_url: str, n: int) -> int:
        async with connect(rec_url + f"/v1/realtime?model=m{n}") as ws:
            await ws.recv()  # session.created
            for i in range(20):
                await ws.send(json.dumps({"type": "rtrec.test", "n": n, "i": i}))
            for _ in range(20):
                await ws.recv()  # an error event for each unknown type
        return n

    async with Recorder(db_path, upstream=simulator.url, port=0, live_status=False) as rec:
        await asyncio.gather(*(one_session(rec.url, n) for n in range(12)))
    with sqlite3.connect(db_path) as db:
        rows = db.execute(
            "SELECT model, event_count, end_reason FROM sessions ORDER BY model"
        ).fetchall()
        gaps = db.execute(
            "SELECT count(*) FROM sessions s WHERE event_count != "
            "(SELECT count(*) FROM event e WHERE e.session_id = s.session_id)"
        ).fetchone()[0]
    assert len(rows) == 12
    assert all(count == 41 and reason == "client_closed" for _, count, reason in rows)
    assert gaps == 0


async def test_a_16_mib_frame_passes_and_is_kept(db_path, upstream):
    script, url = upstream
    frame = '{"type":"input_audio_buffer.append","audio":"' + "QUFB" * (4 * 1024 * 1024) + '"}'
    script.wait_for = 1
    script.to_send = [frame]
    async with Recorder(db_path, upstream=url, port=0, live_status=False) as rec:
        async with connect(rec.url + "/v1/realtime", max_size=None) as ws:
            await ws.send(frame)
            assert await ws.recv() == frame
    assert script.received == [frame]
    lines = exported(db_path)
    assert [frame_of(line) for line in lines] == [frame, frame]
