"""`rtrec reproject [SESSION]`: rebuild the projection tables from the event log."""

from __future__ import annotations

import click

from rtrec.cli.options import db_option
from rtrec.store.db import open_db
from rtrec.store.overview import session_count
from rtrec.store.projection import reproject as reproject_sessions
from rtrec.store.reader import resolve_session


@click.command()
@db_option
@click.argument("session", metavar="[SESSION]", required=False)
def reproject(db_path: str, session: str | None) -> None:
    """Rebuild items, responses, turns and the other views from the events alone.

    Every session, or just SESSION (a session id, a uuid prefix, or `last`).  The
    recorder and import keep projections current; reading commands rebuild in memory
    what is behind (after a recorder was killed, or an upgrade of rtrec), and this
    stores it.  It also upgrades an older rtrec's database, and checks that nothing
    drifted.
    """
    conn = open_db(db_path, create=False)
    try:
        ids = [resolve_session(conn, session).id] if session is not None else None
        folded = reproject_sessions(conn, ids)
        count = len(ids) if ids is not None else session_count(conn)
    finally:
        conn.close()
    noun = "session" if count == 1 else "sessions"
    click.echo(f"reprojected {count} {noun} ({folded:,} events)", err=True)


COMMANDS = [reproject]
