"""`rtrec record`: run the relay until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys

import click

from rtrec.aio import loop_name, run
from rtrec.cli.options import db_option
from rtrec.errors import ConfigError, RtrecError
from rtrec.recorder.access import AccessPolicy
from rtrec.recorder.server import DEFAULT_MAX_FRAME
from rtrec.recorder.service import Recorder
from rtrec.recorder.upstream import DEFAULT_UPSTREAM
from rtrec.store.handoff import (
    DEFAULT_MAX_PENDING_BYTES,
    DEFAULT_SPILL_MAX_BYTES,
    DEFAULT_SPILL_RESERVE_BYTES,
)

DEFAULT_LISTEN = "127.0.0.1:8765"


def parse_listen(value: str) -> tuple[str, int]:
    """HOST:PORT, [IPv6]:PORT, :PORT or PORT (host 127.0.0.1)."""
    text = value.strip()
    host, port_text = "127.0.0.1", text
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or text[end + 1 : end + 2] != ":":
            raise ConfigError(f"bad --listen {value!r}: expected [IPV6]:PORT")
        host, port_text = text[1:end], text[end + 2 :]
    elif ":" in text:
        host, _, port_text = text.rpartition(":")
        host = host or "127.0.0.1"
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(f"bad --listen {value!r}: expected HOST:PORT with a port 0-65535")
    return host, int(port_text)


def compile_patterns(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise ConfigError(f"bad --redact {pattern!r}: {exc}") from exc
    return tuple(compiled)


@click.command()
@db_option
@click.option(
    "--listen", default=DEFAULT_LISTEN, show_default=True, help="HOST:PORT to accept clients on."
)
@click.option(
    "--upstream",
    default=DEFAULT_UPSTREAM,
    show_default=True,
    help="Origin of the Realtime server (ws:// or wss://); the client's path and query are kept.",
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
    "never hold it; it replaces any key the client sends.",
)
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
def record(
    db_path: str,
    listen: str,
    upstream: str,
    max_frame_mib: int,
    auth_token: str | None,
    insecure_no_auth: bool,
    api_key_env: str | None,
    redact_patterns: tuple[str, ...],
    buffer_mib: int,
    spill_max_mib: int,
    spill_reserve_mib: int,
) -> None:
    """Relay Realtime sessions to the upstream server and record every frame.

    Point a client at ws://HOST:PORT/v1/realtime?model=… instead of the API; it keeps
    its own credentials, which are forwarded and never recorded.
    """
    host, port = parse_listen(listen)
    access = AccessPolicy.for_listen(host, auth_token, insecure_no_auth)
    upstream_key = None
    if api_key_env is not None:
        upstream_key = os.environ.get(api_key_env)
        if not upstream_key:
            raise ConfigError(f"--api-key-env: environment variable {api_key_env} is not set")
    recorder = Recorder(
        db_path,
        upstream=upstream,
        host=host,
        port=port,
        max_frame=max_frame_mib * 1024 * 1024,
        access=access,
        upstream_key=upstream_key,
        redact=compile_patterns(redact_patterns),
        max_pending_bytes=buffer_mib * 2**20,
        spill_max_bytes=spill_max_mib * 2**20,
        spill_reserve_bytes=spill_reserve_mib * 2**20,
    )
    run(_record_until_stopped(recorder, upstream))


async def _record_until_stopped(recorder: Recorder, upstream: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await recorder.start()
    print(
        f"rtrec: recording to {recorder.db_path}; relaying {recorder.url} → {upstream} "
        f"({loop_name()}); Ctrl-C to stop",
        file=sys.stderr,
        flush=True,
    )
    await stop.wait()
    ok = await recorder.stop()
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
