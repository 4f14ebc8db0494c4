"""rtrec export-parquet: three recorders into one dataset, read back by DuckDB.

The dataset must hold exactly the rows of each database's own views, unioned, with
`recorder` and `session_uuid` beside them; re-runs add nothing; a new session adds
only its rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from tests.conftest import real_session_files
from tests.fleet.support import (
    RECORDERS,
    TABLES,
    TOOL_ERROR,
    copy_db,
    dataset_rows,
    export,
    import_db,
    other_protocol_fixtures,
    part_files,
    read_only,
    schema_types,
    view_rows,
)


def test_the_fleet_has_what_the_checks_need(fleet):
    protocols = {f.parent.name for f in other_protocol_fixtures()}
    assert protocols == {"live", "gemini"}, "the GPT-Live and Gemini fixtures were not found"


@pytest.mark.parametrize("table", TABLES)
def test_duckdb_reads_the_same_rows_as_each_databases_views(fleet, dataset, table):
    types = schema_types(dataset, table)
    expected: Counter = Counter()
    for name, db in fleet.items():
        expected += view_rows(db, table, name, types)
    got = dataset_rows(dataset, table, types)
    assert got == expected
    if table in ("sessions", "events", "items", "responses", "turns"):
        recorders = {dict(row)["recorder"] for row in got}
        assert recorders == set(RECORDERS), table


def test_counts_latencies_tokens_and_texts_per_recorder(fleet, dataset):
    conn = duckdb.connect()

    def parts(table: str) -> str:
        return f"read_parquet('{dataset}/{table}/*/*/*.parquet', hive_partitioning = true)"

    def ours(sql: str, name: str) -> list[tuple]:
        return sorted(conn.execute(sql, [name]).fetchall(), key=repr)

    for name, db in fleet.items():
        lite = read_only(db)

        def theirs(sql: str, lite: sqlite3.Connection = lite) -> list[tuple]:
            return sorted(lite.execute(sql).fetchall(), key=repr)

        for table in TABLES:
            (count,) = lite.execute(f"SELECT count(*) FROM {table}").fetchone()
            got = 0
            if (dataset / table).exists():
                sql = f"SELECT count(*) FROM {parts(table)} WHERE recorder = ?"
                (got,) = conn.execute(sql, [name]).fetchone()
            assert got == count, (name, table)
        assert ours(
            f"SELECT session_uuid, turn, latency_ms FROM {parts('turns')} WHERE recorder = ?", name
        ) == theirs(
            "SELECT s.uuid, t.turn, t.latency_ms FROM turns t JOIN session s ON s.id = t.session_id"
        )
        assert ours(
            f"SELECT sum(total_tokens) FROM {parts('responses')} WHERE recorder = ?", name
        ) == theirs("SELECT sum(total_tokens) FROM responses")
        assert ours(
            f"SELECT session_uuid, position, text FROM {parts('items')} WHERE recorder = ?", name
        ) == theirs(
            "SELECT s.uuid, i.position, i.text FROM items i JOIN session s ON s.id = i.session_id"
        )
        lite.close()


def test_the_relay_calls_are_there(dataset):
    conn = duckdb.connect()
    sessions = f"read_parquet('{dataset}/sessions/*/*/*.parquet', hive_partitioning = true)"
    calls = f"read_parquet('{dataset}/tool_calls/*/*/*.parquet', hive_partitioning = true)"
    closed = conn.execute(
        f"SELECT recorder, upstream_close_code FROM {sessions} WHERE end_reason = 'upstream_closed'"
    ).fetchall()
    assert closed == [("host-c", 1011)]
    failed = conn.execute(
        f"SELECT recorder, output FROM {calls} WHERE output LIKE '%error%'"
    ).fetchall()
    assert failed == [("host-c", json.dumps(TOOL_ERROR))]
    models = {m for (m,) in conn.execute(f"SELECT DISTINCT model FROM {sessions}").fetchall()}
    assert {"gpt-realtime", "gpt-realtime-mini"} <= models


def test_types_are_the_schema_files(dataset):
    """Timestamps are timestamps, ms doubles, tokens integers, and the schema file says so."""
    schema = json.loads((dataset / "_rtrec_schema.json").read_text())
    assert schema["format"] == "rtrec-parquet" and schema["version"] == 1
    duck = {"int64": "BIGINT", "double": "DOUBLE", "string": "VARCHAR", "bool": "BOOLEAN",
            "timestamp": "TIMESTAMP WITH TIME ZONE", "binary": "BLOB", "date": "DATE"}  # fmt: skip
    conn = duckdb.connect()
    for table in TABLES:
        described = {
            name: kind
            for name, kind, *_ in conn.execute(
                f"DESCRIBE SELECT * FROM read_parquet('{dataset}/{table}/*/*/*.parquet', "
                "union_by_name = true, hive_partitioning = true, "
                "hive_types = {'date': DATE, 'recorder': VARCHAR})"
            ).fetchall()
        }
        columns = schema["tables"][table] + schema["partitions"]
        declared = {c["name"]: duck[c["type"]] for c in columns}
        assert described == declared, table
    sessions = {c["name"]: c["type"] for c in schema["tables"]["sessions"]}
    assert sessions["started_at"] == sessions["ended_at"] == "timestamp"
    assert sessions["duration_ms"] == "double" and sessions["total_tokens"] == "int64"
    responses = {c["name"]: c["type"] for c in schema["tables"]["responses"]}
    assert responses["first_audio_ms"] == "double" and responses["input_tokens"] == "int64"
    events = {c["name"]: c["type"] for c in schema["tables"]["events"]}
    assert events["wall_at"] == "timestamp" and events["binary"] == "bool"
    assert "audio" not in events


def test_partitions_and_manifest(fleet, dataset):
    assert dataset.stat().st_mode & 0o777 == 0o700  # owner-only, like the database
    sessions = sorted(p.relative_to(dataset) for p in (dataset / "sessions").glob("*/*/*"))
    assert sessions and all(
        p.parts[1].startswith("date=20") and p.parts[2].startswith("recorder=host-")
        and p.name.startswith("part-") and p.suffix == ".parquet"
        for p in sessions
    )  # fmt: skip
    for name, db in fleet.items():
        manifest = json.loads((dataset / "_rtrec_manifest" / f"{name}.json").read_text())
        assert manifest["recorder"] == name
        assert list(manifest["databases"]) == [str(db.resolve())]
        lite = read_only(db)
        uuids = {u for (u,) in lite.execute("SELECT uuid FROM session")}
        events = dict(
            lite.execute(
                "SELECT s.uuid, count(e.id) FROM session s "
                "LEFT JOIN event e ON e.session_id = s.id GROUP BY s.uuid"
            ).fetchall()
        )
        lite.close()
        assert set(manifest["sessions"]) == uuids
        for uuid, entry in manifest["sessions"].items():
            assert entry["database"] == str(db.resolve())
            assert entry["rows"].get("events", 0) == events[uuid]


def test_rerun_adds_nothing_and_a_new_session_adds_only_its_rows(fleet, tmp_path):
    db = copy_db(fleet["host-b"], tmp_path / "b.db")
    out = tmp_path / "ds"
    first = export(db, out, "host-b")
    assert first.startswith("exported ")
    before = part_files(out)
    again = export(db, out, "host-b")
    assert again.startswith("exported 0 sessions") and "unchanged" in again
    assert part_files(out) == before

    import_db(db, real_session_files()[:1])
    third = export(db, out, "host-b")
    assert third.startswith("exported 1 session ")
    after = part_files(out)
    assert {k: v for k, v in after.items() if k in before} == before  # old parts untouched
    new = set(after) - set(before)
    assert new and len({Path(p).name for p in new}) == 1  # one session's parts, one per table
    for table in TABLES:
        types = schema_types(out, table)
        assert dataset_rows(out, table, types) == view_rows(db, table, "host-b", types), table


def test_since_and_session_arguments(fleet, tmp_path):
    db = copy_db(fleet["host-b"], tmp_path / "b.db")
    out = tmp_path / "ds"
    stdout = export(db, out, "host-b", "--since", "2999-01-01")
    assert stdout.startswith("exported 0 sessions")
    stdout = export(db, out, "host-b", "2", "3")
    assert stdout.startswith("exported 2 sessions")
    ids = (
        duckdb.connect()
        .execute(
            "SELECT list(session_id ORDER BY session_id) "
            f"FROM read_parquet('{out}/sessions/*/*/*.parquet')"
        )
        .fetchone()
    )
    assert ids == ([2, 3],)
    assert export(db, out, "host-b").startswith(f"exported {_sessions(db) - 2} sessions")


def _sessions(db: Path) -> int:
    with read_only(db) as conn:
        return int(conn.execute("SELECT count(*) FROM session").fetchone()[0])
