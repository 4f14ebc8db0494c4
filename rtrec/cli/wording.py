"""rtrec's errors worded for the command line: the one place that knows their flags.

The library's errors (rtrec/errors.py) say what went wrong in its own terms and carry
the details as attributes; here they become the line a user of `rtrec` reads, naming
the flag to change.  An error with no flag to name keeps its own message.
"""

from __future__ import annotations

from rtrec.errors import (
    BadDate,
    BadHeader,
    BadURL,
    HandshakeRefused,
    KeyWithoutRoute,
    NoDatabase,
    OlderDatabase,
    OptionConflict,
    RtrecError,
    SessionNotFound,
    TLSConfigError,
    TokenNeeded,
    TokenTooShort,
)

# BadURL's roles, and the flag that gave each URL.
URL_FLAGS = {"upstream": "--upstream", "replay target": "--to"}
# OptionConflict's `needs`, as the flag that asks for it.
NEEDED_FLAGS = {"wav": "--format wav"}


def flag(option: str) -> str:
    """A library option's name as its command-line flag: keep_encoding → --keep-encoding."""
    return "--" + option.replace("_", "-")


def cli_message(exc: RtrecError) -> str:
    """The one line `rtrec` prints (after `Error: `) for `exc`."""
    if isinstance(exc, BadURL) and exc.role in URL_FLAGS:
        return f"bad {URL_FLAGS[exc.role]} {exc.url!r}: {exc.reason}"
    if isinstance(exc, BadHeader):
        return f"bad --header {exc.text!r}: expected 'Name: value'"
    if isinstance(exc, TokenTooShort):
        return f"--auth-token must be at least {exc.minimum} characters"
    if isinstance(exc, TokenNeeded):
        return (
            f"{exc.host} can be reached from other machines: give --auth-token TOKEN "
            "(clients send it as X-Rtrec-Auth or rtrec_token), or --insecure-no-auth "
            "if that is really meant"
        )
    if isinstance(exc, KeyWithoutRoute):
        return (
            f"--{exc.family}-key-env is the key of the {exc.family.capitalize()} route, used "
            "without --upstream; with --upstream, give that upstream's one key with "
            "--api-key-env"
        )
    if isinstance(exc, TLSConfigError):
        return exc.describe("--tls-cert", "--tls-key")
    if isinstance(exc, SessionNotFound) and not exc.matches and exc.ref != "last":
        return f"{exc} (give an id, a uuid prefix, or 'last'; rtrec sessions lists them)"
    if isinstance(exc, NoDatabase):
        if not exc.path:
            return "no database given (--db is empty)"
        return f"{exc} (record a session first, or pass --db)"
    if isinstance(exc, OlderDatabase):
        return f"{exc}: run `rtrec reproject --db {exc.path}` once to bring it up to date"
    if isinstance(exc, OptionConflict):
        if exc.needs is not None:
            return f"{flag(exc.option)} {exc.reason}; use it with {NEEDED_FLAGS[exc.needs]}"
        return f"{flag(exc.option)}: {exc.reason}"
    if isinstance(exc, BadDate):
        return f"{flag(exc.option)} {exc.text!r} is not a date (YYYY-MM-DD)"
    if isinstance(exc, HandshakeRefused):
        return exc.describe(retry="give that URL to --to", key_hint="use --header")
    return str(exc)
