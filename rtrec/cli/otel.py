"""`rtrec otel [SESSION…|--all|--since DATE]`: send recorded sessions as OpenTelemetry traces."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import click

from rtrec.cli.options import db_option
from rtrec.cli.reading import views_current
from rtrec.errors import ConfigError, RtrecError
from rtrec.otel.export import PROTOCOLS, ExportFailed, SpanSender, resolve_destination
from rtrec.otel.session import traced_session
from rtrec.otel.spans import Trace, TraceOptions
from rtrec.otel.tree import render_tree
from rtrec.store.reading import open_reader
from rtrec.store.trace_source import sessions_to_trace

_RELATIVE = re.compile(r"(\d+)\s*([smhdw])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, now: datetime | None = None) -> int:
    """--since: a UTC date or time (as `rtrec sessions` shows them), or an age like 24h."""
    value = text.strip()
    relative = _RELATIVE.fullmatch(value)
    if relative:
        now = now or datetime.now(UTC)
        seconds = int(relative[1]) * _UNIT_S[relative[2]]
        return int((now.timestamp() - seconds) * 1e9)
    try:
        moment = datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        raise ConfigError(
            f"bad --since {text!r}: give a UTC date or time (2026-12-01, "
            "'2026-12-01 20:00') or an age (30m, 24h, 7d)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1e9)


@click.command()
@db_option
@click.argument("sessions", nargs=-1, metavar="[SESSION]...")
@click.option("--all", "every", is_flag=True, help="Every session that has ended.")
@click.option(
    "--since",
    metavar="DATE",
    help="Sessions started since DATE (UTC, e.g. 2026-12-01 or '2026-12-01 20:00') or "
    "within an age (30m, 24h, 7d).",
)
@click.option(
    "--endpoint",
    metavar="URL",
    help="OTLP receiver, e.g. http://localhost:4318 (/v1/traces is added for HTTP). "
    "Default: $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, $OTEL_EXPORTER_OTLP_ENDPOINT, "
    "http://localhost:4318. Headers (API keys): $OTEL_EXPORTER_OTLP_HEADERS.",
)
@click.option(
    "--protocol",
    type=click.Choice(PROTOCOLS),
    help="OTLP transport. Default: $OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Seconds to keep trying one request (retries included). "
    "Default: $OTEL_EXPORTER_OTLP_TIMEOUT, else 10.",
)
@click.option(
    "--with-content",
    is_flag=True,
    help="Include transcripts, instructions, tool arguments and outputs (personal data).",
)
@click.option(
    "--with-audio", is_flag=True, help="Include the audio of each turn and reply, as base64 WAV."
)
@click.option("--dry-run", is_flag=True, help="Print each trace's span tree; send nothing.")
def otel(
    db_path: str,
    sessions: tuple[str, ...],
    every: bool,
    since: str | None,
    endpoint: str | None,
    protocol: str | None,
    timeout: float | None,
    with_content: bool,
    with_audio: bool,
    dry_run: bool,
) -> None:
    """Send sessions to an OpenTelemetry backend as traces, one trace per session.

    SESSION is a session id, a uuid prefix, or `last`. Span times are the recorded
    ones; trace and span ids derive from the session's uuid, so sending a session
    again replaces it rather than adding a copy. Records nothing of what it sent.
    """
    if not (sessions or every or since):
        raise ConfigError("say which sessions: SESSION…, --all, or --since DATE")
    since_ns = parse_since(since) if since else None
    destination = None if dry_run else resolve_destination(protocol, endpoint, timeout)
    options = TraceOptions(with_content=with_content, with_audio=with_audio)
    conn = open_reader(db_path)
    sender = SpanSender(destination) if destination is not None else None
    sent = 0
    still_open = []
    try:
        views_current(conn)
        chosen = sessions_to_trace(conn, sessions, every=every, since_ns=since_ns)
        for ref, ended in chosen:
            if not ended:
                still_open.append(ref)
                continue
            if sender is None:
                with traced_session(conn, ref, TraceOptions()) as trace:
                    click.echo("\n".join(render_tree(trace)))
                continue
            try:
                with traced_session(conn, ref, options) as trace:
                    count = sender.send(trace)
            except ExportFailed as exc:
                done = f"; {sent} of {len(chosen)} sessions were sent" if sent else ""
                raise RtrecError(f"{exc}{done}") from exc
            sent += 1
            click.echo(f"session {ref.id}: {count} spans, trace {_hex(trace)}")
    finally:
        conn.close()
        if sender is not None:
            sender.close()
    for ref in still_open:
        click.echo(
            f"rtrec: session {ref.id} is still being recorded: not sent "
            "(rtrec record --otel sends sessions as they end)",
            err=True,
        )
    if not chosen:
        click.echo("rtrec: no sessions match", err=True)
    elif sender is not None:
        sessions_sent = "1 session" if sent == 1 else f"{sent} sessions"
        click.echo(f"rtrec: sent {sessions_sent} to {sender.destination.shown}", err=True)
    if sessions and still_open:
        raise RtrecError(f"{len(still_open)} of the sessions named are still being recorded")


def _hex(trace: Trace) -> str:
    return f"{trace.trace_id:032x}"


COMMANDS = [otel]
