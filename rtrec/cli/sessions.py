"""`rtrec sessions`: the recorded sessions, newest last."""

from __future__ import annotations

from collections.abc import Sequence

import click

from rtrec.cli.options import db_option
from rtrec.cli.output import Row, Table, output_options, output_rows
from rtrec.cli.reading import views_current
from rtrec.store.overview import session_rows
from rtrec.store.reading import reading
from rtrec.timefmt import format_duration

HEADERS = (
    "id",
    "uuid",
    "started",
    "duration",
    "protocol",
    "model",
    "events",
    "in s",
    "out s",
    "end",
)
NUMERIC = {0, 3, 6, 7, 8}


def _seconds(ms: object) -> str:
    return f"{float(ms) / 1000:.1f}" if isinstance(ms, int | float) else "-"


def _cells(row: Row) -> Sequence[str]:
    duration = row.get("duration_ms")
    return (
        str(row["session_id"]),
        str(row["uuid"])[:8],
        str(row["started_at"])[:19].replace("T", " "),
        format_duration(float(duration) / 1000) if isinstance(duration, int | float) else "-",
        str(row.get("protocol") or "-"),
        str(row.get("model") or "-"),
        str(row["event_count"]),
        _seconds(row.get("audio_in_ms")),
        _seconds(row.get("audio_out_ms")),
        str(row.get("end_reason") or "open"),
    )


@click.command()
@db_option
@output_options
def sessions(db_path: str, fmt: str | None) -> None:
    """List recorded sessions: id, start, duration, model, events, audio, end reason.

    --json and --csv print every column of the list, unabridged.
    """
    with reading(db_path) as conn:
        views_current(conn)  # audio seconds, voice… come from the projections
        rows = session_rows(conn)
    output_rows(
        rows,
        fmt,
        table=Table(HEADERS, _cells, numeric=NUMERIC, rule=False),
        empty="no sessions recorded yet (try: rtrec demo)",
    )


COMMANDS = [sessions]
