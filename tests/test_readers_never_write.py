"""A command that reads never writes: no file created, changed or removed, anywhere.

Every reading command is run as a user runs it, on missing, empty, foreign, older
and read-only databases, and on ones whose views are behind the log; the directory
is compared byte for byte before and after.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from rtrec.store.db import open_db
from rtrec.store.importer import import_jsonl
from rtrec.store.migrate import MIGRATION_TABLE, migrations, split_statements
from tests.conftest import REAL_SESSIONS, run_cli

FIXTURE = REAL_SESSIONS / "test_openai_ws__test_tool_call_round.jsonl"
AUDIO_FIXTURE = REAL_SESSIONS / "test_openai_ws__test_audio_in_server_vad_turn.jsonl"


def reading_commands(out_dir: Path) -> list[list[str]]:
    return [
        ["sessions"],
        ["sessions", "--json"],
        ["show", "last"],
        ["show", "last", "--json"],
        ["sql", "SELECT count(*) FROM items"],
        ["diff", "1", "last"],
        ["export", "last"],
        ["replay", "last", "--jsonl", "--speed", "1000000"],
        ["replay", "last", "--speed", "1000000"],
        ["export-wav", "2", "--out", str(out_dir)],
        ["sessions", "--csv"],
        ["view", "2", "-o", str(out_dir / "call.html")],
        ["otel", "--all", "--dry-run"],
    ]


def snapshot(directory: Path) -> dict[str, str]:
    """Every file under `directory` and a digest of its bytes."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def one_line_error(result: subprocess.CompletedProcess[bytes], needle: str) -> str:
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def place(tmp_path: Path) -> tuple[Path, Path]:
    """A directory for the database, and one outside it for export-wav's files."""
    (tmp_path / "db").mkdir()
    (tmp_path / "wav").mkdir()
    return tmp_path / "db", tmp_path / "wav" / "out"


def test_a_missing_database_is_not_created(place):
    where, out = place
    db_path = str(where / "missing.db")
    for args in reading_commands(out):
        one_line_error(run_cli(*args, "--db", db_path), f"no database at {db_path}")
    assert list(where.iterdir()) == []
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "is an empty file, not an rtrec database"),
        (b"this is not a database" * 300, "is not an SQLite database"),
    ],
)
def test_an_empty_or_foreign_file_is_left_as_it_is(place, content, needle):
    where, out = place
    path = where / "some.db"
    path.write_bytes(content)
    before = snapshot(where)
    for args in reading_commands(out):
        one_line_error(run_cli(*args, "--db", str(path)), f"{path} {needle}")
    assert snapshot(where) == before
    assert not out.exists()


def test_a_foreign_sqlite_database_is_named_and_left_as_it_is(place):
    where, out = place
    path = where / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.close()
    before = snapshot(where)
    for args in reading_commands(out):
        one_line_error(
            run_cli(*args, "--db", str(path)), f"{path} is not an rtrec database (it holds other"
        )
    assert snapshot(where) == before


def test_an_older_database_is_refused_until_a_writing_command_upgrades_it(place):
    where, out = place
    path = where / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(
        f"CREATE TABLE {MIGRATION_TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at TEXT NOT NULL)"
    )
    for statement in split_statements(migrations()[0].sql):
        conn.execute(statement)
    conn.execute(f"INSERT INTO {MIGRATION_TABLE} VALUES (1, 'event_log', 'then')")
    conn.close()
    before = snapshot(where)
    for args in reading_commands(out):
        line = one_line_error(run_cli(*args, "--db", str(path)), "is from an older rtrec")
        assert "rtrec reproject" in line
    assert snapshot(where) == before
    assert run_cli("reproject", "--db", str(path)).returncode == 0
    listed = run_cli("sessions", "--json", "--db", str(path))
    assert listed.returncode == 0 and json.loads(listed.stdout) == []


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with two sessions, written and closed as `rtrec import` leaves it."""
    path = tmp_path_factory.mktemp("recorded") / "rtrec.db"
    for fixture in (FIXTURE, AUDIO_FIXTURE):
        assert run_cli("import", str(fixture), "--db", str(path)).returncode == 0
    return path


def test_reading_an_up_to_date_database_changes_no_byte(place, recorded):
    where, out = place
    path = where / "rtrec.db"
    shutil.copy(recorded, path)
    before = snapshot(where)
    for args in reading_commands(out):
        result = run_cli(*args, "--db", str(path))
        assert result.returncode == 0, (args, result.stderr)
        assert result.stderr.decode().count("rtrec: note") == 0
        assert snapshot(where) == before, args  # not even a -wal or -shm left behind


def test_views_behind_the_log_are_rebuilt_in_memory(place, recorded):
    """A session written without its projection (a recorder killed early, an older
    rtrec) reads complete, and the file stays as it was."""
    where, out = place
    path = where / "rtrec.db"
    shutil.copy(recorded, path)
    conn = open_db(path)
    with FIXTURE.open("rb") as lines:
        import_jsonl(conn, lines, source_name="raw", project=False)
    conn.close()
    before = snapshot(where)
    rows = run_cli(
        "sql", "SELECT session_id, count(*) AS n FROM items GROUP BY 1", "--json", "--db", str(path)
    )
    assert rows.returncode == 0, rows.stderr
    assert json.loads(rows.stdout) == [
        {"session_id": 1, "n": 4},
        {"session_id": 2, "n": json.loads(rows.stdout)[1]["n"]},
        {"session_id": 3, "n": 4},
    ]
    note = rows.stderr.decode().strip()
    assert note.startswith("rtrec: note: the views of 1 session (3)") and "reproject" in note
    shown = run_cli("show", "3", "--db", str(path))
    assert shown.returncode == 0 and b"get_weather" in shown.stdout
    assert run_cli("diff", "1", "3", "--exit-code", "--db", str(path)).returncode == 0
    for args in reading_commands(out):
        assert run_cli(*args, "--db", str(path)).returncode == 0, args
    assert snapshot(where) == before
    # A command that writes stores them; the note is gone.
    assert run_cli("reproject", "3", "--db", str(path)).returncode == 0
    again = run_cli("sessions", "--db", str(path))
    assert again.returncode == 0 and again.stderr == b""


def test_every_reader_works_on_a_read_only_filesystem(tmp_path, recorded):
    mount = tmp_path / "ro"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        shutil.copy(recorded, mount / "rtrec.db")
        assert subprocess.run(["mount", "-o", "remount,ro", str(mount)]).returncode == 0
        before = snapshot(mount)
        for args in reading_commands(tmp_path / "wav"):
            result = run_cli(*args, "--db", str(mount / "rtrec.db"))
            assert result.returncode == 0, (args, result.stderr)
        assert snapshot(mount) == before
        import_there = run_cli("import", str(FIXTURE), "--db", str(mount / "rtrec.db"))
        one_line_error(import_there, "it is on a read-only file system")
        new_there = run_cli("import", str(FIXTURE), "--db", str(mount / "new.db"))
        one_line_error(new_there, f"cannot create database {mount / 'new.db'}: Read-only file")
        wav_there = run_cli("export-wav", "2", "--out", str(mount), "--db", str(mount / "rtrec.db"))
        one_line_error(wav_there, "it is on a read-only file system")
        assert snapshot(mount) == before
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
