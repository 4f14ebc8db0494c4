"""Every query in README's "SQL for analysis" section runs on a recorded call and answers."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests.sdk_call import FORECAST, TRUNCATE_AT_MS, CallLog, record_call

README = Path(__file__).resolve().parents[1] / "README.md"


def sql_section_queries() -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## SQL for analysis\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end >= 0 else len(text)]
    return re.findall(r"```sql\n(.*?)```", section, re.DOTALL)


QUERIES = sql_section_queries()


@pytest.fixture(scope="module")
def call(tmp_path_factory: pytest.TempPathFactory) -> tuple[sqlite3.Connection, CallLog]:
    db_path = str(tmp_path_factory.mktemp("readme") / "call.db")
    log = record_call(db_path)
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn, log


def test_the_section_has_the_questions_the_issue_asks_for():
    assert len(QUERIES) >= 6
    joined = "\n".join(QUERIES)
    for view in ("responses", "turns", "items", "tool_calls", "errors", "sessions"):
        assert re.search(rf"\bFROM {view}\b", joined), view


@pytest.mark.parametrize("query", QUERIES, ids=[q.split("FROM")[1].split()[0] for q in QUERIES])
def test_readme_query_runs_and_answers(call, query):
    conn, _ = call
    rows = conn.execute(query).fetchall()
    assert rows, "the README promises an answer to this question"


def _run(conn: sqlite3.Connection, needle: str) -> list[sqlite3.Row]:
    (query,) = [q for q in QUERIES if needle in q]
    return conn.execute(query).fetchall()


def test_readme_answers_are_the_recorded_facts(call):
    conn, log = call
    (tokens,) = _run(conn, "sum(total_tokens) AS total_tokens")
    assert tokens["responses"] == 4 and tokens["total_tokens"] > 0
    (latency,) = _run(conn, "p95_ms")
    assert latency["turns"] == 3 and 0 <= latency["p50_ms"] <= latency["p95_ms"]
    (cut,) = _run(conn, "heard_ms")
    assert cut["heard_ms"] == TRUNCATE_AT_MS and cut["sent_ms"] > TRUNCATE_AT_MS
    (tool,) = _run(conn, "FROM tool_calls")
    assert tool["name"] == "get_weather" and tool["output"] == __import__("json").dumps(FORECAST)
    assert tool["answer_ms"] >= 0
    (error,) = _run(conn, "FROM errors")
    assert (error["code"], error["client_event_type"], error["client_event_id"]) == (
        "item_not_found",
        "conversation.item.delete",
        "evt_missing",
    )
    (audio,) = _run(conn, "user_audio_s")
    assert audio["user_audio_s"] == round(log.audio_in_bytes / 48 / 1000, 1)
    said = _run(conn, "AS said")
    assert [r["who"] for r in said][:3] == ["user", "function_call", "function_call_output"]
