"""Rows to one Parquet part with pyarrow, in bounded batches (memory flat whatever the length).

Rows arrive in pages; each page becomes a RecordBatch at once (typed columns are far
smaller than Python tuples), and batches are written out as a row group when they
hold ROW_GROUP_ROWS rows or ROW_GROUP_BYTES bytes.  A SQLite value that does not fit
its column's type (views are dynamically typed) is converted where that loses
nothing, else written as NULL and counted, so the caller can say so.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from rtrec.fleet.columns import BINARY, BOOL, DATE, DOUBLE, INT64, STRING, TIMESTAMP, Column

ROW_GROUP_ROWS = 64 * 1024
ROW_GROUP_BYTES = 8 * 1024 * 1024
COMPRESSION = "zstd"
# Columns with a value of their own on nearly every row: not dictionary-encoded.
UNIQUE_PER_ROW = frozenset({"payload", "event_id"})

ARROW_TYPES: dict[str, pa.DataType] = {
    INT64: pa.int64(),
    DOUBLE: pa.float64(),
    STRING: pa.string(),
    BOOL: pa.bool_(),
    TIMESTAMP: pa.timestamp("us", tz="UTC"),
    BINARY: pa.binary(),
    DATE: pa.date32(),
}

_CONVERSION_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError)


class _Lossy(Exception):
    pass


def arrow_schema(columns: Sequence[Column], metadata: dict[str, str] | None = None) -> pa.Schema:
    fields = [pa.field(c.name, ARROW_TYPES[c.type]) for c in columns]
    return pa.schema(fields, metadata=metadata)


def _to_int(value: Any) -> int:
    if isinstance(value, bool | int):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise _Lossy


def _to_float(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise _Lossy


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise _Lossy from None
    if isinstance(value, int | float):
        return json.dumps(value)
    raise _Lossy


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise _Lossy


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool | int | float):
        return bool(value)
    raise _Lossy


def _to_micros(value: Any) -> int:
    """A timestamp in µs since the epoch: ISO 8601 text, or integer ns (as wall_ns is)."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _Lossy from None
        if moment.tzinfo is None:
            raise _Lossy
        return round(moment.timestamp() * 1_000_000)
    if isinstance(value, int) and not isinstance(value, bool):
        return value // 1000
    raise _Lossy


_COERCE: dict[str, Callable[[Any], Any]] = {
    INT64: _to_int,
    DOUBLE: _to_float,
    STRING: _to_str,
    BOOL: _to_bool,
    BINARY: _to_bytes,
}


def to_array(values: Sequence[Any], kind: str, lost: Callable[[int], None]) -> pa.Array:
    """One column of values as an Arrow array of `kind`; `lost(n)` for values made NULL."""
    arrow_type = ARROW_TYPES[kind]
    try:
        if kind == TIMESTAMP:
            return timestamp_from_ns(pa.array(values, pa.int64()))
        if kind == BOOL:
            return pa.array(values, pa.int64()).cast(arrow_type)
        return pa.array(values, arrow_type)
    except _CONVERSION_ERRORS:
        if kind == TIMESTAMP:
            return _coerced(values, _to_micros, pa.int64(), lost).cast(arrow_type)
        return _coerced(values, _COERCE[kind], arrow_type, lost)


def timestamp_from_ns(nanoseconds: pa.Array) -> pa.Array:
    """Integer ns since the epoch as µs timestamps (Spark and BigQuery read no ns)."""
    return pc.divide(nanoseconds, 1000).cast(ARROW_TYPES[TIMESTAMP])


def _coerced(
    values: Sequence[Any],
    coerce: Callable[[Any], Any],
    arrow_type: pa.DataType,
    lost: Callable[[int], None],
) -> pa.Array:
    out: list[Any] = []
    dropped = 0
    for value in values:
        if value is None:
            out.append(None)
            continue
        try:
            out.append(coerce(value))
        except (_Lossy, OverflowError):
            out.append(None)
            dropped += 1
    if dropped:
        lost(dropped)
    return pa.array(out, arrow_type)


class PartWriter:
    """One part file: typed rows in, zstd Parquet out, a row group per bounded batch.

    Rows carry the columns that are neither `constants` (one value for the whole part,
    such as the session's uuid) nor `derived` (name → the column it is computed from:
    a timestamp from integer ns), in the order of `columns`.
    """

    def __init__(
        self,
        path: Path,
        columns: Sequence[Column],
        metadata: dict[str, str],
        *,
        constants: Mapping[str, Any] | None = None,
        derived: Mapping[str, str] | None = None,
    ) -> None:
        self.path = path
        self.columns = list(columns)
        self.schema = arrow_schema(self.columns, metadata)
        self.constants = dict(constants or {})
        self.derived = dict(derived or {})
        self.row_columns = [
            c for c in self.columns if c.name not in self.constants and c.name not in self.derived
        ]
        self.rows = 0
        self.lost: Counter[str] = Counter()
        self._batches: list[pa.RecordBatch] = []
        self._buffered_rows = 0
        self._buffered_bytes = 0
        # Dictionaries pay where values repeat (types, ids, the session's uuid); a column
        # unique per row only pays for the attempt.
        dictionary = [
            c.name for c in self.columns if c.type == STRING and c.name not in UNIQUE_PER_ROW
        ]
        self._writer = pq.ParquetWriter(
            str(path),
            self.schema,
            compression=COMPRESSION,
            version="2.6",
            use_dictionary=dictionary,
            write_statistics=True,
        )

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        arrays: dict[str, pa.Array] = {}
        for column, values in zip(self.row_columns, zip(*rows, strict=True), strict=True):
            name = column.name

            def lost(n: int, name: str = name) -> None:
                self.lost[name] += n

            arrays[name] = to_array(values, column.type, lost)
        for name, value in self.constants.items():
            arrays[name] = pa.repeat(pa.scalar(value, self.schema.field(name).type), len(rows))
        for name, source in self.derived.items():
            arrays[name] = timestamp_from_ns(arrays[source].cast(pa.int64()))
        batch = pa.RecordBatch.from_arrays(
            [arrays[c.name] for c in self.columns], schema=self.schema
        )
        self._batches.append(batch)
        self._buffered_rows += batch.num_rows
        self._buffered_bytes += batch.nbytes
        self.rows += batch.num_rows
        if self._buffered_rows >= ROW_GROUP_ROWS or self._buffered_bytes >= ROW_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._batches:
            table = pa.Table.from_batches(self._batches, schema=self.schema)
            self._writer.write_table(table, row_group_size=table.num_rows)
        self._batches.clear()
        self._buffered_rows = self._buffered_bytes = 0

    def close(self) -> None:
        self._flush()
        self._writer.close()

    def abort(self) -> None:
        self._batches.clear()
        self._writer.close()
        self.path.unlink(missing_ok=True)
