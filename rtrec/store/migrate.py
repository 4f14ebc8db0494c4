"""Schema migrations: numbered SQL files applied in order, each in the transaction recording it."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path

from rtrec.errors import DatabaseError, NewerDatabaseError

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
MIGRATION_TABLE = "rtrec_migration"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def _migrations_dir() -> Path:
    # In a wheel, hatchling ships migrations/ as rtrec/migrations; in a checkout
    # (editable install) they live at the top level beside the package.
    packaged = resources.files("rtrec").joinpath("migrations")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "migrations"


@cache
def migrations() -> tuple[Migration, ...]:
    found = []
    for path in sorted(_migrations_dir().glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise RuntimeError(f"migration file with a bad name: {path}")
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return tuple(found)


def latest_version() -> int:
    return len(migrations())


def applied_version(conn: sqlite3.Connection, path: str = "the database") -> int:
    """The schema version recorded in the database; 0 for an empty database.

    Raises DatabaseError for a database that holds other tables and no rtrec schema.
    """
    names = {row[0] for row in conn.execute("SELECT name FROM main.sqlite_schema")}
    if MIGRATION_TABLE not in names:
        if names:
            raise DatabaseError(f"{path} is not an rtrec database (it holds other tables)")
        return 0
    (version,) = conn.execute(f"SELECT coalesce(max(version), 0) FROM {MIGRATION_TABLE}").fetchone()
    return int(version)


def check_not_newer(path: str, version: int) -> None:
    if version > latest_version():
        raise NewerDatabaseError(path, version, latest_version())


def migrate(conn: sqlite3.Connection, path: str) -> int:
    """Apply pending migrations; returns the resulting version.

    Each migration runs under BEGIN IMMEDIATE, which also serialises two processes
    opening a new database at once: the second finds the work done and skips it.
    """
    conn.isolation_level = None  # explicit transactions only
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = applied_version(conn, path)
            check_not_newer(path, version)
            if version == latest_version():
                conn.execute("COMMIT")
                return version
            step = migrations()[version]
            if version == 0:
                conn.execute(
                    f"CREATE TABLE {MIGRATION_TABLE} ("
                    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
            for statement in split_statements(step.sql):
                conn.execute(statement)
            conn.execute(
                f"INSERT INTO {MIGRATION_TABLE} (version, name, applied_at) VALUES (?, ?, ?)",
                (step.version, step.name, datetime.now(UTC).isoformat()),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def split_statements(sql: str) -> list[str]:
    """SQL statements of a script, keeping trigger bodies whole.

    sqlite3's executescript() would commit the open transaction first, which would
    separate a migration from the row that records it.
    """
    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            if _strip_comments(statement):
                statements.append(statement)
            buffer = ""
    if _strip_comments(buffer).strip():
        raise RuntimeError(f"incomplete SQL statement at the end of a migration: {buffer[:80]!r}")
    return statements


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--")).strip()
