"""Who may use a server rtrec runs: the relay (`record`), `replay --serve` and `ui`.

Each binds 127.0.0.1 by default.  On any other address (IPv4 or IPv6) it serves only
clients that present its token (`--auth-token`: header `X-Rtrec-Auth: TOKEN` or query
`rtrec_token=TOKEN`, compared in constant time), unless `--insecure-no-auth` says
otherwise.  The token is stripped before a request goes upstream and is never recorded.
Pure: no I/O.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import unquote_plus

from rtrec.errors import TokenNeeded, TokenTooShort
from rtrec.net import is_loopback_host

TOKEN_HEADER = "X-Rtrec-Auth"
TOKEN_QUERY = "rtrec_token"
MIN_TOKEN_LENGTH = 16


@dataclass(frozen=True)
class AccessPolicy:
    token: str | None = None

    @classmethod
    def for_listen(cls, host: str, token: str | None, insecure_no_auth: bool) -> AccessPolicy:
        """The rule for a server on `host`: TokenTooShort, or TokenNeeded beyond loopback
        unless `insecure_no_auth` says that no token is meant."""
        if token is not None and len(token) < MIN_TOKEN_LENGTH:
            raise TokenTooShort(len(token), MIN_TOKEN_LENGTH)
        if token is None and not insecure_no_auth and not is_loopback_host(host):
            raise TokenNeeded(host)
        return cls(token)

    def allows(self, header_value: str | None, query: str) -> bool:
        if self.token is None:
            return True
        presented = [header_value or ""]
        presented.extend(token_from_query(query))
        expected = self.token.encode()
        # Every candidate is compared, in constant time, so timing says nothing of the token.
        results = [hmac.compare_digest(p.encode(), expected) for p in presented]
        return any(results)


def token_from_query(query: str) -> list[str]:
    found = []
    for piece in query.split("&"):
        name, _, value = piece.partition("=")
        if unquote_plus(name) == TOKEN_QUERY:
            found.append(unquote_plus(value))
    return found


def strip_token_from_query(query: str) -> str:
    """The query as the upstream should see it: without the relay's own token."""
    if TOKEN_QUERY not in query:
        return query
    kept = [p for p in query.split("&") if unquote_plus(p.partition("=")[0]) != TOKEN_QUERY]
    return "&".join(kept)
