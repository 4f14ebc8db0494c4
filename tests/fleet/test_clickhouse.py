"""ClickHouse reads the dataset: chDB (ClickHouse embedded, from PyPI) gives DuckDB's answers.

Debian's clickhouse packages are release 18.16, without Hive partitioning; chDB
installs from PyPI in seconds, so the test suite uses it, in a child process of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb

QUERY = """
SELECT recorder,
       count() AS turns,
       countIf(latency_ms IS NOT NULL) AS measured,
       round(sum(latency_ms), 3) AS latency_sum_ms,
       toString(min(date)) AS first_day
FROM file('{root}/turns/*/*/*.parquet', Parquet)
GROUP BY recorder
ORDER BY recorder
SETTINGS use_hive_partitioning = 1, schema_inference_mode = 'union'
"""
TOKENS = """
SELECT recorder, sum(total_tokens) AS tokens, uniqExact(session_uuid) AS sessions
FROM file('{root}/responses/*/*/*.parquet', Parquet)
GROUP BY recorder
ORDER BY recorder
SETTINGS use_hive_partitioning = 1, schema_inference_mode = 'union'
"""
CHDB = """
import json, sys
import chdb
for query in sys.argv[1:]:
    print(json.dumps([json.loads(line) for line in
                      chdb.query(query, "JSONEachRow").bytes().decode().splitlines()]))
"""


def clickhouse(*queries: str) -> list[list[dict]]:
    result = subprocess.run(
        [sys.executable, "-c", CHDB, *queries], capture_output=True, timeout=300
    )
    assert result.returncode == 0, result.stderr.decode()
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def test_clickhouse_reads_the_dataset_as_duckdb_does(dataset: Path):
    turns, tokens = clickhouse(QUERY.format(root=dataset), TOKENS.format(root=dataset))
    conn = duckdb.connect()
    parts = "read_parquet('{}/{}/*/*/*.parquet', hive_partitioning = true, union_by_name = true)"
    expected_turns = conn.execute(
        "SELECT recorder, count(*), count(latency_ms), round(sum(latency_ms), 3), "
        f"CAST(min(date) AS VARCHAR) FROM {parts.format(dataset, 'turns')} "
        "GROUP BY recorder ORDER BY recorder"
    ).fetchall()
    assert [
        (r["recorder"], int(r["turns"]), int(r["measured"]), r["latency_sum_ms"], r["first_day"])
        for r in turns
    ] == expected_turns
    expected_tokens = conn.execute(
        "SELECT recorder, sum(total_tokens), count(DISTINCT session_uuid) "
        f"FROM {parts.format(dataset, 'responses')} GROUP BY recorder ORDER BY recorder"
    ).fetchall()
    assert [
        (r["recorder"], int(r["tokens"]) if r["tokens"] is not None else None, int(r["sessions"]))
        for r in tokens
    ] == expected_tokens
    assert {r["recorder"] for r in turns} == {"host-a", "host-b", "host-c"}
