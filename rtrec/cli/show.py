"""`rtrec show SESSION`: the rebuilt conversation, as a transcript or as JSON."""

from __future__ import annotations

import click

from rtrec.cli.options import db_option, session_argument
from rtrec.cli.transcript import dumps, render
from rtrec.store.projected import read_projection, refresh
from rtrec.store.reader import resolve_session
from rtrec.store.reading import open_reader


@click.command()
@db_option
@session_argument
@click.option("--json", "as_json", is_flag=True, help="Print the projected state as JSON.")
def show(db_path: str, session: str, as_json: bool) -> None:
    """Show the conversation a session's events describe.

    Who said what (user transcripts, assistant text and transcripts), tool calls with
    their arguments and results, where audio was cut, deleted items, and each
    response's status, latency and tokens.
    """
    conn = open_reader(db_path)
    try:
        ref = resolve_session(conn, session)
        warning = refresh(conn, ref.id)
        state = read_projection(conn, ref.id)
    finally:
        conn.close()
    if warning:
        click.echo(f"rtrec: {warning}", err=True)
    click.echo(dumps(state) if as_json else "\n".join(render(state)))


COMMANDS = [show]
