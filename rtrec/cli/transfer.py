"""`rtrec export` and `rtrec import`: sessions in the JSONL interchange format."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TextIO, cast

import click

from rtrec.cli.options import db_option, session_argument
from rtrec.errors import RtrecError
from rtrec.jsonl import encode_line
from rtrec.outfile import complete_or_nothing
from rtrec.store.importer import import_jsonl, is_spill, restore_spill
from rtrec.store.reader import iter_frames, resolve_session
from rtrec.store.reading import reading
from rtrec.store.spill import SpillLines, is_reserved_space
from rtrec.store.staging import database_if_complete
from rtrec.timefmt import plural


@click.command()
@db_option
@session_argument
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to FILE instead of stdout.",
)
def export(db_path: str, session: str, output: str | None) -> None:
    """Write a session as JSONL: one line per frame, exactly as it crossed the wire."""
    with reading(db_path) as conn:
        ref = resolve_session(conn, session)
        with _output(output) as out:
            for frame in iter_frames(conn, ref.id):
                out.write(encode_line(frame.t_ns, frame.direction, frame.frame))
                out.write("\n")


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    with complete_or_nothing(path, "w", encoding="utf-8", newline="\n") as out:
        yield cast(TextIO, out)  # opened in text mode


@click.command(name="import")
@db_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
def import_(db_path: str, file: str) -> None:
    """Import a JSONL file (rtrec's format, or bare events) as a new session.

    All or nothing: a bad line is reported with its number and nothing is imported.
    A spill file left by `rtrec record` is restored into the sessions it came from.
    """
    if file != "-" and is_reserved_space(file):
        raise RtrecError(
            f"{file} holds no events: it is space a recorder reserved for spilling and "
            "never used (the next recording removes it)"
        )
    with database_if_complete(db_path) as conn:
        if file != "-" and is_spill(next(iter(SpillLines(file)), b"")):
            spill = SpillLines(file)
            restored = restore_spill(conn, spill, source_name=file)
            click.echo(
                f"restored {plural(restored.added, 'event')} into "
                f"{plural(len(restored.sessions), 'session')} "
                f"({restored.already_there} were already there)",
                err=True,
            )
            if spill.torn:
                click.echo(
                    f"{file}: left out an incomplete last line, a write the recorder's "
                    "crash cut short",
                    err=True,
                )
            return
        with _input(file) as lines:
            session = import_jsonl(conn, lines, source_name="<stdin>" if file == "-" else file)
    click.echo(
        f"imported {plural(session.next_seq, 'event')} as session {session.db_id} ({session.uuid})",
        err=True,
    )


@contextlib.contextmanager
def _input(path: str) -> Iterator[Iterator[bytes]]:
    if path == "-":
        yield iter(sys.stdin.buffer)
        return
    with open(path, "rb") as lines:
        yield iter(lines)


COMMANDS = [export, import_]
