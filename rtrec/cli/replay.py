"""`rtrec replay`: a recorded session on its timeline, to the terminal, to clients, or upstream.

Each target (the terminal, --jsonl, --serve, --to) is a function of its own and names
the flags it takes (`TARGETS`): a flag given for another target is refused, by name.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from rtrec.access import AccessPolicy
from rtrec.aio import run, stop_on_signals
from rtrec.cli.options import db_option, session_argument, tls_options
from rtrec.cli.params import HostPort, Number, OneOf, flag_name, parsed_by
from rtrec.errors import ConfigError, RtrecError
from rtrec.listener import wildcard_note
from rtrec.replay.player import JsonlSink, TerminalSink, play
from rtrec.replay.resend import handshake_headers, resend, target_url, with_gemini_key
from rtrec.replay.selection import Bound, Selection, SelectionError, TypeFilter
from rtrec.replay.server import ReplayServer
from rtrec.replay.session import PACES, Pace, ReplayOptions
from rtrec.replay.source import ReplaySource
from rtrec.replay.terminal import TerminalView
from rtrec.replay.timeline import MAX_IDLE_LIMIT_S, MAX_SPEED, MIN_SPEED
from rtrec.timefmt import plural
from rtrec.tls import server_context

DIRECTIONS = ("client", "server")


def say(line: str) -> None:
    """A line of progress on stderr (stdout holds the replay, or what to connect to)."""
    print(f"rtrec replay: {line}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Replay:
    """What every target replays: the session, the part of it, the timeline's pace."""

    db_path: str
    session: str
    selection: Selection
    options: ReplayOptions
    flags: dict[str, Any]  # every parameter's value, by name

    def open(self) -> ReplaySource:
        return ReplaySource.open(self.db_path, self.session, self.selection)


@dataclass(frozen=True)
class Target:
    """Where a replay goes: the flag that chooses it, the flags only it takes, its run."""

    chooser: str | None  # the parameter that picks it; None for the default
    shown: str  # how messages name it
    own: frozenset[str]
    play: Callable[[Replay], None]


def _to_terminal(replay: Replay) -> None:
    colour = replay.flags["color"]
    if colour is None:
        colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    source = replay.open()
    _check_not_empty(source)
    conn = source.connect()
    cursor = source.media_cursor(conn)

    def done() -> None:
        cursor.close()
        conn.close()

    view = TerminalView(source.session.adapter, cursor, colour=colour)
    _to_stdout(source, replay.options, TerminalSink(sys.stdout, view, on_finish=done))


def _to_jsonl(replay: Replay) -> None:
    source = replay.open()
    _check_not_empty(source)
    _to_stdout(source, replay.options, JsonlSink(sys.stdout))


def _to_stdout(
    source: ReplaySource, options: ReplayOptions, sink: JsonlSink | TerminalSink
) -> None:
    # A reader that goes away (`| head`) ends the replay quietly: see rtrec/cli/main.py.
    emitted = run(play(source, sink, speed=options.speed, idle_limit_s=options.idle_limit_s))
    if emitted == 0:
        raise RtrecError(f"nothing to replay: no event of {source.session.label} matches")


def _check_not_empty(source: ReplaySource) -> None:
    if source.is_empty:
        raise RtrecError(f"nothing to replay: {source.session.label} has no events in that range")


@dataclass(frozen=True)
class _Door:
    """--serve's address, access rule and TLS (the same as record's)."""

    host: str
    port: int
    access: AccessPolicy
    tls: ssl.SSLContext | None


def _to_clients(replay: Replay) -> None:
    flags = replay.flags
    host, port = flags["serve"]
    # Checked before the session is read: a server that cannot be safe never starts.
    access = AccessPolicy.for_listen(host, flags["auth_token"], flags["insecure_no_auth"])
    door = _Door(host, port, access, server_context(flags["tls_cert"], flags["tls_key"]))
    run(_serve(replay.open(), replay.options, door, loop=flags["loop_"]))


async def _serve(source: ReplaySource, options: ReplayOptions, door: _Door, *, loop: bool) -> None:
    server = ReplayServer(
        source,
        options,
        host=door.host,
        port=door.port,
        loop=loop,
        log=say,
        access=door.access,
        tls=door.tls,
    )
    await server.start()
    stop = stop_on_signals()
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
    note = wildcard_note(door.host, server.port)
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


def _to_server(replay: Replay) -> None:
    source = replay.open()
    recorded = source.session
    target = with_gemini_key(target_url(replay.flags["to_url"], recorded), recorded, os.environ)
    headers = handshake_headers(replay.flags["headers"], recorded, os.environ, target)
    _check_not_empty(source)
    result = run(resend(source, replay.options, target, headers, log=say))
    original = recorded.ref.id
    click.echo(
        f"recorded session {result.session_id} ({result.uuid[:8]}), replayed from session "
        f"{original}: {plural(result.client_events_sent, 'client event')} sent, "
        f"{plural(result.server_events_received, 'server event')} received, {result.end_reason}"
    )
    click.echo(f"  compare: rtrec show {original}; rtrec show {result.session_id}")


_SERVE_FLAGS = frozenset(
    {"pace", "strict", "loop_", "auth_token", "insecure_no_auth", "tls_cert", "tls_key"}
)
TARGETS = (
    Target(None, "the terminal", frozenset({"only"}), _to_terminal),
    Target("jsonl", "--jsonl", frozenset({"only"}), _to_jsonl),
    Target("serve", "--serve", _SERVE_FLAGS, _to_clients),
    Target("to_url", "--to", frozenset({"headers"}), _to_server),
)


def _given(ctx: click.Context, name: str) -> bool:
    # From the command line only: RTREC_AUTH_TOKEN in the environment is no mistake.
    return ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE


def chosen_target(ctx: click.Context) -> Target:
    """The one target the flags choose, once each flag given is one that target takes."""
    chosen = [t for t in TARGETS if t.chooser is not None and _given(ctx, t.chooser)]
    if len(chosen) > 1:
        raise ConfigError("choose one of --jsonl, --serve and --to")
    target = chosen[0] if chosen else TARGETS[0]
    for param in ctx.command.params:  # in the order --help lists them
        _check_belongs(ctx, param, target)
    return target


def _check_belongs(ctx: click.Context, param: click.Parameter, target: Target) -> None:
    """ConfigError if `param` was given and belongs to other targets than `target`."""
    takers = [t for t in TARGETS if param.name in t.own]
    if takers and target not in takers and _given(ctx, param.name or ""):
        raise ConfigError(_refusal(param, takers, target))


def _refusal(param: click.Parameter, takers: list[Target], target: Target) -> str:
    """`--pace applies to --serve`; `--only applies to the terminal and --jsonl, not --to`."""
    refusal = f"{flag_name(param)} applies to {' and '.join(t.shown for t in takers)}"
    return refusal + (f", not {target.shown}" if len(takers) > 1 else "")


@click.command()
@db_option
@session_argument
@click.option(
    "--speed",
    type=Number(MAX_SPEED, low=MIN_SPEED),
    default="1",
    metavar="F",
    help="Play F times faster (F > 0).",
)
@click.option(
    "--idle-limit",
    type=Number(MAX_IDLE_LIMIT_S),
    metavar="SECONDS",
    help="Shorten every gap between events longer than SECONDS to SECONDS (before --speed).",
)
@click.option("--jsonl", is_flag=True, help="Print the exact frames as `rtrec export` lines.")
@click.option(
    "--serve",
    type=HostPort(),
    metavar="HOST:PORT",
    help="Act as the recorded session's kind of server, for clients.",
)
@click.option(
    "--pace",
    type=OneOf(PACES),
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
@click.option(
    "--from",
    "start",
    metavar="T|#SEQ",
    callback=parsed_by(Bound.parse, SelectionError),
    help="Start at seconds T or sequence #SEQ.",
)
@click.option(
    "--until",
    "end",
    metavar="T|#SEQ",
    callback=parsed_by(Bound.parse, SelectionError),
    help="End at seconds T or sequence #SEQ.",
)
@click.option(
    "--only", type=OneOf(DIRECTIONS), metavar="client|server", help="Only one direction's events."
)
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="PATTERN",
    callback=parsed_by(TypeFilter.parse, SelectionError),
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
@click.pass_context
def replay(
    ctx: click.Context,
    db_path: str,
    session: str,
    speed: float,
    idle_limit: float | None,
    pace: str | None,
    strict: bool,
    start: Bound | None,
    end: Bound | None,
    only: str | None,
    types: TypeFilter,
    **flags: Any,
) -> None:
    """Re-emit a recorded session on its timeline, scaled by --speed.

    By default a readable live stream goes to stdout; --jsonl prints the exact frames;
    --serve HOST:PORT plays the server side to connecting clients (the openai SDK
    included); --to URL re-sends the client side to a live server and records the
    new session, linked to this one.  T is seconds (12.5, 1:02.5) or #SEQ a sequence
    number, both inclusive.
    """
    target = chosen_target(ctx)
    pace_value: Pace = "client" if pace == "client" else "clock"
    selection = Selection(start=start, end=end, only=only, types=types)
    options = ReplayOptions(speed, idle_limit, pace_value, strict)
    target.play(Replay(db_path, session, selection, options, flags))


COMMANDS = [replay]
