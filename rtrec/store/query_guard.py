"""The guard on `rtrec sql`: the user's SQL runs, and nothing it could write with.

An authorizer refuses, before a statement runs, everything that would write anything
anywhere (rows, tables and other schema, temporary ones included; ATTACH, which also
creates files; VACUUM and VACUUM INTO, which attach their target; pragmas that set
something), with `query_only` and a limit of no attached databases behind it.
"""

from __future__ import annotations

import sqlite3

from rtrec.store.reading import ATTACHES, SCHEMA_TABLES

# Pragmas that only report, whatever their argument (a table or an index name).
_REPORTING_PRAGMAS = frozenset(
    {
        "collation_list",
        "compile_options",
        "database_list",
        "foreign_key_check",
        "foreign_key_list",
        "function_list",
        "index_info",
        "index_list",
        "index_xinfo",
        "integrity_check",
        "module_list",
        "pragma_list",
        "quick_check",
        "table_info",
        "table_list",
        "table_xinfo",
    }
)
# Settings that may be read (no argument) but not set.
_READABLE_SETTINGS = frozenset(
    {
        "application_id",
        "auto_vacuum",
        "automatic_index",
        "busy_timeout",
        "cache_size",
        "data_version",
        "encoding",
        "foreign_keys",
        "freelist_count",
        "journal_mode",
        "journal_size_limit",
        "max_page_count",
        "mmap_size",
        "page_count",
        "page_size",
        "query_only",
        "schema_version",
        "synchronous",
        "temp_store",
        "user_version",
        "wal_autocheckpoint",
    }
)
_STRUCTURE = {
    sqlite3.SQLITE_CREATE_INDEX: "CREATE INDEX",
    sqlite3.SQLITE_CREATE_TABLE: "CREATE TABLE",
    sqlite3.SQLITE_CREATE_TEMP_INDEX: "CREATE INDEX",
    sqlite3.SQLITE_CREATE_TEMP_TABLE: "CREATE TEMP TABLE",
    sqlite3.SQLITE_CREATE_TEMP_TRIGGER: "CREATE TRIGGER",
    sqlite3.SQLITE_CREATE_TEMP_VIEW: "CREATE TEMP VIEW",
    sqlite3.SQLITE_CREATE_TRIGGER: "CREATE TRIGGER",
    sqlite3.SQLITE_CREATE_VIEW: "CREATE VIEW",
    sqlite3.SQLITE_CREATE_VTABLE: "CREATE VIRTUAL TABLE",
    sqlite3.SQLITE_DROP_INDEX: "DROP INDEX",
    sqlite3.SQLITE_DROP_TABLE: "DROP TABLE",
    sqlite3.SQLITE_DROP_TEMP_INDEX: "DROP INDEX",
    sqlite3.SQLITE_DROP_TEMP_TABLE: "DROP TABLE",
    sqlite3.SQLITE_DROP_TEMP_TRIGGER: "DROP TRIGGER",
    sqlite3.SQLITE_DROP_TEMP_VIEW: "DROP VIEW",
    sqlite3.SQLITE_DROP_TRIGGER: "DROP TRIGGER",
    sqlite3.SQLITE_DROP_VIEW: "DROP VIEW",
    sqlite3.SQLITE_DROP_VTABLE: "DROP VIRTUAL TABLE",
    sqlite3.SQLITE_ALTER_TABLE: "ALTER TABLE",
    sqlite3.SQLITE_REINDEX: "REINDEX",
    sqlite3.SQLITE_ANALYZE: "ANALYZE",
}
_ROW_WRITES = {
    sqlite3.SQLITE_INSERT: "INSERT",
    sqlite3.SQLITE_UPDATE: "UPDATE",
    sqlite3.SQLITE_DELETE: "DELETE",
}


class QueryGuard:
    """The authorizer of the user's SQL: anything that would write anything, anywhere, is
    refused (rows, tables, temporary ones included; ATTACH, which also creates files;
    VACUUM and VACUUM INTO, which attach their target; pragmas that change a setting).

    `refused` says what was refused first, for the error message.
    """

    def __init__(self) -> None:
        self.refused: str | None = None

    def __call__(
        self,
        action: int,
        arg1: str | None,
        arg2: str | None,
        db_name: str | None,
        source: str | None,
    ) -> int:
        what = self._refusal(action, arg1, arg2)
        if what is None:
            return sqlite3.SQLITE_OK
        if self.refused is None:
            self.refused = what
        return sqlite3.SQLITE_DENY

    @staticmethod
    def _refusal(action: int, arg1: str | None, arg2: str | None) -> str | None:
        if action in ATTACHES:
            return "ATTACH, DETACH and VACUUM (INTO) write files"
        if action in _ROW_WRITES:
            if arg1 in SCHEMA_TABLES:
                # SQLite's own bookkeeping: for a CREATE or DROP (refused as such below),
                # or while it sets up a pragma function (nothing is written).
                return None
            return f"{_ROW_WRITES[action]} on {arg1} would write"
        if action in _STRUCTURE:
            return f"{_STRUCTURE[action]} would write"
        if action == sqlite3.SQLITE_PRAGMA:
            name = (arg1 or "").lower()
            if name in _REPORTING_PRAGMAS or (name in _READABLE_SETTINGS and arg2 is None):
                return None
            if arg2 is not None:
                return f"PRAGMA {name} = {arg2} would change a setting"
            return f"PRAGMA {name} may write"
        return None


def guard_queries(conn: sqlite3.Connection) -> QueryGuard:
    """Make `conn` refuse every statement that would write (for `rtrec sql`)."""
    conn.execute("PRAGMA query_only = 1")
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    guard = QueryGuard()
    conn.set_authorizer(guard)
    return guard
