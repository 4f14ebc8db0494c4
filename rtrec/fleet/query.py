"""`rtrec sql --parquet DIR`: the view names over a dataset, in DuckDB, read-only.

Each table of the schema file becomes a DuckDB view of the same name over
`read_parquet(DIR/TABLE/*/*/*.parquet, hive_partitioning = true, union_by_name =
true)`, joined BY NAME to an empty typed row set, so every column of the schema is
there with its type even where no part has it yet (or no part exists).  The query
runs after the connection is locked down: one SELECT (or EXPLAIN) statement, no file
access outside DIR, no configuration changes.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rtrec.errors import RtrecError
from rtrec.fleet.columns import PARTITIONS, Column
from rtrec.fleet.dataset import SCHEMA_FILE, read_schema, schema_tables
from rtrec.fleet.engines import require

DUCKDB_TYPES = {
    "int64": "BIGINT",
    "double": "DOUBLE",
    "string": "VARCHAR",
    "bool": "BOOLEAN",
    "timestamp": "TIMESTAMPTZ",
    "binary": "BLOB",
    "date": "DATE",
}
_HIVE_TYPES = "{" + ", ".join(f"'{n}': {DUCKDB_TYPES[t]}" for n, t in PARTITIONS) + "}"
# :name outside quotes, as `rtrec sql` binds them; DuckDB spells it $name.
_TOKENS = re.compile(
    r"""('(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/)|(?<![:\w]):([A-Za-z_]\w*)""", re.S
)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def view_sql(root: Path, table: str, columns: Sequence[Column]) -> str:
    """CREATE VIEW for one table: its parts, with every schema column typed."""
    typed = [*columns, *(Column(n, t) for n, t in PARTITIONS)]
    empty = (
        "SELECT "
        + ", ".join(f'CAST(NULL AS {DUCKDB_TYPES[c.type]}) AS "{c.name}"' for c in typed)
        + " WHERE false"
    )
    directory = root / table
    if next(directory.glob("*/*/*.parquet"), None) is None:
        return f'CREATE VIEW "{table}" AS {empty}'
    glob = _literal(str(directory) + "/*/*/*.parquet")
    parts = (
        f"SELECT * FROM read_parquet({glob}, hive_partitioning = true, "
        f"union_by_name = true, hive_types = {_HIVE_TYPES})"
    )
    return f'CREATE VIEW "{table}" AS {empty} UNION ALL BY NAME {parts}'


def connect(root: Path) -> Any:
    """A DuckDB connection with the dataset's views, locked to reading DIR only."""
    duckdb = require("duckdb", "rtrec sql --parquet")
    schema = read_schema(root)
    if schema is None:
        raise RtrecError(
            f"{root} is not an rtrec Parquet dataset (no {SCHEMA_FILE}); "
            "write one with rtrec export-parquet --out DIR"
        )
    conn = duckdb.connect(":memory:")
    conn.execute("SET TimeZone = 'UTC'")
    for table, columns in schema_tables(schema).items():
        conn.execute(view_sql(root, table, columns))
    conn.execute(f"SET allowed_directories = [{_literal(str(root.resolve()) + '/')}]")
    conn.execute("SET enable_external_access = false")
    conn.execute("SET lock_configuration = true")
    return conn


def duckdb_params(query: str) -> str:
    """`:name` parameters (as `rtrec sql` takes them) spelled `$name`, outside quotes."""
    return _TOKENS.sub(lambda m: m[1] if m[1] is not None else f"${m[2]}", query)


def run_query(
    root: Path, query: str, params: Mapping[str, Any]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(column names, rows) of one read-only statement over the dataset."""
    duckdb = require("duckdb", "rtrec sql --parquet")
    sql = duckdb_params(query)
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise RtrecError(f"SQL error: {_first_line(exc)}") from exc
    if len(statements) != 1:
        raise RtrecError(f"give one SQL statement, not {len(statements)}")
    allowed = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
    if statements[0].type not in allowed:
        raise RtrecError("rtrec sql --parquet runs a SELECT (the dataset is read-only)")
    conn = connect(root)
    try:
        cursor = conn.execute(sql, dict(params)) if params else conn.execute(sql)
        columns = [d[0] for d in cursor.description or ()]
        rows = [tuple(_plain(v) for v in row) for row in cursor.fetchall()]
    except duckdb.Error as exc:
        raise RtrecError(f"SQL error: {_first_line(exc)}") from exc
    finally:
        conn.close()
    return columns, rows


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _plain(value: Any) -> Any:
    """A DuckDB value as `rtrec sql` prints SQLite's: text, numbers, bytes, or None."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | dict | tuple):
        import json

        return json.dumps(value, default=str, ensure_ascii=False)
    return value
