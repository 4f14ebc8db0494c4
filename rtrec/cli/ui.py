"""`rtrec ui`: the database's sessions in the browser, following those still recording."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from rtrec.access import TOKEN_QUERY, AccessPolicy
from rtrec.cli.options import db_option, listen_option, tls_options
from rtrec.store.reading import open_reader
from rtrec.tls import server_context


@click.command()
@db_option
@listen_option("127.0.0.1:8766", help="HOST:PORT to serve the pages on.")
@click.option(
    "--auth-token",
    envvar="RTREC_AUTH_TOKEN",
    help="Serve only browsers presenting this token (open the address once with "
    "?rtrec_token=TOKEN; X-Rtrec-Auth header for scripts). Needed to listen beyond "
    "loopback. Env RTREC_AUTH_TOKEN.",
)
@click.option(
    "--insecure-no-auth",
    is_flag=True,
    help="Listen beyond loopback without a token (anyone who can connect sees every call).",
)
@tls_options
def ui(
    db_path: str,
    listen: tuple[str, int],
    auth_token: str | None,
    insecure_no_auth: bool,
    tls_cert: str | None,
    tls_key: str | None,
) -> None:
    """Serve the recorded sessions in the browser: a list, and each call's page.

    The pages are those of `rtrec view`; a session still being recorded updates as it
    goes.  The database is only read, never written.
    """
    from rtrec.ui.server import UiServer

    host, port = listen
    policy = AccessPolicy.for_listen(host, auth_token, insecure_no_auth)
    tls = server_context(tls_cert, tls_key)
    open_reader(db_path).close()  # a missing or foreign database is one clear line now
    try:
        server = UiServer(db_path, host, port, policy, ssl_context=tls)
    except OSError as exc:
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        raise click.ClickException(f"cannot listen on {where}: {exc.strerror or exc}") from exc
    login = f" (open it once with ?{TOKEN_QUERY}=TOKEN)" if policy.token else ""
    click.echo(f"rtrec ui: serving {db_path} at {server.url}{login}; Ctrl-C stops", err=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
        server.mixes.close()


COMMANDS = [ui]
