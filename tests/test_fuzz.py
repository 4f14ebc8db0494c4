"""Hostile input, fuzzed: no crash, no hang, every frame kept exactly, one clear error."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from rtrec.errors import ImportFormatError
from rtrec.recorder.service import Recorder
from rtrec.store.db import open_db
from rtrec.store.importer import import_jsonl
from rtrec.store.reader import iter_frames, resolve_session

HOSTILE_TEXT = [
    "[" * 5000 + "]" * 5000,  # deep nesting
    '{"a":' * 3000 + "1" + "}" * 3000,
    '{"type": "x", "type": "y", "type": 5}',  # duplicate keys
    '{"value": NaN, "other": Infinity}',
    '{"type": "' + "é" * 200_000 + '"}',  # a huge string
    '{"type": "input_audio_buffer.append", "audio": "' + "A" * 1_000_001 + '"}',  # bad length
    "\x00\x01\x02",
    "\ufeff{}",
    '"just a string"',
    "1e999999",
]
HOSTILE_BINARY = [b"\xff\xfe\xfd", b"\xc3\x28", b'{"type": "\xed\xa0\x80"}', b""]

json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_value = st.recursive(
    json_leaf,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)
event_types = st.sampled_from(
    [
        "input_audio_buffer.append",
        "response.output_audio.delta",
        "response.done",
        "conversation.item.added",
        "session.update",
        "error",
        "rtrec.unknown",
    ]
)
frames = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300),
    st.sampled_from(HOSTILE_TEXT),
    st.sampled_from(HOSTILE_BINARY),
    st.builds(
        lambda t, v: json.dumps({"type": t, "audio": v, "delta": v, "item": v}),
        event_types,
        json_value,
    ),
    json_value.map(json.dumps),
)


class LoopThread:
    """An event loop in a thread: hypothesis examples are synchronous."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 60) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


async def echo(ws: ServerConnection) -> None:
    try:
        async for message in ws:
            await ws.send(message)
    except ConnectionClosed:
        pass


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LoopThread, Recorder, str]]:
    db_path = str(tmp_path_factory.mktemp("fuzz") / "rtrec.db")
    loop = LoopThread()

    async def start() -> tuple[Any, Recorder]:
        upstream = await serve(echo, "127.0.0.1", 0, max_size=None)
        port = upstream.sockets[0].getsockname()[1]
        recorder = Recorder(db_path, upstream=f"ws://127.0.0.1:{port}", port=0, live_status=False)
        await recorder.start()
        return upstream, recorder

    upstream, recorder = loop.run(start())
    yield loop, recorder, db_path

    async def stop() -> None:
        await recorder.stop()
        upstream.close()
        await upstream.wait_closed()

    loop.run(stop())
    loop.close()


async def send_all(url: str, batch: list[str | bytes]) -> list[str | bytes]:
    async with connect(url + "/v1/realtime", max_size=None) as ws:
        for frame in batch:
            await ws.send(frame)
        return [await ws.recv() for _ in batch]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(frames, min_size=1, max_size=12))
def test_anything_through_the_relay_comes_back_exactly(relay, batch):
    loop, recorder, db_path = relay
    echoed = loop.run(send_all(recorder.url, batch))
    assert echoed == batch
    assert loop.run(recorder.writer.flush())
    conn = sqlite3.connect(db_path)
    try:
        session = resolve_session(conn, "last")
        recorded = list(iter_frames(conn, session.id))
    finally:
        conn.close()
    assert [f.frame for f in recorded if f.direction == "client"] == batch
    assert [f.frame for f in recorded if f.direction == "server"] == batch


def test_hostile_frames_through_the_relay(relay):
    loop, recorder, db_path = relay
    batch: list[str | bytes] = [*HOSTILE_TEXT, *HOSTILE_BINARY]
    assert loop.run(send_all(recorder.url, batch)) == batch
    assert loop.run(recorder.writer.flush())
    with sqlite3.connect(db_path) as conn:
        recorded = list(iter_frames(conn, resolve_session(conn, "last").id))
        # The SQL views survive them too.
        conn.execute("SELECT payload, frame_size FROM events").fetchall()
    assert [f.frame for f in recorded if f.direction == "client"] == batch


lines = st.one_of(
    st.text(max_size=80),
    json_value.map(json.dumps),
    st.builds(
        lambda t, d, f: json.dumps({"t": t, "dir": d, "frame": f}),
        json_leaf,
        st.sampled_from(["client", "server", "x"]),
        json_value,
    ),
    st.builds(lambda e: json.dumps({"event": e}), json_value),
    st.sampled_from(HOSTILE_TEXT),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(lines, max_size=8))
def test_import_takes_a_file_whole_or_says_which_line_is_wrong(tmp_path, content):
    conn = open_db(str(tmp_path / "fuzz-import.db"))
    try:
        before = conn.execute("SELECT count(*) FROM event").fetchone()[0]
        sessions = conn.execute("SELECT count(*) FROM session").fetchone()[0]
        try:
            session = import_jsonl(conn, content, source_name="fuzz.jsonl")
        except ImportFormatError as exc:
            assert str(exc).startswith("fuzz.jsonl")
            assert conn.execute("SELECT count(*) FROM event").fetchone()[0] == before
            assert conn.execute("SELECT count(*) FROM session").fetchone()[0] == sessions
            return
        stored = list(iter_frames(conn, session.db_id))  # type: ignore[arg-type]
        assert len(stored) == sum(1 for line in content if line.strip())
    finally:
        conn.close()


def test_hostile_sessions_through_show_replay_and_export_wav(relay, tmp_path):
    """The recorded hostile frames, read back by every command that interprets them."""
    loop, recorder, db_path = relay
    batch: list[str | bytes] = [*HOSTILE_TEXT, *HOSTILE_BINARY]
    loop.run(send_all(recorder.url, batch))
    assert loop.run(recorder.writer.flush())
    from tests.conftest import run_cli

    exported = run_cli("export", "last", db_path=db_path)
    assert exported.returncode == 0
    replayed = run_cli("replay", "last", "--jsonl", "--speed", "1000", db_path=db_path)
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout == exported.stdout
    for args in (
        ["show", "last"],
        ["show", "last", "--json"],
        ["replay", "last", "--speed", "1000"],
        ["export-wav", "last", "--out", str(tmp_path / "wav"), "--timeline"],
        ["sql", "SELECT * FROM items"],
    ):
        result = run_cli(*args, db_path=db_path)
        stderr = result.stderr.decode()
        assert "Traceback" not in stderr, (args, stderr)
        assert result.returncode == 0 or len(stderr.strip().splitlines()) >= 1, args
