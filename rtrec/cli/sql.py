"""`rtrec sql QUERY`: run SQL against the views, read-only, like sqlite-utils' `query`."""

from __future__ import annotations

import contextlib
import csv
import json
import re
import signal
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import click

from rtrec.cli.options import db_option
from rtrec.cli.output import format_table, json_value
from rtrec.cli.reading import views_current
from rtrec.errors import RtrecError
from rtrec.store.query_guard import QueryGuard, guard_queries
from rtrec.store.reading import reading

_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"-?[0-9]+\.[0-9]+")


def parameter_value(text: str) -> int | float | str:
    """A -p value: integers and decimals as numbers (so `session_id = :id` matches)."""
    if _INTEGER.fullmatch(text):
        number = int(text)
        if not -(2**63) <= number < 2**63:
            raise RtrecError(f"bad -p value {text}: beyond SQLite's 64-bit integers")
        return number
    if _DECIMAL.fullmatch(text):
        return float(text)
    return text


def _csv_cell(value: Any) -> Any:
    return f"<{len(value)} bytes>" if isinstance(value, bytes) else value


def _sql_error(exc: Exception, guard: QueryGuard) -> RtrecError:
    if guard.refused is not None:
        return RtrecError(f"refused: {guard.refused}, and rtrec sql only reads")
    hint = " (give it with -p NAME VALUE)" if "binding parameter" in str(exc) else ""
    return RtrecError(f"SQL error: {exc}{hint}")


class _Interrupt:
    """Ctrl-C during a query: SQLite checks `requested` every few thousand steps."""

    STEPS = 10_000

    def __init__(self) -> None:
        self.requested = False

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True

    def check(self) -> int:
        return 1 if self.requested else 0  # non-zero: SQLite stops the query


@contextlib.contextmanager
def interruptible(conn: sqlite3.Connection) -> Iterator[_Interrupt]:
    """Let Ctrl-C stop a long query: Python's own handler only runs between statements."""
    interrupt = _Interrupt()
    previous = signal.signal(signal.SIGINT, interrupt.on_signal)
    conn.set_progress_handler(interrupt.check, _Interrupt.STEPS)
    try:
        yield interrupt
    finally:
        conn.set_progress_handler(None, 0)
        signal.signal(signal.SIGINT, previous)
    if interrupt.requested:
        raise KeyboardInterrupt


@click.command()
@db_option
@click.argument("query")
@click.option(
    "-p",
    "--param",
    "params",
    type=(str, str),
    multiple=True,
    metavar="NAME VALUE",
    help="Bind :NAME in the query to VALUE (repeatable).",
)
@click.option("--json", "fmt", flag_value="json", help="Print a JSON array of objects.")
@click.option("--csv", "fmt", flag_value="csv", help="Print CSV with a header row.")
@click.option("--table", "fmt", flag_value="table", default=True, help="Print a table (default).")
@click.option(
    "--parquet",
    "parquet_dir",
    metavar="DIR",
    type=click.Path(path_type=Path, file_okay=False),
    help="Query a dataset written by export-parquet (DuckDB SQL, same view names).",
)
def sql(
    db_path: str,
    query: str,
    params: tuple[tuple[str, str], ...],
    fmt: str,
    parquet_dir: Path | None,
) -> None:
    """Run QUERY (one SQL statement; `-` reads it from stdin) on a read-only connection.

    The views: sessions, events, items, responses, turns, tool_calls, session_updates,
    errors.  Example: rtrec sql "SELECT * FROM turns WHERE session_id = :s" -p s 1
    """
    if query == "-":
        try:
            query = sys.stdin.buffer.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RtrecError(f"the query on stdin is not UTF-8 text ({exc.reason})") from exc
    if parquet_dir is not None:
        from rtrec.fleet.query import run_query

        columns, rows = run_query(parquet_dir, query, {n: parameter_value(v) for n, v in params})
        _print_rows(columns, rows, fmt)
        return
    with reading(db_path) as conn:
        views_current(conn)
        guard = guard_queries(conn)
        with interruptible(conn) as interrupt:
            try:
                cursor = conn.execute(query, {name: parameter_value(v) for name, v in params})
                columns = [d[0] for d in cursor.description or ()]
                rows = cursor.fetchall()
            except (sqlite3.Error, sqlite3.Warning) as exc:
                if interrupt.requested:
                    raise KeyboardInterrupt from None
                raise _sql_error(exc, guard) from exc
            except UnicodeEncodeError as exc:  # bytes that are not UTF-8, from the shell
                raise RtrecError("the query is not UTF-8 text") from exc
    _print_rows(columns, rows, fmt)


def _print_rows(columns: list[str], rows: Sequence[Sequence[Any]], fmt: str) -> None:
    if fmt == "json":
        data = [{c: json_value(v) for c, v in zip(columns, row, strict=True)} for row in rows]
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_csv_cell(v) for v in row] for row in rows])
    elif columns:
        click.echo("\n".join(format_table(columns, rows)))


COMMANDS = [sql]
