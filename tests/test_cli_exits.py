"""How commands end, as README states it: one line and status 1 for every mistake, 130 for
Ctrl-C, 141 (quietly) when stdout's reader went away, one line when stdout is full."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REAL_SESSIONS, run_cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
FIXTURE = REAL_SESSIONS / "test_openai_ws__test_audio_in_server_vad_turn.jsonl"


def documented_status(what: str) -> int:
    """The exit status README's "Commands" section gives for `what`."""
    intro = README[README.index("## Commands") : README.index("### `rtrec record`")]
    found = re.search(rf"{what}.*?\*\*exit status (\d+)\*\*", intro, re.DOTALL)
    assert found, f"README does not state the exit status for {what!r}"
    return int(found[1])


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("exits") / "rtrec.db")
    for _ in range(2):
        assert run_cli("import", str(FIXTURE), "--db", path).returncode == 0
    return path


def one_line(result: subprocess.CompletedProcess[bytes]) -> str:
    stderr = result.stderr.decode()
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "Usage:" not in stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "give a command: record, sessions"),
        (["nosuch"], "No such command 'nosuch'"),
        (["sessions", "--bogus"], "No such option '--bogus'"),
        (["sessions", "extra"], "unexpected extra argument (extra)"),
        (["show"], "Missing argument 'SESSION'"),
        (["sql"], "Missing argument 'QUERY'"),
        (["diff", "1"], "Missing argument 'SESSION_B'"),
        (["sessions", "--db", "/"], "'--db': File '/' is a directory"),
        (["sessions", "--db", ""], "no database given (--db is empty)"),
        (["import", "/no/such/file.jsonl"], "'/no/such/file.jsonl' does not exist"),
        (["export-wav", "last", "--out", "x", "--split", "sentence"], "'sentence' is not one"),
        (["record", "--max-frame-mib", "0"], "--max-frame-mib"),
        (["replay", "last", "--speed", "0"], "bad --speed '0'"),
        (["replay", "last", "--idle-limit", "1e308"], "bad --idle-limit '1e308'"),
        (["replay", "last", "--idle-limit", "nan"], "bad --idle-limit 'nan'"),
        (["replay", "last", "--speed", "1e-300"], "bad --speed '1e-300'"),
        (["show", "99"], "no session '99'"),
        (["show", "9" * 30], f"no session '{'9' * 30}'"),
        (["sql", "SELECT :n", "-p", "n", "9" * 30], "beyond SQLite's 64-bit integers"),
        (["replay", "last", "--from", "1e308"], "nothing to replay"),
        (["replay", "last", "--from", "#" + "9" * 30], "nothing to replay"),
        (["show", "zz"], "no session 'zz'"),
    ],
)
def test_every_mistake_is_one_line_with_the_documented_status(db, args, needle):
    result = run_cli(*args, db_path=db)
    assert result.returncode == documented_status("Every mistake") == 1
    assert needle in one_line(result)
    assert result.stdout == b""


def test_an_idle_limit_at_the_top_of_its_range_replays(db):
    result = run_cli("replay", "last", "--idle-limit", "1000000", "--speed", "1000000", db_path=db)
    assert result.returncode == 0, result.stderr


READERS = [
    ["sessions"],
    ["sessions", "--json"],
    ["show", "last"],
    ["show", "last", "--json"],
    ["sql", "SELECT seq, type FROM events"],
    ["sql", "SELECT seq, type FROM events", "--csv"],
    ["diff", "1", "2"],
    ["export", "last"],
    ["replay", "last", "--speed", "1000000"],
    ["replay", "last", "--jsonl", "--speed", "1000000"],
    ["sessions", "--help"],
]


@pytest.mark.parametrize("args", READERS)
def test_a_full_stdout_is_one_line(db, args):
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [sys.executable, "-m", "rtrec", *args, "--db", db], stdout=full, stderr=subprocess.PIPE
        )
    assert "So does output that cannot be written" in " ".join(README.split())
    assert result.returncode == documented_status("Every mistake") == 1
    assert one_line(result) == "Error: cannot write to standard output: No space left on device"


@pytest.mark.parametrize("args", READERS)
def test_a_reader_that_went_away_ends_the_command_quietly(db, args):
    """The pipe's reader is gone before the first write: EPIPE, every time."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "rtrec", *args, "--db", db],
            stdout=write_end,
            stderr=subprocess.PIPE,
        )
    finally:
        os.close(write_end)
    assert result.returncode == documented_status("stops quietly with") == 141
    assert result.stderr == b""


def test_a_reader_that_stops_midway_ends_it_quietly_too(db):
    """`rtrec sql … | head -1`: head leaves after the first line, with megabytes to come
    (far more than a pipe holds, so the writer meets the closed pipe)."""
    rows = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 300000) "
    query = shlex.quote(rows + "SELECT i, 'a row of the table' FROM n")
    result = subprocess.run(
        f"set -o pipefail; {sys.executable} -m rtrec sql {query} --db {db} | head -1",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
    )
    assert result.returncode == 141
    assert result.stdout.count(b"\n") == 1 and result.stderr == b""


def test_session_prefixes_of_any_length(db, tmp_path):
    import json

    rows = json.loads(run_cli("sessions", "--json", db_path=db).stdout)
    uuids = [row["uuid"] for row in rows]
    for row in rows:
        uuid = row["uuid"]
        # The shortest prefix that names it alone; letters only count when they
        # cannot be read as an id.
        for length in range(1, 9):
            prefix = uuid[:length]
            unique = sum(u.startswith(prefix) for u in uuids) == 1
            if unique and (length >= 4 or not prefix.isdigit()):
                break
        shown = run_cli("show", prefix, "--json", db_path=db)
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["session"]["uuid"] == uuid
    assert run_cli("show", "1", db_path=db).returncode == 0  # a number is an id
    for command in ("show", "replay", "export", "export-wav"):
        help_text = run_cli(command, "--help").stdout.decode()
        assert "SESSION is a session id" in " ".join(help_text.split()), command


@pytest.mark.parametrize("pattern", ["a*", "", r"\b", "x?", '(?=")'])
def test_a_redact_pattern_that_matches_nothing_at_all_is_refused(db, pattern):
    result = run_cli("record", "--listen", "127.0.0.1:0", "--redact", pattern, db_path=db)
    assert "matches the empty string" in one_line(result) and result.returncode == 1


def test_a_bad_rtrec_loop_is_refused(db):
    result = run_cli("replay", "last", "--speed", "1000", db_path=db, env={"RTREC_LOOP": "bogus"})
    assert "bad RTREC_LOOP 'bogus': expected auto, asyncio, uvloop" in one_line(result)
    for loop in ("asyncio", "AUTO", ""):
        ok = run_cli("replay", "last", "--speed", "1000", db_path=db, env={"RTREC_LOOP": loop})
        assert ok.returncode == 0, ok.stderr


def test_sql_json_stays_json_for_infinities(db):
    import json

    result = run_cli("sql", "SELECT 1e999 AS up, -1e999 AS down", "--json", db_path=db)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"up": "Infinity", "down": "-Infinity"}]


def test_a_bound_beyond_the_log_means_everything(db):
    whole = run_cli("replay", "last", "--jsonl", "--speed", "1000000", db_path=db)
    until = run_cli(
        "replay", "last", "--jsonl", "--speed", "1000000", "--until", "9" * 25 + ":00", db_path=db
    )
    assert until.returncode == 0, until.stderr
    assert until.stdout == whole.stdout


def test_a_query_that_is_not_utf8_is_one_line(db):
    result = run_cli("sql", "-", db_path=db, input=b"SELECT '\xff\xfe'")
    assert "the query on stdin is not UTF-8 text" in one_line(result)
    assert result.returncode == 1
