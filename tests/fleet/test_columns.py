"""The type rules and the conversion of SQLite's loosely typed values (pure, no I/O)."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pytest

from rtrec.errors import RtrecError
from rtrec.fleet.columns import column_type, columns_digest, table_columns
from rtrec.fleet.parts import to_array


@pytest.mark.parametrize(
    ("name", "declared", "kind"),
    [
        ("started_at", "TEXT", "timestamp"),
        ("latency_ms", "", "double"),
        ("truncated_ms", "INTEGER", "double"),  # every *_ms is a double
        ("usage_seconds", "", "double"),
        ("input_tokens", "", "int64"),
        ("max_output_tokens", "", "string"),  # a number, or "inf"
        ("deleted", "INTEGER", "bool"),
        ("binary", "", "bool"),
        ("event_count", "", "int64"),
        ("items", "", "int64"),
        ("refused_status", "INTEGER", "int64"),
        ("audio_in_ms", "REAL", "double"),
        ("speed", "", "double"),
        ("config", "TEXT", "string"),
        # columns the protocol layer adds: they flow through with the right types
        ("protocol", "", "string"),
        ("protocol_version", "", "string"),
        ("provider_session_id", "TEXT", "string"),
        ("ended_by", "TEXT", "string"),
        ("audio_source", "", "string"),
        ("anything_new", "", "string"),
    ],
)
def test_type_rules(name, declared, kind):
    assert column_type(name, declared) == kind


def test_rtrec_adds_its_own_columns_and_refuses_a_view_that_has_them():
    events = table_columns("events", [("session_id", "INTEGER"), ("wall_ns", "INTEGER")])
    assert [c.name for c in events] == ["session_id", "wall_ns", "session_uuid", "wall_at"]
    with_audio = table_columns("events", [("wall_ns", "INTEGER")], with_audio=True)
    assert [c.name for c in with_audio][-1] == "audio"
    with pytest.raises(RtrecError, match="recorder"):
        table_columns("sessions", [("session_id", "INTEGER"), ("recorder", "TEXT")])
    turns = table_columns("turns", [("latency_ms", "")])
    grown = table_columns("turns", [("latency_ms", ""), ("audio_source", "")])
    assert columns_digest({"turns": turns}) != columns_digest({"turns": grown})


def test_values_that_do_not_fit_become_null_and_are_counted():
    lost: Counter[str] = Counter()

    def count(n: int) -> None:
        lost["x"] += n

    assert to_array([1, 2.0, None, "3", "inf"], "int64", count).to_pylist() == [1, 2, None, 3, None]
    assert to_array([1, 2.5, "x"], "double", count).to_pylist() == [1.0, 2.5, None]
    assert to_array(["a", 4096, None], "string", count).to_pylist() == ["a", "4096", None]
    assert to_array([0, 1, None], "bool", count).to_pylist() == [False, True, None]
    stamps = to_array(["2026-12-01T20:10:19.822Z", None], "timestamp", count)
    assert stamps.type == pa.timestamp("us", tz="UTC")
    assert stamps[0].value == 1796155819822000
    assert to_array([1_796_155_819_822_123_456], "timestamp", count)[0].value == 1796155819822123
    assert lost["x"] == 2
