"""`rtrec replay`: a recorded session on its timeline, to the terminal, to clients, or upstream."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import ssl
import sys
from dataclasses import dataclass

import click

from rtrec.access import AccessPolicy
from rtrec.aio import run
from rtrec.cli.options import db_option, session_argument, tls_options
from rtrec.errors import ConfigError, RtrecError
from rtrec.listener import wildcard_note
from rtrec.replay.player import JsonlSink, TerminalSink, play
from rtrec.replay.resend import handshake_headers, resend, target_url, with_gemini_key
from rtrec.replay.selection import Bound, Selection, SelectionError, TypeFilter
from rtrec.replay.server import ReplayServer
from rtrec.replay.session import PACES, ReplayOptions
from rtrec.replay.source import ReplaySource
from rtrec.replay.terminal import TerminalView
from rtrec.replay.timeline import MAX_IDLE_LIMIT_S, MAX_SPEED, MIN_SPEED
from rtrec.timefmt import plural
from rtrec.tls import server_context


@dataclass(frozen=True)
class Target:
    """Where the replay goes, from the mutually exclusive target flags."""

    kind: str  # terminal | jsonl | serve | to
    value: str | None = None


def parse_positive(flag: str, text: str, *, low: float = 0.0, high: float) -> float:
    """A number > 0 (and >= low when low is set), at most `high`."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0 and low <= value <= high):
        expected = f"from {low:g} to {high:g}" if low else f"> 0, at most {high:g}"
        raise ConfigError(f"bad {flag} {text!r}: expected a number {expected}")
    return value


def parse_address(flag: str, value: str) -> tuple[str, int]:
    """HOST:PORT, [IPv6]:PORT, :PORT or PORT (host 127.0.0.1)."""
    text = value.strip()
    host, port_text = "127.0.0.1", text
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or text[end + 1 : end + 2] != ":":
            raise ConfigError(f"bad {flag} {value!r}: expected [IPV6]:PORT")
        host, port_text = text[1:end], text[end + 2 :]
    elif ":" in text:
        host, _, port_text = text.rpartition(":")
        host = host or "127.0.0.1"
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(f"bad {flag} {value!r}: expected HOST:PORT with a port 0-65535")
    return host, int(port_text)


def _selection(
    start: str | None, end: str | None, only: str | None, types: tuple[str, ...]
) -> Selection:
    def parsed(flag: str, parse, value):  # noqa: ANN001
        try:
            return parse(value)
        except SelectionError as exc:
            raise ConfigError(f"bad {flag}: {exc}") from exc

    return Selection(
        start=parsed("--from", Bound.parse, start) if start is not None else None,
        end=parsed("--until", Bound.parse, end) if end is not None else None,
        only=parsed("--only", _direction, only) if only is not None else None,
        types=parsed("--type", TypeFilter.parse, types),
    )


def _direction(text: str) -> str:
    value = text.strip().lower()
    if value not in ("client", "server"):
        raise SelectionError(f"{text!r}: expected client or server")
    return value


def _target(jsonl: bool, serve: str | None, to_url: str | None) -> Target:
    chosen = [
        t
        for t in (
            Target("jsonl") if jsonl else None,
            Target("serve", serve) if serve is not None else None,
            Target("to", to_url) if to_url is not None else None,
        )
        if t is not None
    ]
    if len(chosen) > 1:
        raise ConfigError("choose one of --jsonl, --serve and --to")
    return chosen[0] if chosen else Target("terminal")


@click.command()
@db_option
@session_argument
@click.option("--speed", default="1", metavar="F", help="Play F times faster (F > 0).")
@click.option(
    "--idle-limit",
    metavar="SECONDS",
    help="Shorten every gap between events longer than SECONDS to SECONDS (before --speed).",
)
@click.option("--jsonl", is_flag=True, help="Print the exact frames as `rtrec export` lines.")
@click.option(
    "--serve",
    metavar="HOST:PORT",
    help="Act as the recorded session's kind of server, for clients.",
)
@click.option(
    "--pace",
    metavar="clock|client",
    help="--serve: send on the recorded clock (default), or wait for the client's events.",
)
@click.option("--strict", is_flag=True, help="--serve: close a client that deviates (4001/4002).")
@click.option("--loop", "loop_", is_flag=True, help="--serve: serve every new client until Ctrl-C.")
@click.option("--to", "to_url", metavar="URL", help="Re-send the client events to a live server.")
@click.option(
    "--header",
    "headers",
    multiple=True,
    metavar="'NAME: VALUE'",
    help="--to: a handshake header (repeatable); default auth from OPENAI_API_KEY "
    "(Gemini: ?key= from GOOGLE_API_KEY or GEMINI_API_KEY).",
)
@click.option("--from", "start", metavar="T|#SEQ", help="Start at seconds T or sequence #SEQ.")
@click.option("--until", "end", metavar="T|#SEQ", help="End at seconds T or sequence #SEQ.")
@click.option("--only", metavar="client|server", help="Only one direction's events.")
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="PATTERN",
    help="Only event types matching PATTERN (glob or dotted prefix; !PATTERN excludes).",
)
@click.option("--color/--no-color", default=None, help="Colour (default: on a terminal).")
@click.option(
    "--auth-token",
    envvar="RTREC_AUTH_TOKEN",
    help="--serve: serve only clients presenting this token (as for record). Needed to "
    "serve beyond loopback. Env RTREC_AUTH_TOKEN.",
)
@click.option(
    "--insecure-no-auth",
    is_flag=True,
    help="--serve: serve beyond loopback without a token (anyone who can connect can listen).",
)
@tls_options
def replay(
    db_path: str,
    session: str,
    speed: str,
    idle_limit: str | None,
    jsonl: bool,
    serve: str | None,
    pace: str | None,
    strict: bool,
    loop_: bool,
    to_url: str | None,
    headers: tuple[str, ...],
    start: str | None,
    end: str | None,
    only: str | None,
    types: tuple[str, ...],
    color: bool | None,
    auth_token: str | None,
    insecure_no_auth: bool,
    tls_cert: str | None,
    tls_key: str | None,
) -> None:
    """Re-emit a recorded session on its timeline, scaled by --speed.

    By default a readable live stream goes to stdout; --jsonl prints the exact frames;
    --serve HOST:PORT plays the server side to connecting clients (the openai SDK
    included); --to URL re-sends the client side to a live server and records the
    new session, linked to this one.  T is seconds (12.5, 1:02.5) or #SEQ a sequence
    number, both inclusive.
    """
    speed_f = parse_positive("--speed", speed, low=MIN_SPEED, high=MAX_SPEED)
    idle_s = (
        parse_positive("--idle-limit", idle_limit, high=MAX_IDLE_LIMIT_S)
        if idle_limit is not None
        else None
    )
    selection = _selection(start, end, only, types)
    target = _target(jsonl, serve, to_url)
    if target.kind != "serve":
        for flag, given in (("--pace", pace), ("--strict", strict), ("--loop", loop_)):
            if given:
                raise ConfigError(f"{flag} applies to --serve")
    if headers and target.kind != "to":
        raise ConfigError("--header applies to --to")
    if only is not None and target.kind in ("serve", "to"):
        raise ConfigError(f"--only applies to the terminal and --jsonl, not --{target.kind}")
    pace_value = (pace or "clock").strip().lower()
    if pace_value not in PACES:
        raise ConfigError(f"bad --pace {pace!r}: expected clock or client")
    options = ReplayOptions(speed_f, idle_s, pace_value, strict)
    serving = target.value if target.kind == "serve" else None
    address = parse_address("--serve", serving) if serving is not None else None
    door = _serve_door(address, auth_token, insecure_no_auth, tls_cert, tls_key)

    source = ReplaySource.open(db_path, session, selection)
    if target.kind in ("terminal", "jsonl"):
        _to_stdout(source, options, jsonl=target.kind == "jsonl", colour=color)
    elif address is not None and door is not None:
        run(_serve(source, options, address, loop_, door))
    else:
        assert target.value is not None
        _resend(source, options, target.value, headers)


def _to_stdout(
    source: ReplaySource, options: ReplayOptions, *, jsonl: bool, colour: bool | None
) -> None:
    if source.is_empty:
        raise RtrecError(f"nothing to replay: {source.session.label} has no events in that range")
    out = sys.stdout
    if jsonl:
        sink: JsonlSink | TerminalSink = JsonlSink(out)
    else:
        if colour is None:
            colour = out.isatty() and not os.environ.get("NO_COLOR")
        conn = source.connect()
        cursor = source.media_cursor(conn)

        def done() -> None:
            cursor.close()
            conn.close()

        view = TerminalView(source.session.adapter, cursor, colour=colour)
        sink = TerminalSink(out, view, on_finish=done)
    # A reader that goes away (`| head`) ends the replay quietly: see rtrec/cli/main.py.
    emitted = run(play(source, sink, speed=options.speed, idle_limit_s=options.idle_limit_s))
    if emitted == 0:
        raise RtrecError(f"nothing to replay: no event of {source.session.label} matches")


@dataclass(frozen=True)
class _Door:
    """--serve's access rule and TLS (the same as record's)."""

    access: AccessPolicy
    tls: ssl.SSLContext | None


def _serve_door(
    address: tuple[str, int] | None,
    auth_token: str | None,
    insecure_no_auth: bool,
    tls_cert: str | None,
    tls_key: str | None,
) -> _Door | None:
    if address is None:
        # RTREC_AUTH_TOKEN in the environment is no mistake: only the flags are.
        source = click.get_current_context().get_parameter_source("auth_token")
        given = (
            ("--auth-token", source is click.core.ParameterSource.COMMANDLINE),
            ("--insecure-no-auth", insecure_no_auth),
            ("--tls-cert", tls_cert),
            ("--tls-key", tls_key),
        )
        for flag, value in given:
            if value:
                raise ConfigError(f"{flag} applies to --serve")
        return None
    access = AccessPolicy.for_listen(address[0], auth_token, insecure_no_auth)
    return _Door(access, server_context(tls_cert, tls_key))


async def _serve(
    source: ReplaySource,
    options: ReplayOptions,
    address: tuple[str, int],
    loop: bool,
    door: _Door,
) -> None:
    def log(line: str) -> None:
        print(f"rtrec replay: {line}", file=sys.stderr, flush=True)

    server = ReplayServer(
        source,
        options,
        host=address[0],
        port=address[1],
        loop=loop,
        log=log,
        access=door.access,
        tls=door.tls,
    )
    await server.start()
    stop = asyncio.Event()
    event_loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        event_loop.add_signal_handler(signum, stop.set)
    how = f"pace {options.pace}, speed {options.speed:g}x" + (", strict" if options.strict else "")
    ending = "every client, until Ctrl-C" if loop else "until the clients are done"
    click.echo(f"rtrec replay: serving {source.session.label} at {server.url} ({how}); {ending}")
    if source.session.protocol == "gemini":
        origin = server.url.removesuffix("/v1").replace("ws://", "https://", 1)
        click.echo(
            f'  google-genai: http_options={{"base_url": "{origin}"}} '
            "(the SDK connects with TLS: put TLS in front)"
        )
    else:
        click.echo(f'  openai SDK: AsyncOpenAI(websocket_base_url="{server.url}")')
    note = wildcard_note(address[0], server.port)
    if note is not None:
        click.echo(f"  {note}")
    sys.stdout.flush()
    finished = asyncio.create_task(server.finished.wait())
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({finished, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        finished.cancel()
        stopping.cancel()
        await server.stop()


def _resend(
    source: ReplaySource, options: ReplayOptions, url: str, header_args: tuple[str, ...]
) -> None:
    target = with_gemini_key(target_url(url, source.session), source.session, os.environ)
    headers = handshake_headers(header_args, source.session, os.environ, target)
    if source.is_empty:
        raise RtrecError(f"nothing to replay: {source.session.label} has no events in that range")

    def log(line: str) -> None:
        print(f"rtrec replay: {line}", file=sys.stderr, flush=True)

    result = run(resend(source, options, target, headers, log=log))
    original = source.session.ref.id
    click.echo(
        f"recorded session {result.session_id} ({result.uuid[:8]}), replayed from session "
        f"{original}: {plural(result.client_events_sent, 'client event')} sent, "
        f"{plural(result.server_events_received, 'server event')} received, {result.end_reason}"
    )
    click.echo(f"  compare: rtrec show {original}; rtrec show {result.session_id}")


COMMANDS = [replay]
