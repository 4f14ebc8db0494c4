"""The connection the store hands out, and how an opening that fails gives it back.

Code outside rtrec/store holds a `Connection` only to pass it back to the store's
functions; it never runs SQL on it (`rtrec sql`, which runs the user's query, apart).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from typing import TypeAlias

from rtrec.errors import DatabaseError

Connection: TypeAlias = sqlite3.Connection


@contextlib.contextmanager
def closed_on_failure(
    conn: Connection, path: str, explain: Callable[[str, sqlite3.DatabaseError], DatabaseError]
) -> Iterator[Connection]:
    """Close `conn` if the block fails; an SQLite error comes out as `explain` words it."""
    try:
        yield conn
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise explain(path, exc) from exc
    except BaseException:
        conn.close()
        raise
