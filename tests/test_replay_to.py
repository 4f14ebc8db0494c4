"""`rtrec replay --to`: the recorded client events re-sent to a live (simulated) server."""

from __future__ import annotations

import asyncio
import sqlite3

from rtrec.sim.options import SimOptions
from rtrec.sim.server import Simulator
from tests.conftest import run_cli
from tests.replay_support import as_bytes, frames_of, record_sdk_call

KEY = "sk-replay-test-0123456789abcdef"


async def test_to_records_a_new_session_linked_to_the_original(db_path: str) -> None:
    original = await record_sdk_call(db_path)
    async with Simulator(SimOptions(require_key=KEY)) as sim:
        result = await asyncio.to_thread(
            run_cli,
            "replay",
            str(original),
            "--to",
            sim.url,
            db_path=db_path,
            env={"OPENAI_API_KEY": KEY},
        )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db_path) as conn:
        row = conn.execute(
            "SELECT id, source, parent_id, path, query, end_reason, client_close_code "
            "FROM session WHERE parent_id = ?",
            (original,),
        ).fetchone()
    new_id, source, parent, path, query, end_reason, close_code = row
    assert (source, parent, end_reason, close_code) == ("replay", original, "client_closed", 1000)
    # A bare origin was given: the original's path and query are used.
    assert (path, query) == ("/v1/realtime", "model=gpt-realtime")
    assert f"recorded session {new_id}" in result.stdout.decode()

    old, new = frames_of(db_path, original), frames_of(db_path, new_id)
    client = [as_bytes(f.frame) for f in old if f.direction == "client"]
    assert [as_bytes(f.frame) for f in new if f.direction == "client"] == client
    # The live server answered: the new session holds its own events, both directions.
    # (How many responses complete depends on the live server's speed: the recorded
    # timeline, not its answers, paces what is sent.)
    new_server_types = [f.type for f in new if f.direction == "server"]
    assert new_server_types[0] == "session.created"
    assert "session.updated" in new_server_types and "response.done" in new_server_types
    assert [f.seq for f in new] == list(range(len(new)))
    # The key came from OPENAI_API_KEY (the simulator refuses without it) and is not logged.
    with sqlite3.connect(db_path) as conn:
        dump = "\n".join(conn.iterdump())
    assert KEY not in dump


async def test_to_with_header_auth_and_a_refusing_server(db_path: str) -> None:
    original = await record_sdk_call(db_path)
    async with Simulator(SimOptions(require_key=KEY)) as sim:
        refused = await asyncio.to_thread(
            run_cli,
            "replay",
            str(original),
            "--to",
            sim.url,
            "--speed",
            "8",
            db_path=db_path,
            env={"OPENAI_API_KEY": ""},
        )
        accepted = await asyncio.to_thread(
            run_cli,
            "replay",
            str(original),
            "--to",
            f"{sim.url}/v1/realtime?model=gpt-realtime",
            "--header",
            f"Authorization: Bearer {KEY}",
            "--speed",
            "8",
            db_path=db_path,
            env={"OPENAI_API_KEY": ""},
        )
    stderr = refused.stderr.decode()
    assert refused.returncode != 0 and "refused the connection with HTTP 401" in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert accepted.returncode == 0, accepted.stderr
    with sqlite3.connect(db_path) as conn:
        linked = conn.execute("SELECT count(*) FROM session WHERE parent_id = ?", (original,))
        assert linked.fetchone()[0] == 1  # the refused attempt left no session behind
