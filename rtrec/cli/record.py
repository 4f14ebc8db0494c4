"""`rtrec record`: run the relay until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from typing import TYPE_CHECKING

import click

from rtrec.access import AccessPolicy
from rtrec.aio import loop_name, run, stop_on_signals
from rtrec.cli.options import db_option, listen_option, tls_options
from rtrec.errors import ConfigError, RtrecError
from rtrec.handshake import DEFAULT_MAX_FRAME
from rtrec.listener import wildcard_note
from rtrec.recorder.routing import TEST_OVERRIDE_ENV
from rtrec.recorder.service import Recorder
from rtrec.store.handoff import (
    DEFAULT_MAX_PENDING_BYTES,
    DEFAULT_SPILL_MAX_BYTES,
    DEFAULT_SPILL_RESERVE_BYTES,
)
from rtrec.tls import server_context

if TYPE_CHECKING:
    from collections.abc import Callable

    from rtrec.otel.worker import TraceWorker
    from rtrec.store.session import LiveSession

DEFAULT_LISTEN = "127.0.0.1:8765"


# Text with word boundaries, punctuation and digits, as frames have: a pattern that
# finds an empty match here would insert [redacted] all over every frame.
_EMPTY_MATCH_PROBE = '{"type": "x.y", "n": 1}\n'


def compile_patterns(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for pattern in patterns:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"bad --redact {pattern!r}: {exc}") from exc
        if any(m.start() == m.end() for m in regex.finditer(_EMPTY_MATCH_PROBE)):
            raise ConfigError(
                f"bad --redact {pattern!r}: it matches the empty string, so it would redact "
                "every frame; give a pattern that matches at least one character"
            )
        compiled.append(regex)
    return tuple(compiled)


@click.command()
@db_option
@listen_option(DEFAULT_LISTEN)
@click.option(
    "--upstream",
    metavar="URL",
    help="Send every session to this server (ws:// or wss://, e.g. an Azure resource); the "
    "client's path and query are kept. Default: by path, OpenAI paths to "
    "wss://api.openai.com, Gemini Live paths to wss://generativelanguage.googleapis.com.",
)
@click.option(
    "--max-frame-mib",
    type=click.IntRange(1, 1024),
    default=DEFAULT_MAX_FRAME // (1024 * 1024),
    show_default=True,
    help="Largest frame accepted from either side, in MiB.",
)
@click.option(
    "--auth-token",
    envvar="RTREC_AUTH_TOKEN",
    help="Serve only clients presenting this token (X-Rtrec-Auth header or rtrec_token "
    "query parameter). Needed to listen beyond loopback. Env RTREC_AUTH_TOKEN.",
)
@click.option(
    "--insecure-no-auth",
    is_flag=True,
    help="Listen beyond loopback without a token (anyone who can connect can use it).",
)
@click.option(
    "--api-key-env",
    metavar="NAME",
    help="Add the upstream key from environment variable NAME, so clients (browsers) "
    "never hold it; it replaces any key the client sends. Sent only to --upstream, or "
    "without it only to wss://api.openai.com.",
)
@click.option(
    "--gemini-key-env",
    metavar="NAME",
    help="Without --upstream: add the Gemini API key from environment variable NAME "
    "(as x-goog-api-key), sent only to wss://generativelanguage.googleapis.com.",
)
@tls_options
@click.option(
    "--redact",
    "redact_patterns",
    multiple=True,
    metavar="REGEX",
    help="Replace matches with [redacted] in frames before they are written (repeatable).",
)
@click.option(
    "--buffer-mib",
    type=click.IntRange(1, 65536),
    default=DEFAULT_MAX_PENDING_BYTES // 2**20,
    show_default=True,
    help="Events held in memory while the database refuses writes, before spilling.",
)
@click.option(
    "--spill-max-mib",
    type=click.IntRange(1, 1024 * 1024),
    default=DEFAULT_SPILL_MAX_BYTES // 2**20,
    show_default=True,
    help="Largest spill file (next to the database) before events are dropped, loudly.",
)
@click.option(
    "--spill-reserve-mib",
    type=click.IntRange(0, 1024 * 1024),
    default=DEFAULT_SPILL_RESERVE_BYTES // 2**20,
    show_default=True,
    help="Disk space claimed for the spill file at start, so a full disk still has room.",
)
@click.option(
    "--otel",
    is_flag=True,
    help="Send each session to an OpenTelemetry backend as a trace when it ends (see "
    "rtrec otel; endpoint and headers from the standard OTEL_EXPORTER_OTLP_* variables).",
)
@click.option("--otel-endpoint", metavar="URL", help="OTLP receiver for --otel (implies it).")
@click.option(
    "--otel-with-content",
    is_flag=True,
    help="With --otel: include transcripts, instructions, tool arguments and outputs.",
)
def record(
    db_path: str,
    listen: tuple[str, int],
    upstream: str | None,
    max_frame_mib: int,
    auth_token: str | None,
    insecure_no_auth: bool,
    api_key_env: str | None,
    gemini_key_env: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    redact_patterns: tuple[str, ...],
    buffer_mib: int,
    spill_max_mib: int,
    spill_reserve_mib: int,
    otel: bool,
    otel_endpoint: str | None,
    otel_with_content: bool,
) -> None:
    """Relay realtime sessions to the upstream server and record every frame.

    Point a client at ws://HOST:PORT/v1/realtime?model=… (or a Gemini Live or GPT-Live
    path) instead of the API; it keeps its own credentials, which are forwarded to that
    upstream only and never recorded.  GET /healthz answers "ok".
    """
    host, port = listen
    access = AccessPolicy.for_listen(host, auth_token, insecure_no_auth)
    traces = None
    if otel or otel_endpoint:
        from rtrec.otel.export import resolve_destination
        from rtrec.otel.spans import TraceOptions
        from rtrec.otel.worker import TraceWorker

        traces = TraceWorker(
            db_path,
            resolve_destination(endpoint=otel_endpoint),
            TraceOptions(with_content=otel_with_content),
        )
    recorder = Recorder(
        db_path,
        upstream=upstream,
        host=host,
        port=port,
        max_frame=max_frame_mib * 1024 * 1024,
        access=access,
        upstream_key=_key_from_env("--api-key-env", api_key_env),
        gemini_key=_key_from_env("--gemini-key-env", gemini_key_env),
        route_origins=_test_route_origins(),
        tls=server_context(tls_cert, tls_key),
        redact=compile_patterns(redact_patterns),
        max_pending_bytes=buffer_mib * 2**20,
        spill_max_bytes=spill_max_mib * 2**20,
        spill_reserve_bytes=spill_reserve_mib * 2**20,
        on_session_complete=None if traces is None else _send_trace_of(traces),
    )
    run(_record_until_stopped(recorder, traces))


def _send_trace_of(traces: TraceWorker) -> Callable[[LiveSession], None]:
    def send(session: LiveSession) -> None:
        if session.db_id is not None:  # set: its end is committed, its views complete
            traces.submit(session.db_id)

    return send


def _key_from_env(flag: str, name: str | None) -> str | None:
    if name is None:
        return None
    key = os.environ.get(name, "").strip()
    if not key:
        raise ConfigError(f"{flag}: environment variable {name} is not set")
    return key


def _test_route_origins() -> dict[str, str]:
    """Stand-ins for the routing table's hosts, from the environment at start-up (tests)."""
    return {name: os.environ[var] for name, var in TEST_OVERRIDE_ENV.items() if var in os.environ}


async def _record_until_stopped(recorder: Recorder, traces: TraceWorker | None = None) -> None:
    stop = stop_on_signals()
    loop = asyncio.get_running_loop()
    if traces is not None:

        def warn(text: str) -> None:  # from the worker's thread
            loop.call_soon_threadsafe(recorder.status.note, text)

        traces.start(warn)
    await recorder.start()
    print(
        f"rtrec: recording to {recorder.db_path}; relaying {recorder.url} → "
        f"{recorder.config.routes.describe()} ({loop_name()}); Ctrl-C to stop",
        file=sys.stderr,
        flush=True,
    )
    note = wildcard_note(recorder.config.host, recorder.server.port if recorder.server else 0)
    if note is not None:
        print(f"rtrec: {note}", file=sys.stderr, flush=True)
    await stop.wait()
    ok = await recorder.stop()
    if traces is not None:
        await asyncio.to_thread(traces.close)  # the last sessions' traces, bounded
    writer = recorder.writer
    if not ok:
        raise RtrecError(
            f"stopped; {writer.events_dropped if writer else '?'} events could not be "
            f"kept, neither in {recorder.db_path} nor in a spill file"
        )
    if writer is not None and writer.events_spilled:
        print(
            f"rtrec: stopped; {writer.events_spilled} events are in {writer.spill_path}: "
            f"bring them back with: rtrec import {writer.spill_path}",
            file=sys.stderr,
            flush=True,
        )
    else:
        print("rtrec: stopped; every session flushed", file=sys.stderr, flush=True)


COMMANDS = [record]
