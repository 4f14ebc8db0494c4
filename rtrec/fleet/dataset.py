"""A dataset directory: where parts go, its versioned schema file, and its locks.

    DIR/_rtrec_schema.json                       the tables' columns and types, versioned
    DIR/_rtrec_manifest/NAME.json                what recorder NAME exported (manifest.py)
    DIR/TABLE/date=YYYY-MM-DD/recorder=NAME/part-SESSION_UUID.parquet

Names starting with `_` or `.` are skipped by Spark, Trino, BigQuery and by globs
ending in `*.parquet`; a part being written is a hidden `.part-….tmp-PID` file in
its final directory, renamed into place once complete.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import socket
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rtrec.errors import RtrecError
from rtrec.fleet.columns import PARTITIONS, TYPES, Column

FORMAT = "rtrec-parquet"
# Bumped when a reader of the old layout or types would misread the new: a renamed or
# retyped column, another layout.  Columns the views gain are added within a version
# (see `revision`), and readers take the union of the parts' columns.
SCHEMA_VERSION = 1
SCHEMA_FILE = "_rtrec_schema.json"
MANIFEST_DIR = "_rtrec_manifest"
LAYOUT = "TABLE/date=YYYY-MM-DD/recorder=NAME/part-SESSION_UUID.parquet"
TEMP_MARK = ".tmp-"

_RECORDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class DatasetError(RtrecError):
    """The dataset directory cannot be used (newer schema, not a dataset, locked…)."""


def default_recorder() -> str:
    return socket.gethostname()


def check_recorder_name(name: str) -> str:
    """A recorder name safe in a path and a Hive partition value, or DatasetError."""
    if not _RECORDER_NAME.fullmatch(name):
        raise DatasetError(
            f"recorder name {name!r} cannot name a partition: use letters, digits, '.', "
            "'_' and '-', starting with a letter or digit (pass --recorder NAME)"
        )
    return name


def partition_dir(root: Path, table: str, date: str, recorder: str) -> Path:
    return root / table / f"date={date}" / f"recorder={recorder}"


def part_name(session_uuid: str) -> str:
    return f"part-{session_uuid}.parquet"


def temp_path(final: Path) -> Path:
    return final.with_name(f".{final.name}{TEMP_MARK}{os.getpid()}")


def publish(temp: Path, final: Path) -> None:
    """Make a complete part visible: its data on disk first, then one rename."""
    fd = os.open(temp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, final)


def remove_temp_parts(root: Path, recorder: str) -> int:
    """Delete parts a killed run of this recorder left half-written; how many."""
    removed = 0
    for temp in root.glob(f"*/date=*/recorder={recorder}/.part-*{TEMP_MARK}*"):
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
            removed += 1
    return removed


def write_json_atomically(path: Path, data: Mapping[str, Any]) -> None:
    temp = temp_path(path)
    with open(temp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)


@contextlib.contextmanager
def locked(path: Path, *, wait: bool, busy: str) -> Iterator[None]:
    """An exclusive flock on `path` (created empty); DatasetError(`busy`) if not waiting."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError as exc:
            raise DatasetError(busy) from exc
        yield
    finally:
        os.close(fd)


def prepare_root(root: Path) -> None:
    """Create DIR, or check an existing one is a dataset (or empty)."""
    if root.exists() and not root.is_dir():
        raise DatasetError(f"{root} is not a directory")
    foreign = root.is_dir() and any(not p.name.startswith("_rtrec") for p in root.iterdir())
    if foreign and not (root / SCHEMA_FILE).exists():
        raise DatasetError(
            f"{root} is not empty and holds no rtrec dataset ({SCHEMA_FILE}); "
            "give an empty or new directory"
        )
    try:
        if not root.exists():
            # Owner-only, as the database is: the dataset holds the conversations' text.
            root.mkdir(mode=0o700, parents=True)
        (root / MANIFEST_DIR).mkdir(exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"cannot create {root}: {exc.strerror}") from exc


def read_schema(root: Path) -> dict[str, Any] | None:
    """The dataset's schema file, checked; None where there is none yet."""
    path = root / SCHEMA_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DatasetError(f"{path} does not describe an rtrec dataset")
    version = data.get("version")
    if not isinstance(version, int):
        raise DatasetError(f"{path} has no schema version")
    if version > SCHEMA_VERSION:
        raise DatasetError(
            f"{root} holds an rtrec dataset of schema version {version}, newer than this "
            f"rtrec's ({SCHEMA_VERSION}); upgrade rtrec, or use another directory"
        )
    if version < SCHEMA_VERSION:
        raise DatasetError(
            f"{root} holds an rtrec dataset of schema version {version}, older than this "
            f"rtrec's ({SCHEMA_VERSION}); export into another directory"
        )
    return data


def schema_tables(data: Mapping[str, Any]) -> dict[str, list[Column]]:
    tables: dict[str, list[Column]] = {}
    for table, columns in data.get("tables", {}).items():
        tables[table] = [Column(str(c["name"]), str(c["type"])) for c in columns]
    return tables


def merge_schema(root: Path, tables: Mapping[str, Sequence[Column]]) -> dict[str, Any]:
    """Record these tables' columns in DIR's schema file (a union: columns only ever
    join); refuses a column that would change type."""
    with locked(root / "_rtrec_schema.lock", wait=True, busy=""):
        data = read_schema(root)
        known = schema_tables(data) if data is not None else {}
        changed = data is None
        for table, columns in tables.items():
            have = {c.name: c for c in known.setdefault(table, [])}
            for column in columns:
                old = have.get(column.name)
                if old is None:
                    known[table].append(column)
                    changed = True
                elif old.type != column.type:
                    raise DatasetError(
                        f"{root}: {table}.{column.name} is {old.type} in the dataset but "
                        f"{column.type} in this database; export into another directory"
                    )
        revision = int(data.get("revision", 0)) if data is not None else 0
        result = {
            "format": FORMAT,
            "version": SCHEMA_VERSION,
            "revision": revision + 1 if changed else revision,
            "layout": LAYOUT,
            "partitions": [{"name": n, "type": t} for n, t in PARTITIONS],
            "types": list(TYPES),
            "tables": {t: [c.as_json() for c in cols] for t, cols in known.items()},
        }
        if changed:
            write_json_atomically(root / SCHEMA_FILE, result)
        return result
