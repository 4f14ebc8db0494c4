"""`rtrec show`, `rtrec sql`, `rtrec reproject`, and the reading commands catching up."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from rtrec.recorder.service import Recorder
from rtrec.sim.server import Simulator
from rtrec.store.db import open_db
from rtrec.store.importer import import_jsonl
from tests.conftest import REAL_SESSIONS, run_cli
from tests.sdk_call import FORECAST, TRUNCATE_AT_MS, CallLog, record_call
from tests.waiting import eventually


@pytest.fixture(scope="module")
def call(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, CallLog]:
    db_path = str(tmp_path_factory.mktemp("call") / "call.db")
    return db_path, record_call(db_path)


def _ok(result: subprocess.CompletedProcess[bytes]) -> str:
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def test_show_prints_the_conversation_as_a_transcript(call):
    db_path, log = call
    out = _ok(run_cli("show", "last", db_path=db_path))
    lines = out.splitlines()
    assert lines[0].startswith("Session 1 (") and "gpt-realtime" in lines[0]
    assert "voice marin" in lines[1] and "server_vad" in lines[1] and "get_weather" in lines[1]
    body = "\n".join(lines[3:])
    # Who said what, in order, with tool call, result, cut and deletion.
    order = [
        "user (audio",
        "What's the weather like in Paris today?",
        'assistant → get_weather({"city": "Paris"})',
        "tool result (call_",
        json.dumps(FORECAST),
        "assistant (audio",
        "In Paris it is sunny and 22 degrees right now.",
        "Could you tell me a short story?",
        f"[cut at {TRUNCATE_AT_MS / 1000:.1f} s]",
        "Once upon a time",
        "Thanks, that's all for now.",
        "[deleted at",
        "Note to self: delete me.",
        "error invalid_request_error item_not_found",
    ]
    positions = [body.find(text) for text in order]
    assert -1 not in positions, [t for t, p in zip(order, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    responses = [line for line in lines if "↳ response" in line]
    assert [r.split()[2] for r in responses] == log.responses
    assert all("completed" in r and re.search(r"tokens \d+ in / \d+ out", r) for r in responses)
    assert sum("latency" in r for r in responses) == 3  # the spoken answers to the 3 turns
    assert "(client event conversation.item.delete #" in body


def test_show_json_is_the_projected_state(call):
    db_path, log = call
    state = json.loads(_ok(run_cli("show", "1", "--json", db_path=db_path)))
    assert set(state) >= {"session", "items", "responses", "turns", "errors", "session_updates"}
    assert state["session"]["config"]["voice"] == "marin"
    assert [i["position"] for i in state["items"]] == [0, 1, 2, 3, 4, 5, 6, 7, None]
    story = state["items"][5]
    assert story["truncated_ms"] == TRUNCATE_AT_MS and story["content"][0]["type"] == "output_audio"
    assert [r["response_id"] for r in state["responses"]] == log.responses
    assert state["errors"][0]["client_event_id"] == "evt_missing"


def test_sql_formats_parameters_and_stdin(call):
    db_path, _ = call
    query = (
        "SELECT position, role, text FROM items WHERE session_id = :s AND role = :r "
        "ORDER BY ordinal"
    )
    rows = json.loads(
        _ok(run_cli("sql", query, "-p", "s", "1", "-p", "r", "user", "--json", db_path=db_path))
    )
    assert [r["position"] for r in rows] == [0, 4, 6, None]
    as_csv = list(
        csv.reader(
            io.StringIO(
                _ok(
                    run_cli(
                        "sql", query, "-p", "s", "1", "-p", "r", "user", "--csv", db_path=db_path
                    )
                )
            )
        )
    )
    assert as_csv[0] == ["position", "role", "text"] and as_csv[1][:2] == ["0", "user"]
    table = _ok(
        run_cli(
            "sql", "-", "-p", "s", "1", "-p", "r", "user", db_path=db_path, input=query.encode()
        )
    ).splitlines()
    assert table[0].split() == ["position", "role", "text"] and set(table[1]) == {"-", " "}
    assert table[2].split()[:2] == ["0", "user"]
    blob = json.loads(
        _ok(
            run_cli(
                "sql",
                "SELECT audio FROM event WHERE audio IS NOT NULL LIMIT 1",
                "--json",
                db_path=db_path,
            )
        )
    )
    assert set(blob[0]["audio"]) == {"$base64"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("DELETE FROM session", "refused: DELETE on session would write"),
        ("SELECT nope FROM items", "no such column: nope"),
        ("SELECT 1; SELECT 2", "one statement at a time"),
        ("SELECT :missing", "binding parameter :missing. (give it with -p NAME VALUE)"),
    ],
)
def test_sql_mistakes_are_one_line_and_nothing_changes(call, query, message):
    db_path, _ = call
    before = sqlite3.connect(db_path).execute("SELECT count(*) FROM event").fetchone()
    result = run_cli("sql", query, db_path=db_path)
    assert result.returncode == 1
    err = result.stderr.decode()
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert sqlite3.connect(db_path).execute("SELECT count(*) FROM event").fetchone() == before


def test_sessions_lists_audio_seconds_from_the_projection(call):
    db_path, log = call
    rows = json.loads(_ok(run_cli("sessions", "--json", db_path=db_path)))
    row = rows[0]
    # The columns of migration 0001 are all still there, and the new ones.
    assert {"session_id", "uuid", "started_at", "ended_at", "end_reason", "model", "event_count",
            "duration_ms", "source", "upstream", "path", "query", "client_addr", "subprotocol",
            "refused_status", "client_close_code", "client_close_reason", "upstream_close_code",
            "upstream_close_reason", "parent_id"} <= set(row)  # fmt: skip
    assert row["audio_in_ms"] == log.audio_in_bytes / 48 and row["voice"] == "marin"
    table = _ok(run_cli("sessions", db_path=db_path)).splitlines()
    assert table[1].split()[8] == f"{log.audio_in_bytes / 48 / 1000:.1f}"  # "in s"


def test_show_errors_are_one_line(call, tmp_path):
    db_path, _ = call
    result = run_cli("show", "nosuch", db_path=db_path)
    assert result.returncode == 1 and b"no session 'nosuch'" in result.stderr
    missing = run_cli("show", "last", db_path=str(tmp_path / "none.db"))
    assert missing.returncode == 1 and b"no database at" in missing.stderr
    assert not (tmp_path / "none.db").exists()


def test_import_projects_at_once_and_reading_commands_catch_up(tmp_path):
    db_path = str(tmp_path / "r.db")
    fixture = REAL_SESSIONS / "test_openai_ws__test_tool_call_round.jsonl"
    _ok(run_cli("import", str(fixture), db_path=db_path))
    assert sqlite3.connect(db_path).execute("SELECT count(*) FROM items").fetchone() == (4,)
    # A session written without projecting it (an older rtrec, or a recorder killed
    # before its follower ran) is caught up by the next reading command.
    conn = open_db(db_path)
    with fixture.open("rb") as lines:
        import_jsonl(conn, lines, source_name="raw", project=False)
    conn.close()
    assert sqlite3.connect(db_path).execute("SELECT count(*) FROM items").fetchone() == (4,)
    out = _ok(
        run_cli(
            "sql", "SELECT session_id, count(*) FROM items GROUP BY 1", "--csv", db_path=db_path
        )
    )
    assert out.splitlines()[1:] == ["1,4", "2,4"]


async def test_a_killed_recorder_leaves_views_that_the_next_reader_completes(tmp_path):
    db_path = str(tmp_path / "killed.db")
    async with Simulator() as sim:
        recorder = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rtrec",
                "record",
                "--listen",
                "127.0.0.1:0",
                "--upstream",
                sim.url,
            ],
            env={**os.environ, "RTREC_DB": db_path},
            stderr=subprocess.PIPE,
        )
        try:
            line = await asyncio.to_thread(recorder.stderr.readline)  # type: ignore[union-attr]
            url = re.search(rb"relaying (ws://\S+)", line)[1].decode()  # type: ignore[index]
            async with connect(f"{url}/v1/realtime?model=gpt-realtime") as ws:
                hello = {"type": "input_text", "text": "Hi there"}
                item = {"type": "message", "role": "user", "content": [hello]}
                await ws.send(json.dumps({"type": "conversation.item.create", "item": item}))
                text_only = {"output_modalities": ["text"]}
                await ws.send(json.dumps({"type": "response.create", "response": text_only}))
                async for message in ws:
                    if json.loads(message)["type"] == "response.done":
                        break
                # Everything the client saw is in the log within the 100 ms flush interval.
                done = "SELECT count(*) FROM event WHERE type = 'response.done'"
                await eventually(
                    lambda: _count(db_path, done),
                    "the recorder committed the response.done the client saw",
                )
                recorder.send_signal(signal.SIGKILL)
                await asyncio.to_thread(recorder.wait)
        finally:
            if recorder.poll() is None:
                recorder.kill()
    out = json.loads(
        _ok(
            run_cli(
                "sql", "SELECT role, text FROM items ORDER BY position", "--json", db_path=db_path
            )
        )
    )
    assert out == [
        {"role": "user", "text": "Hi there"},
        {"role": "assistant", "text": "You said: Hi there. Got it, happy to help."},
    ]
    reason = _ok(run_cli("sql", "SELECT end_reason FROM sessions", "--csv", db_path=db_path))
    assert reason.splitlines()[1] == "interrupted"


def _count(db_path: str, sql: str) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def test_reproject_one_session_and_bad_references(call, tmp_path):
    db_path, _ = call
    assert b"reprojected 1 session" in run_cli("reproject", "last", db_path=db_path).stderr
    result = run_cli("reproject", "42", db_path=db_path)
    assert result.returncode == 1 and b"no session '42'" in result.stderr


def test_help_lists_the_new_commands():
    out = _ok(run_cli("--help"))
    for command in ("show", "sql", "reproject"):
        assert re.search(rf"^\s+{command}\s", out, re.MULTILINE)


async def test_show_a_refused_session(recorder, db_path):
    with pytest.raises(InvalidStatus):
        async with connect(f"{recorder.url}/v1/realtime?model=m&sim_status=429"):
            pass
    await recorder.writer.flush()
    out = await asyncio.to_thread(lambda: _ok(run_cli("show", "last", db_path=db_path)))
    assert "upstream_refused" in out and "refused the connection: HTTP 429" in out
    assert "(no conversation items)" in out


async def test_show_tells_the_relays_own_502_from_an_upstream_refusal(db_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        nowhere = f"ws://127.0.0.1:{closed.getsockname()[1]}"
        async with Recorder(db_path, upstream=nowhere, port=0, live_status=False) as rec:
            with pytest.raises(InvalidStatus) as refused:
                async with connect(f"{rec.url}/v1/realtime?model=m"):
                    pass
            assert refused.value.response.status_code == 502
            await rec.writer.flush()
    out = await asyncio.to_thread(lambda: _ok(run_cli("show", "last", db_path=db_path)))
    assert "rtrec cannot reach upstream" in out and "answered the client with HTTP 502" in out
    assert "the upstream refused" not in out
