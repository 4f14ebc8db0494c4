"""`rtrec diff`: two sessions' conversations compared by what they say."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import connect

from rtrec.diff import conversation_lines, diff_lines
from rtrec.recorder.service import Recorder
from rtrec.sim.server import Simulator
from tests.conftest import real_session_files, run_cli


def test_items_are_compared_by_what_they_say():
    items = [
        {"type": "message", "role": "user", "text": "Weather in Paris?", "item_id": "a"},
        {"type": "function_call", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        {"type": "function_call_output", "output": "sunny", "call_id": "call_1"},
        {"type": "message", "role": "assistant", "text": "Sunny.", "truncated_ms": 1200},
        {"type": "message", "role": "user", "text": "gone", "deleted": 1},
    ]
    assert conversation_lines(items) == [
        "user: Weather in Paris?",
        'tool call: get_weather({"city":"Paris"})',
        "tool output: sunny",
        "assistant: Sunny. [cut at 1.2 s]",
    ]
    renamed = [dict(item, item_id="other", call_id="call_2") for item in items]
    assert diff_lines({"items": items}, {"items": renamed}, "a", "b") == []
    changed = [*items[:3], {"type": "message", "role": "assistant", "text": "Rainy."}]
    lines = diff_lines({"items": items}, {"items": changed}, "a", "b")
    assert "-assistant: Sunny. [cut at 1.2 s]" in lines and "+assistant: Rainy." in lines


def test_diff_of_imported_sessions(db_path):
    first, second = real_session_files()[:2]
    for path in (first, first, second):
        assert run_cli("import", str(path), db_path=db_path).returncode == 0
    same = run_cli("diff", "1", "2", "--exit-code", db_path=db_path)
    assert same.returncode == 0, same.stderr
    assert "say the same" in same.stdout.decode()
    different = run_cli("diff", "1", "3", "--exit-code", db_path=db_path)
    assert different.returncode == 1
    assert "--- session 1" in different.stdout.decode()
    report = json.loads(run_cli("diff", "1", "3", "--json", db_path=db_path).stdout)
    assert report["same"] is False and report["a"]["session_id"] == 1 and report["diff"]


async def text_call(url: str, text: str) -> None:
    async with connect(url + "/v1/realtime?model=gpt-realtime") as ws:
        await ws.recv()
        await ws.send(
            json.dumps(
                {
                    "type": "session.update",
                    "session": {"type": "realtime", "output_modalities": ["text"]},
                }
            )
        )
        await ws.send(
            json.dumps(
                {
                    "type": "conversation.item.create",
                    "item": {
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": text}],
                    },
                }
            )
        )
        await ws.send(json.dumps({"type": "response.create"}))
        while json.loads(await ws.recv())["type"] != "response.done":
            pass


async def test_a_replay_against_a_live_server_compared_with_the_original(db_path):
    async with Simulator() as sim:
        async with Recorder(db_path, upstream=sim.url, port=0, live_status=False) as rec:
            await text_call(rec.url, "Hello there")
            await text_call(rec.url, "Something else entirely")
        replayed = await asyncio.to_thread(
            run_cli, "replay", "1", "--to", sim.url, "--speed", "4", db_path=db_path
        )
    assert replayed.returncode == 0, replayed.stderr
    same = run_cli("diff", "1", "last", "--exit-code", db_path=db_path)
    assert same.returncode == 0, same.stdout.decode() + same.stderr.decode()
    assert "user: Hello there" not in same.stdout.decode()  # nothing differs, nothing listed
    differs = run_cli("diff", "1", "2", db_path=db_path)
    assert "-user: Hello there" in differs.stdout.decode()
    assert "+user: Something else entirely" in differs.stdout.decode()
