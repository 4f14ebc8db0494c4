"""What every reading command does once it has the log open (rtrec.store.reading.reading):
bring its views current.

`refresh` brings the views current in memory (rtrec/store/reading.py: reading never
writes); what it has to say (a database written by an older rtrec, a projection that
could not be rebuilt) is one line on stderr, before the command's own output.
"""

from __future__ import annotations

import click

from rtrec.store.connections import Connection
from rtrec.store.projected import refresh


def views_current(conn: Connection, session_id: int | None = None) -> None:
    """Bring the views current (one session's, or every session's); warn on stderr."""
    warning = refresh(conn, session_id)
    if warning:
        click.echo(f"rtrec: {warning}", err=True)
