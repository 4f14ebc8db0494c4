"""`rtrec diff A B`: two sessions' conversations side by side, as a unified diff."""

from __future__ import annotations

import json

import click

from rtrec.cli.options import db_option, json_option
from rtrec.cli.reading import views_current
from rtrec.diff import diff_lines, summary, summary_lines
from rtrec.store.projected import read_projection
from rtrec.store.reader import resolve_session
from rtrec.store.reading import reading


@click.command()
@db_option
@click.argument("a", metavar="SESSION_A")
@click.argument("b", metavar="SESSION_B")
@json_option()
@click.option(
    "--exit-code", is_flag=True, help="Exit 1 when the conversations differ (as git diff)."
)
def diff(db_path: str, a: str, b: str, as_json: bool, exit_code: bool) -> None:
    """Compare two sessions' rebuilt conversations (e.g. a call and its replay --to).

    Items are compared by what they say, not by the ids the server gave them.
    SESSION_A and SESSION_B are each a session id, a prefix of its uuid, or `last`.
    """
    with reading(db_path) as conn:
        views_current(conn)
        ref_a, ref_b = resolve_session(conn, a), resolve_session(conn, b)
        left, right = read_projection(conn, ref_a.id), read_projection(conn, ref_b.id)
    label_a, label_b = f"session {ref_a.id}", f"session {ref_b.id}"
    changes = diff_lines(left, right, label_a, label_b)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "a": {"session_id": ref_a.id, **summary(left)},
                    "b": {"session_id": ref_b.id, **summary(right)},
                    "diff": changes,
                    "same": not changes,
                },
                indent=2,
            )
        )
    else:
        for line in summary_lines(left, right, label_a, label_b):
            click.echo(line)
        click.echo()
        click.echo("\n".join(changes) if changes else "The conversations say the same.")
    if exit_code and changes:
        raise click.exceptions.Exit(1)


COMMANDS = [diff]
