"""Helpers for the replay tests: sessions to replay, and clients that check what they get."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from openai import AsyncOpenAI

from rtrec.jsonl import encode_line
from rtrec.recorder.service import Recorder
from rtrec.sim.script import WEATHER_TOOL
from rtrec.sim.server import Simulator
from rtrec.store.db import open_db
from rtrec.store.importer import import_jsonl
from rtrec.store.reader import RecordedFrame, iter_frames

REAL_SESSIONS = Path(__file__).parent / "fixtures" / "real-sessions"
TOOL_CALL_ROUND = REAL_SESSIONS / "test_openai_ws__test_tool_call_round.jsonl"


def import_lines(db_path: str, lines: Iterable[str], name: str = "test") -> int:
    conn = open_db(db_path)
    try:
        return int(import_jsonl(conn, list(lines), source_name=name).db_id or 0)
    finally:
        conn.close()


def import_file(db_path: str, path: Path) -> int:
    with path.open("rb") as lines:
        conn = open_db(db_path)
        try:
            return int(import_jsonl(conn, lines, source_name=str(path)).db_id or 0)
        finally:
            conn.close()


def event_line(t_s: float, direction: str, event: dict[str, object]) -> str:
    frame = json.dumps(event, separators=(",", ":"))
    return encode_line(round(t_s * 1e9), direction, frame)


def frames_of(db_path: str, session_id: int) -> list[RecordedFrame]:
    conn = sqlite3.connect(db_path)
    try:
        return list(iter_frames(conn, session_id))
    finally:
        conn.close()


async def record_sdk_call(db_path: str) -> int:
    """A tool-call round recorded through the real relay, the openai SDK as client."""
    async with (
        Simulator() as sim,
        Recorder(db_path, upstream=sim.url, port=0, live_status=False) as recorder,
    ):
        client = AsyncOpenAI(api_key="sk-test", websocket_base_url=f"{recorder.url}/v1")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            assert (await conn.recv()).type == "session.created"
            await conn.send(
                {
                    "type": "session.update",
                    "session": {
                        "type": "realtime",
                        "output_modalities": ["text"],
                        "tools": [WEATHER_TOOL],
                    },
                }
            )
            await conn.send(
                {
                    "type": "conversation.item.create",
                    "item": {
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": "Weather in Paris?"}],
                    },
                }
            )
            await conn.send({"type": "response.create"})
            done = await _until(conn, "response.done")
            call = done.response.output[0]
            await conn.send(
                {
                    "type": "conversation.item.create",
                    "item": {
                        "type": "function_call_output",
                        "call_id": call.call_id,
                        "output": json.dumps({"forecast": "sunny"}),
                    },
                }
            )
            await conn.send({"type": "response.create"})
            await _until(conn, "response.done")
    conn_db = sqlite3.connect(db_path)
    try:
        (session_id,) = conn_db.execute("SELECT max(id) FROM session").fetchone()
    finally:
        conn_db.close()
    return int(session_id)


async def _until(conn: object, event_type: str) -> object:
    while True:
        event = await conn.recv()  # type: ignore[attr-defined]
        if event.type == event_type:
            return event


@dataclass
class Received:
    frames: list[bytes]
    times: list[float]  # time.monotonic() at receipt


async def drive_like_recording(
    url: str, frames: list[RecordedFrame], *, timeout: float = 20
) -> Received:
    """Play the recorded client with the openai SDK: send its events where it sent them,
    receive the server's in between; returns what was received."""
    client = AsyncOpenAI(api_key="sk-test", websocket_base_url=url)
    received = Received([], [])
    async with client.realtime.connect(model="gpt-realtime") as conn:
        for frame in frames:
            if frame.direction == "client":
                await conn.send(json.loads(frame.frame))
            else:
                data = await asyncio.wait_for(conn.recv_bytes(), timeout)
                received.times.append(time.monotonic())
                received.frames.append(data)
    return received


async def receive_all(url: str, count: int, *, timeout: float = 20) -> Received:
    """Connect with the openai SDK, send nothing, receive `count` server frames."""
    client = AsyncOpenAI(api_key="sk-test", websocket_base_url=url)
    received = Received([], [])
    async with client.realtime.connect(model="gpt-realtime") as conn:
        for _ in range(count):
            data = await asyncio.wait_for(conn.recv_bytes(), timeout)
            received.times.append(time.monotonic())
            received.frames.append(data)
    return received


def as_bytes(frame: str | bytes) -> bytes:
    return frame.encode("utf-8") if isinstance(frame, str) else frame


class CliServer:
    """`rtrec replay … --serve` as a real process; its URL read from its first line."""

    def __init__(self, *args: str, db_path: str) -> None:
        env = {**os.environ, "RTREC_DB": db_path}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rtrec", "replay", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline().decode()
        match = re.search(r"ws://\S+", first)
        if match is None:
            self.proc.kill()
            raise AssertionError(f"no URL in {first!r}: {self.proc.stderr.read().decode()}")  # type: ignore[union-attr]
        self.url = match.group(0)
        # Keep draining stdout so the server never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def interrupt(self) -> None:
        self.proc.send_signal(signal.SIGINT)

    def wait(self, timeout: float = 30) -> int:
        return self.proc.wait(timeout)

    def stderr(self) -> str:
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
