"""The live status line: one per session on a terminal, silence elsewhere."""

from __future__ import annotations

import io
import json

from websockets.asyncio.client import connect

from rtrec.recorder.service import Recorder


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def one_call(url: str) -> None:
    async with connect(url + "/v1/realtime?model=gpt-realtime") as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": "AAAA" * 1200}))
        await ws.send(json.dumps({"type": "session.update", "session": {"type": "realtime"}}))
        while json.loads(await ws.recv())["type"] != "session.updated":
            pass


async def test_a_terminal_gets_a_line_per_session(db_path, simulator):
    terminal = Terminal()
    async with Recorder(db_path, upstream=simulator.url, port=0, status_stream=terminal) as rec:
        await one_call(rec.url)
    text = terminal.getvalue()
    assert "gpt-realtime" in text and "events" in text
    assert "in 0.1 s" in text  # 3600 bytes of pcm16 at 24 kHz
    assert "ended: client_closed" in text
    assert "\x1b[" in text  # redrawn in place


async def test_elsewhere_the_relay_is_quiet(db_path, simulator):
    log = io.StringIO()
    async with Recorder(db_path, upstream=simulator.url, port=0, status_stream=log) as rec:
        await one_call(rec.url)
    assert log.getvalue() == ""
