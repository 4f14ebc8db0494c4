"""`rtrec record --otel`: traces sent as sessions end, and a receiver that goes away.

The recorder is a real `rtrec record` process in front of the simulator; Phoenix is
the real receiver, stopped in the middle of the run and started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sqlite3
import time
from pathlib import Path

from websockets.asyncio.client import connect

from tests.conftest import run_cli, start_recorder
from tests.otel_checks import expected_span_count, rows
from tests.phoenix import Phoenix
from tests.test_otel_phoenix import need_phoenix

PROJECT = "rtrec-record"


async def text_call(relay_url: str, text: str) -> dict:
    """One typed turn and its reply; returns the reply's response.done."""
    async with connect(f"{relay_url}/v1/realtime?model=gpt-realtime") as ws:
        assert json.loads(await ws.recv())["type"] == "session.created"
        item = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        }
        await ws.send(json.dumps({"type": "conversation.item.create", "item": item}))
        await ws.send(json.dumps({"type": "response.create"}))
        while True:
            event = json.loads(await ws.recv())
            if event["type"] == "response.done":
                return event


class Lines:
    """The recorder's stderr, line by line, with a way to wait for one."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.lines: list[str] = []
        self._stream = stream
        self._changed = asyncio.Condition()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self._stream:
            async with self._changed:
                self.lines.append(raw.decode().rstrip())
                self._changed.notify_all()

    async def wait_for(self, pattern: str, timeout: float = 90) -> str:
        async def found() -> str:
            async with self._changed:
                while True:
                    hit = next((line for line in self.lines if re.search(pattern, line)), None)
                    if hit is not None:
                        return hit
                    await self._changed.wait()

        return await asyncio.wait_for(found(), timeout)

    def matching(self, pattern: str) -> list[str]:
        return [line for line in self.lines if re.search(pattern, line)]


async def test_record_otel_with_the_receiver_stopped_mid_run(tmp_path, db_path, simulator):
    phoenix = Phoenix(need_phoenix(), tmp_path / "phoenix")
    await asyncio.to_thread(phoenix.start)
    env = {
        **os.environ,
        "OTEL_RESOURCE_ATTRIBUTES": f"openinference.project.name={PROJECT}",
        "OTEL_EXPORTER_OTLP_TIMEOUT": "2",  # give up on a dead receiver sooner
    }
    process = None
    try:
        process, relay_url, _ = await start_recorder(
            db_path, simulator.url, "--otel", "--otel-endpoint", phoenix.url, env=env
        )
        assert process.stderr is not None
        stderr = Lines(process.stderr)

        await text_call(relay_url, "first call")
        spans = await asyncio.to_thread(phoenix.wait_for_spans, PROJECT, 3)
        assert {s["context"]["trace_id"] for s in spans} == {uuid_hex(db_path, 1)}

        await asyncio.to_thread(phoenix.stop)
        reply = await text_call(relay_url, "second call, nobody listening")
        assert reply["response"]["status"] == "completed"  # the call went on
        warning = await stderr.wait_for("cannot send traces")
        assert phoenix.url in warning and "session 2" in warning

        await asyncio.to_thread(phoenix.start, same_ports=True)
        await text_call(relay_url, "third call")
        back = await stderr.wait_for("again")
        assert "rtrec otel 2" in back  # says which session to send again
        expected = expected_span_count(db_path, 1) + expected_span_count(db_path, 3)
        spans = await asyncio.to_thread(phoenix.wait_for_spans, PROJECT, expected)
        assert {s["context"]["trace_id"] for s in spans} == {
            uuid_hex(db_path, 1),
            uuid_hex(db_path, 3),
        }
        assert len(spans) == expected

        # A call still going on is not sent by `rtrec otel` (its trace is not complete).
        async with connect(f"{relay_url}/v1/realtime?model=gpt-realtime") as ws:
            await ws.recv()  # session.created: session 4 is open…
            await session_row_written(db_path, 4)  # …and its row committed by the recorder
            listed = await asyncio.to_thread(run_cli, "otel", "--all", "--dry-run", db_path=db_path)
            assert listed.returncode == 0
            assert "session 4 is still being recorded" in listed.stderr.decode()
            assert uuid_hex(db_path, 4) not in listed.stdout.decode()
            named = await asyncio.to_thread(run_cli, "otel", "4", "--dry-run", db_path=db_path)
            assert named.returncode == 1

        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 60) == 0
        await asyncio.wait_for(stderr._task, 10)
        assert len(stderr.matching("cannot send traces")) == 1, stderr.lines
        assert not stderr.matching("Traceback|ERROR|Failed to export"), stderr.lines
    finally:
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()
        await asyncio.to_thread(phoenix.stop)


def uuid_hex(db_path: str, session_id: int) -> str:
    (row,) = rows(db_path, "SELECT uuid FROM sessions WHERE session_id = ?", session_id)
    return row["uuid"].replace("-", "")


async def session_row_written(db_path: str, session_id: int, timeout: float = 20) -> None:
    """Wait until the recorder process has committed the session's row."""
    uri = Path(db_path).resolve().as_uri() + "?mode=ro"
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            if conn.execute("SELECT 1 FROM session WHERE id = ?", (session_id,)).fetchone():
                return
        assert time.monotonic() < deadline, f"session {session_id} was never written"
        await asyncio.sleep(0.02)  # polling another process's file: nothing to await
