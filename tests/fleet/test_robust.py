"""export-parquet under trouble: killed mid-way, a call still recording, a database it
must not write, stale projections, audio, and every mistake a user can make."""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from openai import AsyncOpenAI

from rtrec.recorder.service import Recorder
from rtrec.sim.server import Simulator
from rtrec.store.db import open_db
from rtrec.store.importer import import_jsonl
from rtrec.store.projection import catch_up
from tests.conftest import real_session_files, run_cli
from tests.fleet.support import (
    TABLES,
    copy_db,
    dataset_rows,
    export,
    generated_lines,
    import_db,
    part_files,
    read_only,
    schema_types,
    view_rows,
)


def _same_as_views(db: Path, out: Path, recorder: str) -> None:
    for table in TABLES:
        types = schema_types(out, table)
        assert dataset_rows(out, table, types) == view_rows(db, table, recorder, types), table


def _files_beside(db: Path) -> dict[str, str]:
    """Every file in the database's directory, with a digest of its bytes."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(db.parent.iterdir())
        if p.is_file()
    }


@pytest.fixture
def long_db(tmp_path: Path) -> Path:
    """Small sessions and two long ones (60,000 events each), projected."""
    db = tmp_path / "long" / "long.db"
    db.parent.mkdir()
    conn = open_db(db)
    try:
        for file in real_session_files()[:3]:
            with open(file, "rb") as lines:
                import_jsonl(conn, lines, source_name=file.name)
        for n in range(2):
            import_jsonl(conn, generated_lines(60_000), source_name=f"long-{n}")
    finally:
        conn.close()
    return db


def test_a_run_killed_mid_way_leaves_a_readable_dataset(long_db, tmp_path):
    out = tmp_path / "ds"
    args = ["export-parquet", "--db", str(long_db), "--out", str(out), "--recorder", "host-k"]
    process = subprocess.Popen(
        [sys.executable, "-m", "rtrec", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # Kill it the moment a part is being written: a temporary part is on disk.
    deadline = time.monotonic() + 120
    while not list(out.glob("*/*/*/.part-*.tmp-*")):
        assert process.poll() is None, "the export finished before a part was seen being written"
        assert time.monotonic() < deadline
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL

    for part in out.glob("*/*/*/*.parquet"):  # every visible part is whole
        pq.read_table(part)
    for table in TABLES:  # the dataset reads, holding views' rows only, none twice
        types = schema_types(out, table)
        got = dataset_rows(out, table, types)
        assert not got - view_rows(long_db, table, "host-k", types), table

    stdout = export(long_db, out, "host-k")
    assert stdout.startswith("exported ")
    assert not list(out.glob("*/*/*/.part-*"))  # the killed run's temporary part is gone
    _same_as_views(long_db, out, "host-k")


def test_export_never_writes_the_database_and_folds_stale_projections(tmp_path):
    """Imported without projecting (as an older rtrec or a killed recorder leaves it):
    the export folds in memory, and the database's directory is byte for byte the same."""
    db = tmp_path / "db" / "stale.db"
    db.parent.mkdir()
    files = real_session_files()
    import_db(db, files[:2], project=False)  # stale, current, stale, current
    import_db(db, files[2:3])
    import_db(db, files[3:4], project=False)
    import_db(db, files[4:5])
    before = _files_beside(db)
    assert set(before) == {"stale.db"}
    out = tmp_path / "ds"
    assert export(db, out, "host-s").startswith("exported 5 sessions")
    assert _files_beside(db) == before

    fresh = copy_db(db, tmp_path / "fresh.db")  # the rows a catch-up would write
    conn = open_db(fresh)
    catch_up(conn)
    conn.close()
    _same_as_views(fresh, out, "host-s")
    items = (
        duckdb.connect()
        .execute(f"SELECT count(*) FROM read_parquet('{out}/items/*/*/*.parquet')")
        .fetchone()
    )
    assert items is not None and items[0] > 0


def test_with_audio_adds_the_decoded_audio(tmp_path):
    db = tmp_path / "a.db"
    import_db(db, real_session_files())
    out = tmp_path / "ds"
    export(db, out, "host-w", "--with-audio")
    conn = duckdb.connect()
    got = dict(
        (tuple(k), v)
        for *k, v in conn.execute(
            f"SELECT session_uuid, seq, audio FROM read_parquet('{out}/events/*/*/*.parquet') "
            "WHERE audio IS NOT NULL"
        ).fetchall()
    )
    lite = read_only(db)
    stored = {
        (u, seq): audio
        for u, seq, audio in lite.execute(
            "SELECT s.uuid, e.seq, e.audio FROM event e JOIN session s ON s.id = e.session_id "
            "WHERE e.audio IS NOT NULL"
        )
    }
    lite.close()
    assert stored and got == stored
    schema = json.loads((out / "_rtrec_schema.json").read_text())
    assert {"name": "audio", "type": "binary"} in schema["tables"]["events"]
    # payload stays as the view has it: audio elided to its length
    rows = conn.execute(
        f"SELECT payload, audio FROM read_parquet('{out}/events/*/*/*.parquet') "
        "WHERE type = 'input_audio_buffer.append'"
    ).fetchall()
    assert rows and all(json.loads(p)["audio"] == len(a) for p, a in rows)


async def _export(db: Path, out: Path, *flags: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rtrec", "export-parquet", "--db", str(db), "--out", str(out),
        "--recorder", "host-live", *flags,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    return stdout.decode()


async def test_a_call_still_recording_waits_for_its_end_unless_include_open(tmp_path):
    db = tmp_path / "live.db"
    out = tmp_path / "ds"
    async with Simulator() as sim:
        async with Recorder(str(db), upstream=sim.url, port=0, live_status=False) as rec:
            client = AsyncOpenAI(api_key="sk-test", websocket_base_url=f"{rec.url}/v1")
            async with client.realtime.connect(model="gpt-realtime") as conn:

                async def until(kind: str) -> Any:
                    async for event in conn:
                        if event.type == kind:
                            return event
                    raise AssertionError(kind)

                await until("session.created")
                await conn.conversation.item.create(
                    item={"type": "message", "role": "user",
                          "content": [{"type": "input_text", "text": "Hello there"}]}
                )  # fmt: skip
                await conn.response.create()
                await until("response.done")

                waiting = await _export(db, out)
                assert "1 session still recording" in waiting
                assert not list(out.glob("sessions/*/*/*.parquet"))

                opened = await _export(db, out, "--include-open")
                assert opened.startswith("exported 1 session")
                (ended_at, events) = (
                    duckdb.connect()
                    .execute(
                        f"SELECT s.ended_at, (SELECT count(*) FROM read_parquet("
                        f"'{out}/events/*/*/*.parquet')) "
                        f"FROM read_parquet('{out}/sessions/*/*/*.parquet') s"
                    )
                    .fetchone()
                )
                assert ended_at is None and events > 0
    ended = await _export(db, out)
    assert ended.startswith("exported 1 session")
    _same_as_views(db, out, "host-live")
    (ended_at,) = (
        duckdb.connect()
        .execute(f"SELECT ended_at FROM read_parquet('{out}/sessions/*/*/*.parquet')")
        .fetchone()
    )
    assert ended_at is not None


# ---- mistakes: one line on stderr, exit status 1 ----


def _fails(*args: str) -> str:
    result = run_cli(*args)
    stderr = result.stderr.decode()
    assert result.returncode == 1, (result.returncode, stderr)
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    return stderr


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, Path]:
    db = tmp_path / "s.db"
    import_db(db, real_session_files()[:2])
    out = tmp_path / "ds"
    export(db, out, "host-e")
    return db, out


def test_a_newer_dataset_schema_is_refused(small):
    db, out = small
    schema = json.loads((out / "_rtrec_schema.json").read_text())
    schema["version"] += 1
    (out / "_rtrec_schema.json").write_text(json.dumps(schema))
    assert "newer than this rtrec" in _fails(
        "export-parquet", "--db", str(db), "--out", str(out), "--recorder", "host-e"
    )
    assert "newer than this rtrec" in _fails("sql", "--parquet", str(out), "SELECT 1")


def test_a_column_that_would_change_type_is_refused(small):
    db, out = small
    schema = json.loads((out / "_rtrec_schema.json").read_text())
    for column in schema["tables"]["turns"]:
        if column["name"] == "latency_ms":
            column["type"] = "string"
    (out / "_rtrec_schema.json").write_text(json.dumps(schema))
    import_db(db, real_session_files()[2:3])
    stderr = _fails("export-parquet", "--db", str(db), "--out", str(out), "--recorder", "host-e")
    assert "turns.latency_ms is string in the dataset but double" in stderr


def test_mistakes_are_one_line(small, tmp_path):
    db, out = small
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    assert "holds no rtrec dataset" in _fails(
        "export-parquet", "--db", str(db), "--out", str(foreign)
    )
    assert "cannot name a partition" in _fails(
        "export-parquet", "--db", str(db), "--out", str(out), "--recorder", "a/b"
    )
    assert "is not a date" in _fails(
        "export-parquet", "--db", str(db), "--out", str(out), "--since", "yesterday"
    )
    assert "no database at" in _fails(
        "export-parquet", "--db", str(tmp_path / "none.db"), "--out", str(out)
    )
    assert not (tmp_path / "none.db").exists()
    assert "no session" in _fails(
        "export-parquet", "--db", str(db), "--out", str(out), "--recorder", "host-e", "99"
    )
    assert "already in" in _fails(
        "export-parquet", "--db", str(db), "--out", str(out), "--recorder", "host-other"
    )
    assert "is not an rtrec Parquet dataset" in _fails("sql", "--parquet", str(foreign), "SELECT 1")


def test_a_database_from_an_older_rtrec_is_refused_and_left_alone(tmp_path):
    db = tmp_path / "old" / "old.db"
    db.parent.mkdir()
    import_db(db, real_session_files()[:1])
    with sqlite3.connect(db) as conn:  # as if the last migration had not run yet
        conn.execute(
            "DELETE FROM rtrec_migration WHERE version = (SELECT max(version) FROM rtrec_migration)"
        )
    conn.close()
    before = _files_beside(db)
    stderr = _fails("export-parquet", "--db", str(db), "--out", str(tmp_path / "ds"))
    assert "from an older rtrec" in stderr and "rtrec reproject" in stderr
    assert _files_beside(db) == before


def test_a_second_run_for_the_same_recorder_is_refused_while_one_runs(small):
    db, out = small
    fd = os.open(out / "_rtrec_manifest" / "host-e.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        stderr = _fails(
            "export-parquet", "--db", str(db), "--out", str(out), "--recorder", "host-e"
        )
        assert "another export-parquet run is writing recorder host-e" in stderr
    finally:
        os.close(fd)


BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pyarrow", "duckdb"):
            raise ImportError(f"No module named {name!r}")
sys.meta_path.insert(0, Block())
from rtrec.cli.main import main
sys.argv = ["rtrec", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize(
    ("args", "package"),
    [
        (("export-parquet", "--out", "{out}"), "pyarrow"),
        (("sql", "--parquet", "{out}", "SELECT 1"), "duckdb"),
    ],
)
def test_without_the_fleet_extra_one_line_says_how_to_get_it(small, args, package):
    db, out = small
    argv = [a.format(out=out) for a in args]
    result = subprocess.run(
        [sys.executable, "-c", BLOCK, *argv, "--db", str(db)], capture_output=True, timeout=60
    )
    stderr = result.stderr.decode()
    assert result.returncode == 1 and stderr.count("\n") == 1, stderr
    assert f"needs {package}, from the fleet extra" in stderr and ".[fleet]" in stderr


def test_views_rows_are_counted_once_in_the_manifest(small):
    db, out = small
    manifest = json.loads((out / "_rtrec_manifest" / "host-e.json").read_text())
    rows: Counter[str] = Counter()
    for entry in manifest["sessions"].values():
        rows.update(entry["rows"])
    lite = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
    for table in TABLES:
        (count,) = lite.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert rows.get(table, 0) == count, table
    lite.close()
    assert part_files(out)
