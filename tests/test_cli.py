"""The command line as users run it: real processes, real files, clear errors."""

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
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import real_session_files, run_cli, start_recorder


def assert_one_line_error(result, *needles: str) -> str:
    stderr = result.stderr.decode()
    assert result.returncode != 0
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_bad_database_paths(tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 500)
    assert_one_line_error(run_cli("sessions", "--db", str(garbage)), "not an SQLite database")
    missing_dir = tmp_path / "nope" / "x.db"
    assert_one_line_error(run_cli("demo", "--db", str(missing_dir)), "cannot create database")
    assert_one_line_error(
        run_cli("record", "--db", str(missing_dir), "--listen", "127.0.0.1:0"),
        "cannot create database",
    )
    assert_one_line_error(run_cli("sessions", "--db", str(tmp_path / "absent.db")), "no database")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_directory(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert_one_line_error(run_cli("demo", "--db", str(locked / "x.db")), "cannot create database")


def test_newer_database(db_path):
    run_cli("import", str(real_session_files()[0]), db_path=db_path)
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO rtrec_migration VALUES (999, 'future', 'x')")
    assert_one_line_error(run_cli("sessions", db_path=db_path), "newer rtrec")


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--listen", "nonsense"], "bad --listen"),
        (["--listen", "127.0.0.1:99999"], "bad --listen"),
        (["--listen", "[::1"], "bad --listen"),
        (["--upstream", "ftp://example.com"], "bad --upstream"),
        (["--upstream", "wss://"], "bad --upstream"),
        (["--upstream", "wss://host:notaport"], "bad --upstream"),
    ],
)
def test_bad_record_flags(db_path, args, needle):
    assert_one_line_error(run_cli("record", *args, db_path=db_path), needle)


def test_port_in_use(db_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert_one_line_error(
            run_cli("record", "--listen", f"127.0.0.1:{port}", db_path=db_path), "cannot listen"
        )


def test_unknown_session(db_path):
    run_cli("import", str(real_session_files()[0]), db_path=db_path)
    assert_one_line_error(run_cli("export", "12345", db_path=db_path), "no session '12345'")
    assert_one_line_error(run_cli("export", "zzzz", db_path=db_path), "no session 'zzzz'")


def test_import_export_round_trip(db_path, tmp_path):
    for path in real_session_files():
        imported = run_cli("import", str(path), db_path=db_path)
        assert imported.returncode == 0, imported.stderr
        first = run_cli("export", "last", db_path=db_path).stdout
        source = [json.loads(line) for line in path.read_text().splitlines()]
        exported = [json.loads(line) for line in first.decode().splitlines()]
        assert [json.loads(e["frame"]) for e in exported] == [s["event"] for s in source]
        assert [e["dir"] for e in exported] == [s["dir"] for s in source]
        assert [e["t"] for e in exported] == [s["t"] for s in source]
        # import(export(s)) gives back s, frame for frame.
        copy = tmp_path / "copy.jsonl"
        copy.write_bytes(first)
        assert run_cli("import", str(copy), db_path=db_path).returncode == 0
        assert run_cli("export", "last", db_path=db_path).stdout == first


def test_import_is_all_or_nothing(db_path, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"t": 0, "dir": "server", "frame": "{\\"type\\":\\"session.created\\"}"}\n'
        '{"type": "response.create"}\n'
        "\n"
        '{"t": 1, "dir": "client", "frame": 42}\n'
    )
    assert_one_line_error(
        run_cli("import", str(bad), db_path=db_path), f"{bad}:4:", "nothing was imported"
    )
    # A failed import into a new database leaves no database (nor anything else) behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl"]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    assert_one_line_error(run_cli("import", str(empty), db_path=db_path), "no events")
    assert not os.path.exists(db_path)
    # Into an existing database: one transaction, and the file is as it was.
    assert run_cli("import", str(real_session_files()[0]), db_path=db_path).returncode == 0
    before = Path(db_path).read_bytes()
    listing = sorted(p.name for p in tmp_path.iterdir())
    assert_one_line_error(run_cli("import", str(bad), db_path=db_path), "nothing was imported")
    assert Path(db_path).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing


def test_import_from_stdin_and_bare_events(db_path):
    lines = (
        b'{"type": "session.update", "session": {}}\n{"type": "session.updated", "session": {}}\n'
    )
    assert run_cli("import", "-", db_path=db_path, input=lines).returncode == 0
    exported = [
        json.loads(x) for x in run_cli("export", "last", db_path=db_path).stdout.splitlines()
    ]
    assert [(e["t"], e["dir"]) for e in exported] == [(0.0, "client"), (0.02, "server")]


def test_sessions_json_keys(db_path):
    run_cli("import", str(real_session_files()[0]), db_path=db_path)
    (row,) = json.loads(run_cli("sessions", "--json", db_path=db_path).stdout)
    for key in (
        "session_id",
        "uuid",
        "started_at",
        "ended_at",
        "end_reason",
        "model",
        "event_count",
    ):
        assert key in row
    assert row["end_reason"] == "imported" and row["event_count"] > 0
    table = run_cli("sessions", db_path=db_path).stdout.decode()
    assert row["uuid"][:8] in table
    # --csv: the same rows, every column, a header line first.
    (csv_row,) = csv.DictReader(
        io.StringIO(run_cli("sessions", "--csv", db_path=db_path).stdout.decode())
    )
    assert list(csv_row) == list(row)
    assert csv_row["uuid"] == row["uuid"] and int(csv_row["event_count"]) == row["event_count"]


def test_demo_records_a_session_with_everything_in_it(db_path):
    result = run_cli("demo", db_path=db_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Recorded session" in result.stdout.decode()
    listing = run_cli("sessions", db_path=db_path).stdout.decode()
    assert "client_closed" in listing
    with sqlite3.connect(db_path) as conn:
        types = {row[0] for row in conn.execute("SELECT DISTINCT type FROM event")}
        audio = dict(conn.execute("SELECT direction, sum(length(audio)) FROM event GROUP BY 1"))
        source = conn.execute("SELECT source FROM session").fetchone()[0]
    assert source == "demo"
    assert audio["client"] > 24000 * 2 * 3 and audio["server"] > 24000 * 2 * 3
    for kind in (
        "response.function_call_arguments.done",
        "conversation.item.truncate",
        "conversation.item.truncated",
        "conversation.item.delete",
        "conversation.item.deleted",
        "conversation.item.input_audio_transcription.completed",
        "input_audio_buffer.speech_stopped",
    ):
        assert kind in types, kind
    with open(db_path, "rb") as f:
        assert b"sk-demo-0000" not in f.read()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_record_stops_cleanly_on_signals(db_path, simulator, signum):
    process, relay_url, _banner = await start_recorder(db_path, simulator.url)
    async with connect(relay_url + "/v1/realtime") as ws:
        await ws.recv()  # session.created
        await ws.send('{"type":"response.create"}')
        process.send_signal(signum)
        with pytest.raises(ConnectionClosed):
            while True:
                await ws.recv()
        assert ws.close_code == 1001
    assert await asyncio.wait_for(process.wait(), 30) == 0
    rest = (await process.stderr.read()).decode()
    assert "Traceback" not in rest
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT end_reason, ended_at IS NOT NULL FROM session").fetchone()
        events = conn.execute("SELECT count(*) FROM event").fetchone()[0]
    assert row == ("relay_stopped", 1)
    assert events >= 2


def test_help_lists_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    text = result.stdout.decode()
    for command in ("record", "sessions", "export", "import", "demo"):
        assert re.search(rf"^\s+{command}\b", text, re.MULTILINE), command


def test_db_comes_from_the_environment(tmp_path):
    db = tmp_path / "env.db"
    result = run_cli("import", str(real_session_files()[0]), env={"RTREC_DB": str(db)})
    assert result.returncode == 0 and Path(db).exists()
