"""The errors rtrec raises for conditions a user can act on, as one tree.

    RtrecError
    ├── DatabaseError
    │   └── NewerDatabaseError (path, found, known)
    ├── SessionNotFound (ref, matches)
    ├── ImportFormatError (source, line_no, reason)
    ├── HandshakeRefused (url, status, location, body, key_withheld)
    └── ConfigError
        ├── BadURL (url, reason, role)
        ├── BadHeader (text)
        ├── TokenTooShort (length, minimum)
        ├── TokenNeeded (host)
        ├── TLSConfigError (problem, cert_path, key_path, detail)
        └── KeyWithoutRoute (family)

Like websockets' exceptions, each carries what went wrong as attributes, and its
message names no command-line flag: the library does not know how it was called.
The CLI (rtrec/cli/wording.py) words them for a command line, flags and all; it turns
any RtrecError into one line on stderr and a non-zero exit.  Anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence


class RtrecError(Exception):
    """A problem the user can fix: bad input, a missing session, a bad database."""


class DatabaseError(RtrecError):
    """The database cannot be opened or used as an rtrec event log."""


class NewerDatabaseError(DatabaseError):
    """The database was written by a newer rtrec whose schema this one does not know."""

    def __init__(self, path: str, found: int, known: int) -> None:
        super().__init__(
            f"{path} was written by a newer rtrec (schema version {found}; "
            f"this rtrec knows up to {known}); upgrade rtrec to read it"
        )
        self.path = path
        self.found = found
        self.known = known


class NoDatabase(DatabaseError):
    """No database file at `path` (an empty `path`: none was named)."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"no database at {path}" if path else "no database given")


class OlderDatabase(DatabaseError):
    """The database at `path` has schema `found`, older than the `known` one; reading
    commands leave it as it is, and a command that writes brings it up to date."""

    def __init__(self, path: str, found: int, known: int) -> None:
        self.path, self.found, self.known = path, found, known
        super().__init__(
            f"{path} is from an older rtrec (schema {found}, this rtrec reads {known}); "
            "reading commands do not change it"
        )


class SessionNotFound(RtrecError):
    """No session matches the reference `ref` ("last": there are no sessions at all), or
    more than one does (`matches`, the first few uuid prefixes)."""

    def __init__(self, *, ref: str, matches: Sequence[str] = ()) -> None:
        self.ref = ref
        self.matches = tuple(matches)
        if self.matches:
            message = f"session {ref!r} is ambiguous: it matches {', '.join(self.matches)}…"
        elif ref == "last":
            message = "no sessions recorded yet"
        else:
            message = f"no session {ref!r}"
        super().__init__(message)


class ImportFormatError(RtrecError):
    """A line of an import file is not in the JSONL interchange format."""

    def __init__(self, source: str, line_no: int, reason: str) -> None:
        where = f"{source}:{line_no}" if line_no else source
        super().__init__(f"{where}: {reason}; nothing was imported")
        self.source = source
        self.line_no = line_no
        self.reason = reason


class HandshakeRefused(RtrecError):
    """A server rtrec dialled answered the handshake with an HTTP status, not a connection.

    `url` is as shown to the user (credentials in its query replaced); `location` is a
    redirect's target, `body` the start of the answer's body, `key_withheld` whether a
    key from the environment was kept from this server (it goes only to its own host).
    """

    def __init__(
        self,
        url: str,
        status: int,
        *,
        location: str | None = None,
        body: str = "",
        key_withheld: bool = False,
    ) -> None:
        self.url = url
        self.status = status
        self.location = location
        self.body = body
        self.key_withheld = key_withheld
        super().__init__(self.describe())

    @property
    def is_redirect(self) -> bool:
        return self.location is not None

    def describe(self, *, retry: str = "connect to it", key_hint: str = "") -> str:
        """The message; `retry` says how to go where a redirect points, `key_hint` how
        to send a key to a server that asked for one."""
        if self.location is not None:
            return (
                f"{self.url} redirected with HTTP {self.status} to {self.location}; rtrec "
                f"does not follow redirects: {retry} if it is meant"
            )
        detail = f": {self.body}" if self.body else ""
        hint = ""
        if self.status == 401 and self.key_withheld:
            hint = " (OPENAI_API_KEY goes only to api.openai.com and loopback"
            hint += f"; {key_hint})" if key_hint else ")"
        return f"{self.url} refused the connection with HTTP {self.status}{detail}{hint}"


class ConfigError(RtrecError):
    """A flag or setting has a value rtrec cannot use."""


class BadURL(ConfigError):
    """`url` cannot be used as `role` ("upstream", "replay target", "openai route"…)."""

    def __init__(self, url: str, reason: str, role: str) -> None:
        self.url = url
        self.reason = reason
        self.role = role
        super().__init__(f"bad {role} URL {url!r}: {reason}")


class BadHeader(ConfigError):
    """`text` is not a handshake header (`Name: value`)."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(f"bad header {text!r}: expected 'Name: value'")


class TokenTooShort(ConfigError):
    """An access token shorter than `minimum` characters: too easy to guess."""

    def __init__(self, length: int, minimum: int) -> None:
        self.length = length
        self.minimum = minimum
        super().__init__(f"an access token must be at least {minimum} characters")


class TokenNeeded(ConfigError):
    """A server would listen on `host`, reachable from other machines, with no token."""

    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__(
            f"{host} can be reached from other machines: give an access token (clients "
            "send it as X-Rtrec-Auth or rtrec_token), or allow access without one"
        )


class TLSConfigError(ConfigError):
    """A server's TLS certificate and key cannot be used: `problem` is PASSPHRASE,
    UNPAIRED (one given without the other), MISSING (`detail` the file), NOT_PEM or
    UNREADABLE (`detail` says why)."""

    PASSPHRASE = "passphrase"
    UNPAIRED = "unpaired"
    MISSING = "missing"
    NOT_PEM = "not_pem"
    UNREADABLE = "unreadable"

    def __init__(
        self, problem: str, cert_path: str | None, key_path: str | None, detail: str = ""
    ) -> None:
        self.problem = problem
        self.cert_path = cert_path
        self.key_path = key_path
        self.detail = detail
        super().__init__(self.describe("the TLS certificate", "the TLS key"))

    def describe(self, cert: str, key: str) -> str:
        """The message, naming the certificate and the key as `cert` and `key`."""
        if self.problem == self.PASSPHRASE:
            return f"{key} is protected by a passphrase; give an unencrypted key"
        if self.problem == self.UNPAIRED:
            return f"{cert} and {key} go together: give both"
        if self.problem == self.MISSING:
            return f"cannot read {self.detail}: no such file"
        if self.problem == self.NOT_PEM:
            return (
                f"{cert} {self.cert_path} and {key} {self.key_path} are not a PEM "
                f"certificate and its key ({self.detail})"
            )
        return f"cannot read {cert} {self.cert_path} / {key} {self.key_path}: {self.detail}"


class KeyWithoutRoute(ConfigError):
    """A key was given for the `family` route of the routing table, but sessions do not
    go by that table (one upstream takes every path, with one key)."""

    def __init__(self, family: str) -> None:
        self.family = family
        super().__init__(
            f"a {family} key is for routing by path; with one upstream for every path, "
            "give that upstream's one key"
        )


class OptionConflict(ConfigError):
    """An option that cannot be used as asked: `option` (its name in the library's terms,
    such as "keep_encoding"), why, and the option it needs (`needs`), if any."""

    def __init__(self, option: str, reason: str, needs: str | None = None) -> None:
        self.option, self.reason, self.needs = option, reason, needs
        super().__init__(f"{option}: {reason}")


class BadDate(ConfigError):
    """`text`, given as the date for `option`, is not one."""

    def __init__(self, option: str, text: str) -> None:
        self.option, self.text = option, text
        super().__init__(f"{option} {text!r} is not a date (YYYY-MM-DD)")
