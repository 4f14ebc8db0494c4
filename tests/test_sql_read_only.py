"""`rtrec sql` runs the user's SQL and nothing it could write with: not rows, not
schema, not settings, not other files (ATTACH, VACUUM INTO).  Ctrl-C stops a long query.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REAL_SESSIONS, run_cli
from tests.test_cli_exits import documented_status

FIXTURE = REAL_SESSIONS / "test_openai_ws__test_tool_call_round.jsonl"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sql") / "rtrec.db"
    assert run_cli("import", str(FIXTURE), "--db", str(path)).returncode == 0
    return path


@pytest.fixture
def db(tmp_path: Path, recorded: Path) -> Path:
    (tmp_path / "db").mkdir()
    shutil.copy(recorded, tmp_path / "db" / "rtrec.db")
    return tmp_path / "db" / "rtrec.db"


def tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(
    ("query", "refused"),
    [
        ("VACUUM INTO '{dir}/copy.db'", "VACUUM (INTO) write files"),
        ("VACUUM", "VACUUM (INTO) write files"),
        ("ATTACH '{dir}/new.db' AS other", "ATTACH"),
        ("ATTACH ':memory:' AS scratch", "ATTACH"),
        ("DETACH main", "DETACH"),
        ("DELETE FROM session", "DELETE on session would write"),
        ("INSERT INTO session (uuid) VALUES ('x')", "INSERT on session would write"),
        ("UPDATE session SET model = 'x'", "UPDATE on session would write"),
        ("CREATE TABLE mine (a)", "CREATE TABLE would write"),
        ("CREATE TEMP TABLE mine (a)", "CREATE TEMP TABLE would write"),
        ("CREATE TEMP VIEW mine AS SELECT 1", "CREATE TEMP VIEW would write"),
        ("CREATE INDEX mine ON event (type)", "CREATE INDEX would write"),
        ("CREATE TRIGGER mine AFTER INSERT ON session BEGIN SELECT 1; END", "CREATE TRIGGER"),
        ("DROP VIEW items", "DROP VIEW would write"),
        ("ALTER TABLE session ADD COLUMN mine", "ALTER TABLE would write"),
        ("ANALYZE", "would write"),
        ("REINDEX", "REINDEX would write"),
        ("PRAGMA user_version = 7", "PRAGMA user_version = 7 would change a setting"),
        ("PRAGMA journal_mode = DELETE", "PRAGMA journal_mode = DELETE would change a setting"),
        ("PRAGMA wal_checkpoint(TRUNCATE)", "PRAGMA wal_checkpoint"),
        ("PRAGMA optimize", "PRAGMA optimize may write"),
        ("PRAGMA writable_schema = 1", "PRAGMA writable_schema = 1"),
        ("SELECT * FROM pragma_user_version", None),
    ],
)
def test_every_statement_that_would_write_is_refused(db, tmp_path, query, refused):
    query = query.format(dir=tmp_path)
    before = tree(tmp_path)
    result = run_cli("sql", query, "--db", str(db))
    if refused is None:
        assert result.returncode == 0, result.stderr
    else:
        stderr = result.stderr.decode()
        assert result.returncode == 1, stderr
        assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
        assert stderr.startswith("Error: refused: ") and refused in stderr, stderr
        assert "rtrec sql only reads" in stderr
    assert tree(tmp_path) == before  # no new file (copy.db, new.db), no byte changed


@pytest.mark.parametrize(
    "query",
    [
        "PRAGMA table_info(event)",
        "SELECT name FROM pragma_table_info('items')",
        "PRAGMA user_version",
        "PRAGMA journal_mode",
        "PRAGMA integrity_check",
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 5) SELECT * FROM n",
        "SELECT json_extract(payload, '$.type') FROM events LIMIT 1",
    ],
)
def test_reading_statements_still_run(db, tmp_path, query):
    before = tree(tmp_path)
    result = run_cli("sql", query, "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert result.stdout
    assert tree(tmp_path) == before


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_ctrl_c_interrupts_a_long_query(db):
    endless = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "rtrec", "sql", endless, "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        # The query is running once the database is open (its -shm exists) and the
        # process has spent far more CPU than opening it takes.  Polling another
        # process's state: there is nothing to await.
        shm = Path(str(db) + "-shm")
        while not shm.exists():
            assert process.poll() is None, process.communicate()
            time.sleep(0.01)
        opened = cpu_seconds(process.pid)
        while cpu_seconds(process.pid) < opened + 0.5:
            assert process.poll() is None, process.communicate()
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == documented_status("Ctrl-C") == 130
    assert out == b""
    assert err.decode() == "rtrec: interrupted\n"
    assert not shm.exists()  # closed cleanly: SQLite removed its files
