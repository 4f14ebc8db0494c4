"""Options shared by rtrec's commands, as decorator factories (sqlite-utils style)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TypeVar

import click

from rtrec.cli.params import HostPort
from rtrec.store.db import default_db_path

F = TypeVar("F", bound=Callable[..., object])


DB_PATH_KEY = "rtrec.db_path"


def _remember_db(ctx: click.Context, param: click.Parameter, value: str) -> str:
    # For error messages raised after the command's own context has closed.
    ctx.meta[DB_PATH_KEY] = value
    return value


def db_option(func: F) -> F:
    return click.option(
        "--db",
        "db_path",
        default=default_db_path,
        show_default="./rtrec.db, or $RTREC_DB",
        type=click.Path(dir_okay=False),
        callback=_remember_db,
        help="The event log database.",
    )(func)


def json_option(help: str = "Print JSON instead of a table.") -> Callable[[F], F]:
    """--json, into the parameter `as_json` (commands whose JSON is one document)."""

    def decorate(func: F) -> F:
        return click.option("--json", "as_json", is_flag=True, help=help)(func)

    return decorate


SESSION_HELP = (
    "SESSION is a session id (as `rtrec sessions` lists them), a prefix of its uuid, or `last`."
)


def session_argument(func: F) -> F:
    # Arguments have no help of their own in click: the command's help says it.
    func.__doc__ = f"{inspect.cleandoc(func.__doc__ or '')}\n\n{SESSION_HELP}"
    return click.argument("session", metavar="SESSION")(func)


def tls_options(func: F) -> F:
    """--tls-cert/--tls-key: serve wss:// (record, replay --serve, ui); see rtrec.tls."""
    func = click.option(
        "--tls-key",
        metavar="PEM",
        type=click.Path(dir_okay=False),
        help="The private key of --tls-cert (PEM, not passphrase-protected).",
    )(func)
    return click.option(
        "--tls-cert",
        metavar="PEM",
        type=click.Path(dir_okay=False),
        help="Serve over TLS (wss://, or https:// for ui) with this certificate (PEM, chain "
        "allowed); needs --tls-key.",
    )(func)


def listen_option(default: str, help: str = "HOST:PORT to accept clients on.") -> Callable[[F], F]:
    """--listen HOST:PORT, into the parameter `listen` as (host, port)."""

    def decorate(func: F) -> F:
        return click.option(
            "--listen", type=HostPort(), default=default, show_default=True, help=help
        )(func)

    return decorate
