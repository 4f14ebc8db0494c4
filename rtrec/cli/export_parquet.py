"""`rtrec export-parquet`: the log and its views as a Hive-partitioned Parquet dataset."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rtrec.cli.export_wav import ProgressBar
from rtrec.cli.options import db_option
from rtrec.fleet.dataset import default_recorder
from rtrec.fleet.engines import require

MAX_LOST_SHOWN = 10


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


@click.command(name="export-parquet")
@db_option
@click.argument("sessions", nargs=-1, metavar="[SESSION]...")
@click.option(
    "--out",
    "out_dir",
    metavar="DIR",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="The dataset directory (created if missing; an existing dataset is updated).",
)
@click.option(
    "--recorder",
    metavar="NAME",
    default=default_recorder,
    show_default="this host's name",
    help="This recorder's name: its partition, recorder=NAME.",
)
@click.option(
    "--since",
    metavar="DATE",
    help="Only sessions that started on or after DATE (YYYY-MM-DD, UTC).",
)
@click.option(
    "--include-open",
    is_flag=True,
    help="Also export sessions still being recorded, as far as they have got.",
)
@click.option(
    "--with-audio",
    is_flag=True,
    help="Add each audio event's decoded audio to events, as a binary column `audio`.",
)
def export_parquet(
    db_path: str,
    sessions: tuple[str, ...],
    out_dir: Path,
    recorder: str,
    since: str | None,
    include_open: bool,
    with_audio: bool,
) -> None:
    """Write the sessions (all, or SESSION...) and their views into --out DIR.

    One Parquet part per session per table, in DIR/TABLE/date=DAY/recorder=NAME.
    Run it again at any time: only new or changed sessions are written, and a session
    still recording waits until it ends (or --include-open).  The database is only read.
    """
    require("pyarrow", "rtrec export-parquet")
    from rtrec.fleet.export import ExportOptions, check_date, export_dataset

    options = ExportOptions(
        out_dir=out_dir,
        recorder=recorder,
        since=check_date(since) if since is not None else None,
        include_open=include_open,
        with_audio=with_audio,
        sessions=sessions,
    )
    progress = ProgressBar(sys.stderr)
    try:
        result = export_dataset(db_path, options, progress=progress)
    finally:
        progress.clear()
    for i, (column, n) in enumerate(sorted(result.lost.items())):
        if i == MAX_LOST_SHOWN:
            click.echo(f"rtrec: warning: … and {len(result.lost) - i} more columns", err=True)
            break
        click.echo(
            f"rtrec: warning: {_plural(n, 'value')} of {column} did not fit its type "
            "and were written as NULL",
            err=True,
        )
    parts = [f"exported {_plural(len(result.exported), 'session')}"]
    if result.exported:
        parts[0] += f" ({_plural(result.rows['events'], 'event')})"
    parts[0] += f" into {out_dir} as recorder {recorder}"
    if result.unchanged:
        parts.append(f"{result.unchanged:,} unchanged")
    if result.still_recording:
        parts.append(
            f"{_plural(len(result.still_recording), 'session')} still recording "
            "(--include-open exports them as they are)"
        )
    click.echo("; ".join(parts))


COMMANDS = [export_parquet]
