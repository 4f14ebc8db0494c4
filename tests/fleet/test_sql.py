"""rtrec sql --parquet, and README's "Many recorders" section kept true.

Every fleet question in README runs on the three recorders' dataset and gives the
answer the databases' own views give; the schema table, the Trino DDL and the
command's sample output are checked against what the code does.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from rtrec.fleet.columns import table_columns
from rtrec.store.db import open_db
from rtrec.store.snapshot import VIEWS, LogSnapshot
from tests.conftest import run_cli
from tests.fleet.support import ROOT, TOOL_ERROR, UPSTREAM_CLOSE, demo_db, read_only

README = (ROOT / "README.md").read_text(encoding="utf-8")
TYPE_ORDER = ("int64", "double", "string", "bool", "timestamp", "binary")


def _section(heading: str) -> str:
    start = README.index(heading)
    level = heading.split(" ")[0].strip("\n")
    end = README.find(f"\n{level} ", start + len(heading))
    return README[start : end if end >= 0 else len(README)]


FLEET = _section("\n## Many recorders: one Parquet dataset\n")
QUESTIONS = re.findall(
    r"```sql\n(.*?)```", _section("\n### Fleet questions and their SQL\n"), re.DOTALL
)


def sql(dataset: Path, query: str, *args: str) -> list[dict]:
    result = run_cli("sql", "--parquet", str(dataset), "--json", query, *args)
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def _question(needle: str) -> str:
    (query,) = [q for q in QUESTIONS if needle in q]
    return query


def test_the_section_asks_the_fleet_questions():
    assert len(QUESTIONS) >= 4
    for view in ("turns", "responses", "sessions", "tool_calls"):
        assert any(re.search(rf"\bFROM {view}\b", q) for q in QUESTIONS), view


@pytest.mark.parametrize("query", QUESTIONS, ids=[q.split("FROM")[1].split()[0] for q in QUESTIONS])
def test_every_fleet_question_answers(dataset, query):
    assert sql(dataset, query), "README promises an answer to this question"


def test_latency_per_model_is_the_views(fleet, dataset):
    rows = {r["model"]: r for r in sql(dataset, _question("p95_ms"))}
    latencies: dict[str, list[float]] = {}
    for db in fleet.values():
        lite = read_only(db)
        for model, latency in lite.execute(
            "SELECT s.model, t.latency_ms FROM turns t JOIN sessions s USING (session_id) "
            "WHERE t.latency_ms IS NOT NULL"
        ):
            latencies.setdefault(model, []).append(latency)
        lite.close()
    assert set(rows) == set(latencies)
    for model, values in latencies.items():
        values.sort()
        nearest = values[max(0, -(-len(values) * 95 // 100) - 1)]  # nearest rank
        assert rows[model]["turns"] == len(values)
        assert rows[model]["p95_ms"] == round(nearest), model


def test_tokens_per_recorder_are_the_views(fleet, dataset):
    got = {
        (r["recorder"], r["model"]): r["total_tokens"]
        for r in sql(dataset, _question("sum(r.total_tokens)"))
    }
    expected = {}
    for name, db in fleet.items():
        lite = read_only(db)
        for model, tokens in lite.execute(
            "SELECT s.model, sum(r.total_tokens) FROM responses r JOIN sessions s "
            "USING (session_id) GROUP BY s.model"
        ):
            expected[(name, model)] = tokens
        lite.close()
    assert got == expected


def test_upstream_closed_and_failed_tool_are_found(dataset):
    (closed,) = sql(dataset, _question("upstream_closed"))
    assert closed["recorder"] == "host-c"
    assert (closed["upstream_close_code"], closed["upstream_close_reason"]) == UPSTREAM_CLOSE
    failed = [r for r in sql(dataset, _question("get_weather")) if r["output"] is not None]
    assert [(r["recorder"], json.loads(r["output"])) for r in failed] == [("host-c", TOOL_ERROR)]


def test_parameters_formats_and_stdin(dataset):
    query = "SELECT recorder, count(*) AS n FROM sessions WHERE recorder = :r GROUP BY recorder"
    assert sql(dataset, query, "-p", "r", "host-c") == [{"recorder": "host-c", "n": 3}]
    result = run_cli("sql", "--parquet", str(dataset), "--csv", query, "-p", "r", "host-c")
    assert result.stdout.decode() == "recorder,n\nhost-c,3\n"
    result = run_cli(
        "sql", "--parquet", str(dataset), "-", "-p", "r", "host-a", input=query.encode()
    )
    assert result.stdout.decode().splitlines()[2].split() == ["host-a", "1"]
    started = sql(dataset, "SELECT started_at, date FROM sessions WHERE recorder = 'host-a'")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", started[0]["started_at"])
    assert started[0]["date"] == started[0]["started_at"][:10]


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("COPY (SELECT 1) TO 'out.csv'", "runs a SELECT"),
        ("SELECT * FROM read_csv('/etc/passwd')", "disabled by configuration"),
        ("SELECT 1; SELECT 2", "one SQL statement"),
        ("SET enable_external_access = true", "runs a SELECT"),
        ("SELECT nope FROM turns", "SQL error"),
        ("SELECT * FROM turns WHERE turn = :t", "SQL error"),
    ],
)
def test_the_dataset_is_read_only_and_errors_are_one_line(dataset, tmp_path, query, says):
    result = run_cli("sql", "--parquet", str(dataset), query)
    stderr = result.stderr.decode()
    assert result.returncode == 1 and stderr.count("\n") == 1, stderr
    assert says in stderr
    assert not (tmp_path / "out.csv").exists() and not Path("out.csv").exists()


def test_a_table_no_part_has_yet_is_there_with_its_columns(tmp_path):
    db = tmp_path / "empty.db"
    open_db(db).close()
    out = tmp_path / "ds"
    result = run_cli("export-parquet", "--db", str(db), "--out", str(out), "--recorder", "r1")
    assert result.returncode == 0, result.stderr.decode()
    rows = sql(out, "SELECT count(*) AS n, count(latency_ms) AS l, min(recorder) AS r FROM turns")
    assert rows == [{"n": 0, "l": 0, "r": None}]


# ---- README's tables and examples match the code ----


def _derived_tables(tmp_path: Path) -> dict[str, list]:
    db = tmp_path / "schema.db"
    open_db(db).close()
    snapshot = LogSnapshot(db)
    try:
        return {
            view: table_columns(view, snapshot.view_columns(view), with_audio=True)
            for view in VIEWS
        }
    finally:
        snapshot.close()


def schema_markdown(tables: dict[str, list]) -> str:
    lines = ["| table | " + " | ".join(TYPE_ORDER) + " |", "|---|" + "---|" * len(TYPE_ORDER)]
    for table, columns in tables.items():
        cells = [", ".join(f"`{c.name}`" for c in columns if c.type == t) for t in TYPE_ORDER]
        lines.append(f"| `{table}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def test_readme_schema_table_is_the_derived_schema(tmp_path):
    expected = schema_markdown(_derived_tables(tmp_path))
    # The whole table, so a view dropped from the export is missed in README.
    assert f"\n\n{expected}\n\n" in FLEET, f"README's schema table should read:\n{expected}"


def test_readme_trino_table_has_the_turns_columns(tmp_path):
    ddl = re.search(r"CREATE TABLE hive\.rtrec\.turns \((.*?)\n\)", FLEET, re.DOTALL)
    assert ddl
    trino = {"int64": "bigint", "double": "double", "string": "varchar"}
    declared = [
        tuple(part.split()) for part in ddl[1].replace("\n", " ").split(",") if part.strip()
    ]
    turns = _derived_tables(tmp_path)["turns"]
    expected = [(c.name, trino[c.type]) for c in turns] + [
        ('"date"', "date"),
        ("recorder", "varchar"),
    ]
    assert declared == expected


def test_readme_command_sample_is_what_it_prints(tmp_path):
    block = re.search(
        r"### `rtrec export-parquet --out DIR`.*?```console\n(.*?)```", README, re.DOTALL
    )
    assert block
    db = tmp_path / "rtrec.db"
    demo_db(db)
    commands: list[tuple[str, list[str]]] = []
    for line in block[1].splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif line.startswith(" ") and commands and not commands[-1][1]:
            commands[-1] = (commands[-1][0] + " " + line.strip(), [])
        else:
            commands[-1][1].append(line)
    assert len(commands) == 3
    for command, shown in commands:
        args = re.findall(r'"[^"]*"|\S+', command)
        assert args[0] == "rtrec"
        args = [a.strip('"').replace("--out fleet", "") for a in args[1:]]
        args = [str(tmp_path / "fleet") if a == "fleet" else a for a in args]
        result = run_cli(*args, db_path=str(db))
        assert result.returncode == 0, result.stderr.decode()
        printed = result.stdout.decode().splitlines()
        printed = [p.replace(str(tmp_path / "fleet"), "fleet") for p in printed]
        assert [_shape(p) for p in printed] == [_shape(s) for s in shown], command


def _shape(line: str) -> str:
    """A line with its numbers (and the spaces that align them) made alike."""
    return re.sub(r"\s+", " ", re.sub(r"\d[\d,]*", "N", line)).strip()


def test_the_views_used_here_are_the_contract(fleet):
    lite = sqlite3.connect(f"file:{fleet['host-a']}?mode=ro&immutable=1", uri=True)
    views = {n for (n,) in lite.execute("SELECT name FROM sqlite_schema WHERE type = 'view'")}
    lite.close()
    assert set(VIEWS) <= views
