"""`rtrec sql QUERY`: run SQL against the views, read-only, like sqlite-utils' `query`."""

from __future__ import annotations

import base64
import contextlib
import csv
import json
import math
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
from rtrec.errors import RtrecError
from rtrec.store.projected import refresh
from rtrec.store.query_guard import QueryGuard, guard_queries
from rtrec.store.reading import open_reader

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


def _cell(value: Any) -> Any:
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    def text(value: Any) -> str:
        value = _cell(value)
        if value is None:
            return ""
        if isinstance(value, float):
            return f"{value:.3f}".rstrip("0").rstrip(".") if value == value else "NaN"
        return str(value).replace("\n", "\\n")

    cells = [[text(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in rows) and bool(rows)
        for i in range(len(columns))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    return [line(columns), line(["-" * w for w in widths]), *(line(r) for r in cells)]


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, float) and not math.isfinite(value):
        # JSON has no infinities or NaN: spelt as strings, the output stays valid JSON.
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    return value


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
    conn = open_reader(db_path)
    try:
        warning = refresh(conn)
        if warning:
            click.echo(f"rtrec: {warning}", err=True)
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
    finally:
        conn.close()
    _print_rows(columns, rows, fmt)


def _print_rows(columns: list[str], rows: Sequence[Sequence[Any]], fmt: str) -> None:
    if fmt == "json":
        data = [{c: _json_value(v) for c, v in zip(columns, row, strict=True)} for row in rows]
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_cell(v) for v in row] for row in rows])
    elif columns:
        click.echo("\n".join(format_table(columns, rows)))


COMMANDS = [sql]
