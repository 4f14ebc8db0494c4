"""Each dataset table's columns and types, derived from the database's own views.

The views are the contract, and they grow: a column added to a view in a migration
flows into the dataset without a change here.  Its type comes from rules, in order:

1. names with a fixed meaning: `started_at`/`ended_at` are timestamps, flags are
   booleans, `max_output_tokens` is text (it may be "inf");
2. every `*_ms` and `*_seconds` is a double, every `*_tokens` an integer;
3. the declared type of a table column the view passes through (INTEGER, REAL, TEXT);
4. for expressions, counts by name (`*_count`, `*_rate`, `items`, …) are integers,
   `speed`/`temperature` doubles;
5. anything else is text (JSON values included: engines parse them with their JSON
   functions).

Then every table gains `session_uuid`, and `events` gains `wall_at` (its `wall_ns` as
a timestamp) and, with audio, `audio`.  `date` and `recorder` are the Hive partition
columns: they are in the path, not in the files.  Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rtrec.errors import RtrecError

INT64 = "int64"
DOUBLE = "double"
STRING = "string"
BOOL = "bool"
TIMESTAMP = "timestamp"  # microseconds, UTC
BINARY = "binary"
DATE = "date"
TYPES = (INT64, DOUBLE, STRING, BOOL, TIMESTAMP, BINARY, DATE)

PARTITIONS = (("date", DATE), ("recorder", STRING))

_TIMESTAMPS = {"started_at", "ended_at"}
_BOOLEANS = {"deleted", "out_of_band", "binary", "redacted", "approve"}
_TEXT = {"max_output_tokens"}  # a number, or "inf"
_DOUBLES = {"speed", "temperature"}
_COUNTS = {"items", "responses", "errors", "output_items", "turn", "seq", "position", "ordinal"}
_COUNT_ENDINGS = ("_count", "_rate", "_size", "_events", "_bytes", "_seq", "_index", "_code")


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type}


def column_type(name: str, declared: str) -> str:
    """The dataset type of a view column, from its name and SQLite declared type."""
    if name in _TIMESTAMPS:
        return TIMESTAMP
    if name in _BOOLEANS:
        return BOOL
    if name in _TEXT:
        return STRING
    if name.endswith(("_ms", "_seconds")) or name in _DOUBLES:
        return DOUBLE
    if name.endswith("_tokens"):
        return INT64
    declared = declared.upper()
    if "INT" in declared:
        return INT64
    if any(word in declared for word in ("REAL", "FLOA", "DOUB")):
        return DOUBLE
    if "BLOB" in declared:
        return BINARY
    if declared:
        return STRING
    if name in _COUNTS or name.endswith(_COUNT_ENDINGS) or name == "session_id":
        return INT64
    return STRING


def table_columns(
    view: str, view_columns: Sequence[tuple[str, str]], *, with_audio: bool = False
) -> list[Column]:
    """The columns of a table's parts: the view's, then rtrec's own."""
    columns = [Column(name, column_type(name, declared)) for name, declared in view_columns]
    names = {c.name for c in columns}
    columns.append(Column("session_uuid", STRING))
    if view == "events":
        if "wall_ns" in names:
            columns.append(Column("wall_at", TIMESTAMP))
        if with_audio:
            columns.append(Column("audio", BINARY))
    clash = names & {"session_uuid", "wall_at", "audio", *(p for p, _ in PARTITIONS)}
    if clash:
        # A view column named like one of ours would be shadowed: say so rather than guess.
        raise RtrecError(
            f"the {view} view has columns the dataset adds itself ({', '.join(sorted(clash))}); "
            "this rtrec cannot export it"
        )
    return columns


def columns_digest(tables: Mapping[str, Sequence[Column]]) -> str:
    """A short digest of every table's columns: parts written under another are stale."""
    text = json.dumps(
        {t: [c.as_json() for c in cols] for t, cols in sorted(tables.items())}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]
