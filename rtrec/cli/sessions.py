"""`rtrec sessions`: the recorded sessions, newest last."""

from __future__ import annotations

import json

import click

from rtrec.cli.options import db_option, json_option
from rtrec.store.overview import session_rows
from rtrec.store.projected import refresh
from rtrec.store.reading import open_reader
from rtrec.timefmt import format_duration


def _seconds(ms: object) -> str:
    return f"{float(ms) / 1000:.1f}" if isinstance(ms, int | float) else "-"


@click.command()
@db_option
@json_option
def sessions(db_path: str, as_json: bool) -> None:
    """List recorded sessions: id, start, duration, model, events, audio, end reason."""
    conn = open_reader(db_path)
    try:
        warning = refresh(conn)  # audio seconds, voice… come from the projections
        rows = session_rows(conn)
    finally:
        conn.close()
    if warning:
        click.echo(f"rtrec: {warning}", err=True)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    header = (
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
    table = [header]
    for row in rows:
        duration = row.get("duration_ms")
        table.append(
            (
                str(row["session_id"]),
                str(row["uuid"])[:8],
                str(row["started_at"])[:19].replace("T", " "),
                format_duration(float(duration) / 1000)
                if isinstance(duration, int | float)
                else "-",
                str(row.get("protocol") or "-"),
                str(row.get("model") or "-"),
                str(row["event_count"]),
                _seconds(row.get("audio_in_ms")),
                _seconds(row.get("audio_out_ms")),
                str(row.get("end_reason") or "open"),
            )
        )
    if len(table) == 1:
        click.echo("no sessions recorded yet (try: rtrec demo)")
        return
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    numeric = {0, 3, 6, 7, 8}
    for r in table:
        cells = [
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        click.echo("  ".join(cells).rstrip())


COMMANDS = [sessions]
