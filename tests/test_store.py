"""The event log's file: creation, migrations, append-only, refusals, crash recovery."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from rtrec.errors import DatabaseError, NewerDatabaseError
from rtrec.store.db import PAGE_SIZE, open_db
from rtrec.store.liveness import RecorderLock
from rtrec.store.migrate import latest_version, migrations, split_statements

ROOT = Path(__file__).resolve().parents[1]


def test_new_database_is_private_wal_and_migrated(db_path):
    conn = open_db(db_path)
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
    versions = [row[0] for row in conn.execute("SELECT version FROM rtrec_migration ORDER BY 1")]
    assert versions == list(range(1, latest_version() + 1))
    conn.close()


def test_events_are_append_only(db_path):
    conn = open_db(db_path)
    conn.execute(
        "INSERT INTO session (uuid, source, started_at, started_ns) VALUES ('u', 'test', 'x', 0)"
    )
    conn.execute(
        "INSERT INTO event (session_id, seq, t_ns, wall_ns, direction, frame) "
        "VALUES (1, 0, 0, 0, 'client', 'x')"
    )
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE event SET frame = 'y'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM event")
    assert conn.execute("SELECT frame FROM event").fetchall() == [("x",)]


def test_a_newer_database_is_refused(db_path):
    open_db(db_path).close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO rtrec_migration VALUES (999, 'future', 'x')")
    with pytest.raises(NewerDatabaseError, match="newer rtrec"):
        open_db(db_path)


def test_foreign_files_are_refused(tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(os.urandom(8192))
    with pytest.raises(DatabaseError, match="not an SQLite database"):
        open_db(str(garbage))
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE customers (id)")
    with pytest.raises(DatabaseError, match="not an rtrec database"):
        open_db(str(other))
    with pytest.raises(DatabaseError, match="cannot create"):
        open_db(str(tmp_path / "missing-dir" / "x.db"))
    with pytest.raises(DatabaseError, match="no database"):
        open_db(str(tmp_path / "absent.db"), create=False)


def test_concurrent_first_opens_migrate_once(db_path):
    errors: list[BaseException] = []

    def opener() -> None:
        try:
            open_db(db_path).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sqlite3.connect(db_path) as conn:
        assert (
            conn.execute("SELECT count(*) FROM rtrec_migration").fetchone()[0] == latest_version()
        )


def _open_session(conn: sqlite3.Connection, recorder: str) -> int:
    cursor = conn.execute(
        "INSERT INTO session (uuid, source, started_at, started_ns, recorder) "
        "VALUES (?, 'record', 'x', 1000, ?)",
        (f"uuid-{recorder}", recorder),
    )
    conn.execute(
        "INSERT INTO event (session_id, seq, t_ns, wall_ns, direction, frame) "
        "VALUES (?, 0, 5, 1700000000000000000, 'client', 'x')",
        (cursor.lastrowid,),
    )
    return int(cursor.lastrowid)


def test_sessions_of_a_dead_recorder_become_interrupted(db_path):
    conn = open_db(db_path)
    live = RecorderLock(db_path)
    dead = _open_session(conn, "deadrecorder")
    alive = _open_session(conn, live.recorder_id)
    conn.close()
    conn = open_db(db_path)
    rows = dict(conn.execute("SELECT id, end_reason FROM session").fetchall())
    assert rows == {dead: "interrupted", alive: None}
    ended_ns = conn.execute("SELECT ended_ns FROM session WHERE id = ?", (dead,)).fetchone()[0]
    assert ended_ns == 1700000000000000000  # the time of its last event
    live.release()
    conn.close()
    conn = open_db(db_path)
    assert conn.execute("SELECT end_reason FROM session WHERE id = ?", (alive,)).fetchone() == (
        "interrupted",
    )


def test_trigger_bodies_stay_whole():
    statements = split_statements(migrations()[0].sql)
    triggers = [s for s in statements if s.startswith("CREATE TRIGGER")]
    assert len(triggers) == 2 and all(s.rstrip().endswith("END;") for s in triggers)


def test_the_wheel_ships_the_migrations(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    (wheel,) = tmp_path.glob("rtrec-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for migration in (ROOT / "migrations").glob("*.sql"):
        assert f"rtrec/migrations/{migration.name}" in names
    # The page's front end, vendored libraries and their licences included (rtrec view, ui).
    static = ROOT / "rtrec" / "view" / "static"
    shipped = [p.relative_to(ROOT).as_posix() for p in static.rglob("*") if p.is_file()]
    assert "rtrec/view/static/vendor/uplot/LICENSE" in shipped
    assert "rtrec/view/static/page.html" in shipped
    for name in shipped:
        assert name in names, name


def test_sql_reads_a_database_on_a_read_only_filesystem(tmp_path):
    from tests.conftest import real_session_files, run_cli

    mount = tmp_path / "ro"
    mount.mkdir()
    if (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True
        ).returncode
        != 0
    ):
        pytest.skip("cannot mount a tmpfs here")
    try:
        db_path = str(mount / "rtrec.db")
        assert run_cli("import", str(real_session_files()[0]), db_path=db_path).returncode == 0
        assert subprocess.run(["mount", "-o", "remount,ro", str(mount)]).returncode == 0
        result = run_cli("sql", "SELECT count(*) AS n FROM items", "--json", db_path=db_path)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)[0]["n"] > 0
        write = run_cli("sql", "DELETE FROM session", db_path=db_path)
        assert write.returncode != 0 and "Traceback" not in write.stderr.decode()
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
