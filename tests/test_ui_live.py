"""`rtrec ui` follows a session still being recorded: turns appear on the open page.

The relay records a real WebSocket session from the simulator; `rtrec ui` runs as its own
process on the same database; the page is open in headless Chromium (Playwright's async
API, since the recorder runs on this test's event loop) while the user speaks again.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import sys

import numpy as np
from websockets.asyncio.client import connect

from rtrec.sim.audio import silence, speech_like
from tests.browser import TIMEOUT_MS, VIEWPORT, launch_options, publish
from tests.page_checks import expected_label, sql_rows


async def speak(ws, text: str) -> None:
    """A user turn: speech-like audio in 100 ms appends, then silence for the server's VAD."""
    rate = 24000
    samples = np.concatenate([speech_like(text, rate), silence(0.7, rate)])
    step = rate // 10
    for start in range(0, len(samples), step):
        chunk = samples[start : start + step].astype("<i2").tobytes()
        await ws.send(
            json.dumps(
                {"type": "input_audio_buffer.append", "audio": base64.b64encode(chunk).decode()}
            )
        )


async def until(ws, event_type: str) -> dict:
    while True:
        event = json.loads(await ws.recv())
        if event["type"] == event_type:
            return event


async def test_a_session_still_recording_gains_turns_on_the_open_page(recorder, db_path, tmp_path):
    from playwright.async_api import async_playwright, expect

    url = f"{recorder.url}/v1/realtime?model=gpt-realtime"
    async with connect(url, max_size=None) as ws:
        await until(ws, "session.created")
        await ws.send(
            json.dumps(
                {
                    "type": "session.update",
                    "session": {
                        "type": "realtime",
                        "audio": {
                            "input": {
                                "format": {"type": "audio/pcm", "rate": 24000},
                                "transcription": {"model": "gpt-4o-mini-transcribe"},
                                "turn_detection": {"type": "server_vad"},
                            }
                        },
                    },
                }
            )
        )
        await until(ws, "session.updated")
        await speak(ws, "What time is it in Tokyo?")
        await until(ws, "response.done")

        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "rtrec",
            "ui",
            "--db",
            db_path,
            "--listen",
            "127.0.0.1:0",
            stderr=asyncio.subprocess.PIPE,
            env=os.environ.copy(),
        )
        assert process.stderr is not None
        banner = (await asyncio.wait_for(process.stderr.readline(), 60)).decode()
        found = re.search(r"(http://\S+/)", banner)
        assert found, banner
        try:
            async with async_playwright() as playwright:
                chromium = await playwright.chromium.launch(**launch_options())
                page = await chromium.new_page(viewport=VIEWPORT)
                errors: list[str] = []
                page.on("pageerror", lambda error: errors.append(str(error)))
                page.on(
                    "console",
                    lambda m: errors.append(m.text) if m.type == "error" else None,
                )
                page.set_default_timeout(TIMEOUT_MS)
                await page.goto(found[1])
                await expect(page.locator("#rows tr td.live")).to_have_count(1)
                await page.goto(f"{found[1]}s/1")
                await expect(page.locator("#live-badge")).to_be_visible()
                marks = page.locator(".turn-mark")
                await expect(marks).to_have_count(1)
                await speak(ws, "And what about Paris?")
                await until(ws, "response.done")
                # The recorder's projection catches up, the page polls: the turn appears.
                await expect(marks).to_have_count(2)
                turns = sql_rows(
                    db_path, "SELECT latency_ms FROM turns WHERE session_id = 1 ORDER BY turn"
                )
                labels = await page.locator(".turn-mark .turn-label").all_text_contents()
                assert labels == [expected_label(t["latency_ms"]) for t in turns]
                shot = tmp_path / "ui-live.png"
                await page.screenshot(path=str(shot), full_page=True)
                publish(shot)
                assert errors == []
                await chromium.close()
        finally:
            process.terminate()
            await process.wait()
