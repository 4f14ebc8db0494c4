"""`rtrec view SESSION`: one self-contained HTML page of a call, to open from disk."""

from __future__ import annotations

import re
import webbrowser
from pathlib import Path

import click

from rtrec.cli.options import db_option, session_argument
from rtrec.cli.reading import views_current
from rtrec.store.reader import resolve_session
from rtrec.store.reading import reading


def default_output(session: str) -> Path:
    """rtrec-SESSION.html, with SESSION as given (`last`, an id, a uuid prefix)."""
    return Path(f"rtrec-{re.sub(r'[^A-Za-z0-9_.-]', '_', session.strip()) or 'session'}.html")


@click.command()
@db_option
@session_argument
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the page.  [default: rtrec-SESSION.html]",
)
@click.option("--open", "open_page", is_flag=True, help="Open the page in the default browser.")
def view(db_path: str, session: str, output: Path | None, open_page: bool) -> None:
    """Write one HTML page of a session: timeline, audio, transcript, event log, charts.

    Everything is inline (scripts, styles, data and the audio, compressed), so the page
    opens from disk with no network and no server.
    """
    # Imported here: numpy, soundfile and the page's static files are for this command only.
    from rtrec.view.build import gather
    from rtrec.view.page import write_page

    target = output or default_output(session)
    with reading(db_path) as conn:
        ref = resolve_session(conn, session)
        views_current(conn, ref.id)
        parts = gather(conn, ref.id)
    try:
        size = write_page(parts, target)
        audio = sum(parts.audio.sizes) if parts.audio is not None else 0
    finally:
        parts.close()
    click.echo(
        f"wrote {target} ({size / 1e6:.1f} MB, of which audio {audio * 4 / 3 / 1e6:.1f} MB) "
        f"for session {ref.id}"
    )
    if open_page:
        webbrowser.open(target.resolve().as_uri())


COMMANDS = [view]
