"""Every reading command's first steps: open the log read-only, bring its views current.

`refresh` brings the views current in memory (rtrec/store/reading.py: reading never
writes); what it has to say (a database written by an older rtrec, a projection that
could not be rebuilt) is one line on stderr, before the command's own output.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import click

from rtrec.store.connections import Connection
from rtrec.store.projected import refresh
from rtrec.store.reading import open_reader


@contextlib.contextmanager
def reading(db_path: str) -> Iterator[Connection]:
    """A read-only connection to the log, closed however the block ends."""
    conn = open_reader(db_path)
    try:
        yield conn
    finally:
        conn.close()


def views_current(conn: Connection, session_id: int | None = None) -> None:
    """Bring the views current (one session's, or every session's); warn on stderr."""
    warning = refresh(conn, session_id)
    if warning:
        click.echo(f"rtrec: {warning}", err=True)
