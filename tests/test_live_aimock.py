"""The real openai SDK through `rtrec record` to aimock 1.43, a third-party GPT-Live mock.

aimock replays the GPT-Live sessions its package ships (`fixtures/openai-live-*.json`:
a client delegation answered with thinking and commentary, and a Responses delegation
whose two function calls the client answers), checking every client event against
them and minting fresh ids, which the client echoes.  Every frame comes back from
`rtrec export` exactly, and the views hold what was said and done.
"""

from __future__ import annotations

import asyncio
import json
import signal
from typing import Any

import pytest

from tests.aimock import aimock, fixture, skip_without_aimock
from tests.conftest import start_recorder
from tests.live_calls import CallLog, follow_script
from tests.test_live_sdk import assert_exact, exported, rows


def script(name: str) -> list[dict[str, Any]]:
    data = json.loads(fixture(name).read_text())
    return data["fixtures"][0]["response"]["live"]["entries"]


async def record(db_path: str, name: str) -> CallLog:
    skip_without_aimock()
    async with aimock(fixture(name)) as origin:
        process, relay_url, _ = await start_recorder(db_path, origin)
        try:
            return await follow_script(relay_url, script(name))
        finally:
            process.send_signal(signal.SIGINT)
            assert await asyncio.wait_for(process.wait(), 30) == 0


@pytest.mark.parametrize("name", ["openai-live-client.json", "openai-live-managed.json"])
async def test_every_frame_through_the_relay_to_aimock_comes_back_exactly(db_path, name):
    call = await record(db_path, name)
    lines = exported(db_path)
    assert_exact(lines, call.frames, set())
    assert len(lines) == len(script(name))  # aimock played its whole session
    (session,) = rows(db_path, "SELECT * FROM sessions")
    assert session["protocol"] == "live"
    assert session["model"] == "gpt-live-1"
    assert session["provider_session_id"].startswith("aimock-")  # minted afresh
    assert session["usage_seconds"] == 1
    assert session["closed_reason"] == "close_requested"
    assert session["audio_in_ms"] == pytest.approx(12 / 48)  # six 16-bit samples each way
    assert session["audio_out_ms"] == pytest.approx(12 / 48)


async def test_a_client_delegation_answered_with_thinking_and_commentary(db_path):
    await record(db_path, "openai-live-client.json")
    (call,) = rows(db_path, "SELECT kind, name, output, answer_ms FROM tool_calls")
    assert call["kind"] == "delegation" and call["name"] == "client"
    assert call["output"] == (
        "The fictional red and blue sensor checks are still pending.\n"
        "The fictional red sensor reads seven."
    )
    assert call["answer_ms"] >= 0


async def test_a_responses_delegation_with_two_function_calls(db_path):
    await record(db_path, "openai-live-managed.json")
    items = rows(db_path, "SELECT type, name, arguments, output FROM items ORDER BY position")
    assert items == [
        {
            "type": "function_call",
            "name": "read_red",
            "arguments": "{}",
            "output": '{"sensor":"read_red","value":7}',
        },
        {
            "type": "function_call",
            "name": "read_blue",
            "arguments": "{}",
            "output": '{"sensor":"read_blue","value":9}',
        },
    ]
    calls = rows(db_path, "SELECT kind, name, output FROM tool_calls ORDER BY called_ms, kind")
    assert [(c["kind"], c["name"]) for c in calls] == [
        ("delegation", "responses"),
        ("function_call", "read_red"),
        ("function_call", "read_blue"),
    ]
