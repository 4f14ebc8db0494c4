"""`rtrec show SESSION`: the rebuilt conversation, as a transcript or as JSON."""

from __future__ import annotations

import click

from rtrec.cli.options import db_option, json_option, session_argument
from rtrec.cli.reading import views_current
from rtrec.cli.transcript import dumps, render
from rtrec.store.projected import read_projection
from rtrec.store.reader import resolve_session
from rtrec.store.reading import reading


@click.command()
@db_option
@session_argument
@json_option("Print the projected state as JSON.")
def show(db_path: str, session: str, as_json: bool) -> None:
    """Show the conversation a session's events describe.

    Who said what (user transcripts, assistant text and transcripts), tool calls with
    their arguments and results, where audio was cut, deleted items, and each
    response's status, latency and tokens.
    """
    with reading(db_path) as conn:
        ref = resolve_session(conn, session)
        views_current(conn, ref.id)
        state = read_projection(conn, ref.id)
    click.echo(dumps(state) if as_json else "\n".join(render(state)))


COMMANDS = [show]
