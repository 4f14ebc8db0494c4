"""Replaying a recorded GPT-Live session: terminal view, exact JSONL, mock server, re-send.

The session is a real one: the openai SDK's GPT-Live client through the relay to the
simulator, a spoken question answered through a client delegation.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from rtrec.replay.selection import Selection
from rtrec.replay.server import ReplayServer
from rtrec.replay.session import ReplayOptions
from rtrec.replay.source import ReplaySource
from rtrec.sim.options import SimOptions
from rtrec.sim.server import Simulator
from tests.conftest import run_cli
from tests.live_calls import ANSWER, QUESTION, weather_call
from tests.replay_support import as_bytes, frames_of
from tests.test_live_sdk import record_weather_call


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, object]:
    db_path = str(tmp_path_factory.mktemp("live-replay") / "rtrec.db")
    call, _ = asyncio.run(record_weather_call(db_path, "client"))
    return db_path, call


def server_frames(db_path: str, session: int) -> list[bytes]:
    return [as_bytes(f.frame) for f in frames_of(db_path, session) if f.direction == "server"]


@pytest.mark.parametrize("pace", ["clock", "client"])
async def test_serve_satisfies_the_sdk_client(recorded, pace: str) -> None:
    db_path, original = recorded
    source = ReplaySource.open(db_path, "1", Selection())
    async with ReplayServer(source, ReplayOptions(pace=pace, speed=4)) as server:
        replayed = await weather_call(server.url.removesuffix("/v1"))
    # The SDK client finished its whole flow against the recording: it started the
    # session, answered the delegation the recording made and heard the answer.
    assert replayed.session_id == original.session_id  # type: ignore[attr-defined]
    assert replayed.delegation_id == original.delegation_id  # type: ignore[attr-defined]
    assert "".join(replayed.said).endswith(ANSWER)
    assert replayed.closed_usage == original.closed_usage  # type: ignore[attr-defined]
    received = [frame.encode() for d, frame in replayed.frames if d == "server"]
    assert received == server_frames(db_path, 1)  # byte for byte, in order
    report = server.reports[0]
    assert report.completed and report.path == "/v1/live/sessions"


def test_jsonl_is_export_exactly(recorded) -> None:
    db_path, _ = recorded
    exported = run_cli("export", "1", db_path=db_path)
    replayed = run_cli("replay", "1", "--jsonl", "--speed", "50", db_path=db_path)
    assert replayed.returncode == 0, replayed.stderr.decode()
    assert replayed.stdout == exported.stdout


def test_terminal_view_reads_as_the_call(recorded) -> None:
    db_path, original = recorded
    result = run_cli("replay", "1", "--speed", "50", db_path=db_path)
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode()
    assert "session.start  gpt-live-1, audio pcm16@24000, voice marin, delegation client" in text
    assert f"session.started  {original.session_id}" in text  # type: ignore[attr-defined]
    # Both speakers' transcripts grow where they arrived, interleaved (full duplex).
    assert streamed(text, "user transcript") == QUESTION
    assert streamed(text, "assistant transcript") == "Okay, let me check that." + ANSWER
    assert f"session.delegation.created  {original.delegation_id} → client" in text  # type: ignore[attr-defined]
    assert "user audio" in text and " appends" in text and "assistant audio" in text
    assert "session.closed  close_requested" in text


def streamed(text: str, label: str) -> str:
    """The fragments of one kind of streamed line, joined again."""
    fragments = []
    for line in text.splitlines():
        _, found, rest = line.partition(f"  {label}: ")
        if found:
            fragments.append(rest.removeprefix("…"))
    return "".join(fragments)


async def test_to_resends_to_the_recorded_path_of_a_live_server(recorded, tmp_path: Path) -> None:
    db_path, _ = recorded
    async with Simulator(SimOptions(), protocols=("live",)) as sim:
        result = await asyncio.to_thread(
            run_cli, "replay", "1", "--to", sim.url, "--speed", "4", db_path=db_path
        )
    assert result.returncode == 0, result.stderr.decode()
    with sqlite3.connect(db_path) as conn:
        new_id, path, protocol = conn.execute(
            "SELECT id, path, protocol FROM session WHERE parent_id = 1"
        ).fetchone()
        (provider,) = conn.execute(
            "SELECT provider_session_id FROM sessions WHERE session_id = ?", (new_id,)
        ).fetchone()
    assert (path, protocol) == ("/v1/live/sessions", "live")
    new = frames_of(db_path, new_id)
    sent = [as_bytes(f.frame) for f in new if f.direction == "client"]
    assert sent == [as_bytes(f.frame) for f in frames_of(db_path, 1) if f.direction == "client"]
    # The live server started a session of its own for the re-sent session.start.
    assert next(f.type for f in new if f.direction == "server") == "session.started"
    assert provider is None or provider.startswith("live_")


def test_to_an_imported_session_uses_the_protocols_own_path(tmp_path: Path) -> None:
    from rtrec.replay.resend import target_url
    from rtrec.replay.source import RecordedSession
    from rtrec.store.reader import SessionRef

    imported = RecordedSession(SessionRef(1, "u", 0, None), protocol="live")
    assert target_url("ws://127.0.0.1:9", imported) == "ws://127.0.0.1:9/v1/live/sessions"
    realtime = RecordedSession(SessionRef(1, "u", 0, None), model="gpt-realtime")
    assert target_url("ws://127.0.0.1:9", realtime) == (
        "ws://127.0.0.1:9/v1/realtime?model=gpt-realtime"
    )
