"""The shared --json/--csv flags and row printer (rtrec/cli/output.py), on a real command."""

from __future__ import annotations

import csv
import io
import json

import click
from click.testing import CliRunner

from rtrec.cli.output import Table, format_table, output_options, output_rows

ROWS = [
    {"id": 1, "model": "gpt-realtime", "seconds": 2.5, "blob": b"\x00\x01", "end": None},
    {"id": 12, "model": "gemini", "seconds": float("nan"), "blob": b"", "end": "client_closed"},
]


@click.command()
@output_options
def listing(fmt: str | None) -> None:
    output_rows(ROWS, fmt, table=Table(["id", "model", "seconds"]))


def run(*args: str) -> str:
    result = CliRunner().invoke(listing, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_json_holds_every_field_of_every_row():
    assert json.loads(run("--json")) == [
        {
            "id": 1,
            "model": "gpt-realtime",
            "seconds": 2.5,
            "blob": {"$base64": "AAE="},
            "end": None,
        },
        {
            "id": 12,
            "model": "gemini",
            "seconds": "NaN",
            "blob": {"$base64": ""},
            "end": "client_closed",
        },
    ]


def test_csv_has_a_header_row_and_a_line_a_row():
    lines = list(csv.reader(io.StringIO(run("--csv"))))
    assert lines == [
        ["id", "model", "seconds", "blob", "end"],
        ["1", "gpt-realtime", "2.5", "AAE=", ""],
        ["12", "gemini", "nan", "", "client_closed"],
    ]


def test_a_table_shows_the_chosen_columns_with_numbers_right_aligned():
    assert run().splitlines() == [
        "id  model         seconds",
        "--  ------------  -------",
        " 1  gpt-realtime      2.5",
        "12  gemini            NaN",
    ]


def test_a_table_can_shape_its_cells_and_say_when_it_is_empty():
    out = io.StringIO()
    shape = Table(["id", "end"], lambda r: [str(r["id"]), r["end"] or "open"], {0}, rule=False)
    output_rows(ROWS, None, table=shape, out=out)
    assert out.getvalue().splitlines() == ["id  end", " 1  open", "12  client_closed"]
    empty = io.StringIO()
    output_rows([], None, table=shape, empty="no sessions recorded yet", out=empty)
    assert empty.getvalue() == "no sessions recorded yet\n"
    assert format_table(["a"], []) == ["a", "-"]


def test_help_lists_both_flags():
    text = CliRunner().invoke(listing, ["--help"]).output
    assert "--json" in text and "--csv" in text
