"""Rows printed as a table, JSON or CSV: one set of flags and one printer for every command
that lists rows (sqlite-utils' `output_options` and `output_rows`).

    @output_options
    def sessions(db_path: str, fmt: str | None) -> None:
        output_rows(rows, fmt, table=Table(HEADERS, cells))

`--json` prints an indented JSON array of objects and `--csv` a header row and a line a
row, both with every field of every row; without either, `table` says which columns a
reader sees, how each cell reads, and which are numbers (right-aligned).
"""

from __future__ import annotations

import base64
import csv
import json
import math
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO, TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])
Row = Mapping[str, Any]


def output_options(func: F) -> F:
    """--json and --csv, into the parameter `fmt` ("json", "csv", or None for a table)."""
    func = click.option("--csv", "fmt", flag_value="csv", help="Print CSV with a header row.")(func)
    return click.option("--json", "fmt", flag_value="json", help="Print a JSON array of objects.")(
        func
    )


@dataclass(frozen=True)
class Table:
    """How rows read as a table: its headers, each row's cells, the numeric columns.

    `cells` defaults to the rows' values under the headers; `numeric` (column indexes)
    defaults to the columns whose every value is a number.  `rule` draws a line of
    dashes under the headers.
    """

    headers: Sequence[str]
    cells: Callable[[Row], Sequence[Any]] | None = None
    numeric: Collection[int] | None = None
    rule: bool = True


def output_rows(
    rows: Sequence[Row],
    fmt: str | None,
    *,
    table: Table | None = None,
    empty: str | None = None,
    out: TextIO | None = None,
) -> None:
    """Print `rows` as `fmt` says; `empty` is the table's line when there are none."""
    stream = out or sys.stdout
    if fmt == "json":
        encoded = [{k: json_value(v) for k, v in row.items()} for row in rows]
        stream.write(json.dumps(encoded, indent=2, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        fields = list(rows[0]) if rows else list(table.headers if table else [])
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(fields)
        writer.writerows([csv_value(row.get(f)) for f in fields] for row in rows)
    elif not rows and empty is not None:
        stream.write(empty + "\n")
    else:
        shape = table or Table(list(rows[0]) if rows else [])
        cells = [_cells(shape, r) for r in rows]
        for line in format_table(shape.headers, cells, numeric=shape.numeric, rule=shape.rule):
            stream.write(line + "\n")


def _cells(table: Table, row: Row) -> list[Any]:
    return list(table.cells(row)) if table.cells else [row.get(h) for h in table.headers]


def format_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    numeric: Collection[int] | None = None,
    rule: bool = True,
) -> list[str]:
    """Columns two spaces apart, numbers right-aligned, nothing trailing on a line."""
    cells = [[table_text(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    if numeric is None:
        numeric = {i for i in range(len(headers)) if rows and _all_numbers(rows, i)}

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if i in numeric else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    ruled = [line(["-" * w for w in widths])] if rule else []
    return [line(headers), *ruled, *(line(r) for r in cells)]


def _all_numbers(rows: Sequence[Sequence[Any]], i: int) -> bool:
    return all(isinstance(r[i], int | float) or r[i] is None for r in rows)


def table_text(value: Any) -> str:
    """A cell as a table shows it: empty for NULL, bytes by their size, one line."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value == value else "NaN"
    return str(value).replace("\n", "\\n")


def json_value(value: Any) -> Any:
    """A value JSON can hold: bytes as {"$base64": …}, non-finite floats as strings."""
    if isinstance(value, bytes):
        return {"$base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    return value


def csv_value(value: Any) -> Any:
    """A value as a CSV cell: bytes in base64, structures as JSON."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value
