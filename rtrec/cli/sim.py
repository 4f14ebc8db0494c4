"""`rtrec sim`: the built-in simulated server on its own, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import sys

import click

from rtrec.aio import run, stop_on_signals
from rtrec.cli.options import listen_option
from rtrec.sim.options import SimOptions
from rtrec.sim.protocols import SIM_PROTOCOLS
from rtrec.sim.server import Simulator

DEFAULT_LISTEN = "127.0.0.1:8770"
PATHS = {
    "realtime": "/v1/realtime?model=gpt-realtime",
    "live": "/v1/live/sessions",
    "gemini": "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent",
}


@click.command()
@listen_option(DEFAULT_LISTEN)
@click.option(
    "--protocol",
    "protocols",
    type=click.Choice(SIM_PROTOCOLS),
    multiple=True,
    help="Serve only this protocol (repeatable); default: all of them, routed by path.",
)
@click.option(
    "--realtime-factor",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Stream audio at this multiple of real time (0: as fast as possible).",
)
def sim(listen: tuple[str, int], protocols: tuple[str, ...], realtime_factor: float) -> None:
    """Run the simulated Realtime, GPT-Live and Gemini Live server, for trying clients,
    `rtrec record` and `rtrec replay --to` without a key."""
    host, port = listen
    run(_serve(host, port, protocols or SIM_PROTOCOLS, realtime_factor))


async def _serve(host: str, port: int, protocols: tuple[str, ...], factor: float) -> None:
    stop = stop_on_signals()
    simulator = Simulator(SimOptions(realtime_factor=factor), protocols=protocols)
    try:
        await simulator.start(host, port)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from exc
    shown = f"[{host}]" if ":" in host else host
    for protocol in protocols:
        click.echo(
            f"rtrec sim: {protocol} at ws://{shown}:{simulator.port}{PATHS[protocol]}", err=True
        )
    sys.stderr.flush()
    await stop.wait()
    await simulator.stop()


COMMANDS = [sim]
