"""A recorded session's metadata, from the handshake that opened it: what is kept of the
request and the answer, and which credentials are scrubbed from its frames.

One home for the relay (`rtrec record`) and `replay --to`, so both record a handshake
the same way: credentials out of the headers, subprotocols and query, the model from
the query.  Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rtrec.handshake import model_from_query
from rtrec.secrets import redact_headers, redact_query, request_secrets
from rtrec.store.session import LiveSession


@dataclass(frozen=True)
class Request:
    """A handshake request as it was sent, credentials and all (they never reach disk)."""

    path: str
    query: str
    headers: Sequence[tuple[str, str]]
    subprotocols: Sequence[str] = ()


def new_session(
    request: Request,
    *,
    source: str,
    upstream: str,
    protocol: str | None,
    model: str | None = None,
    client_addr: str | None = None,
    parent_id: int | None = None,
    also_secret: Iterable[tuple[str, str]] = (),
    redact: tuple[re.Pattern[str], ...] = (),
) -> LiveSession:
    """The session to open for `request`, sent to `upstream`.

    `model` is the fallback when the query names none; `also_secret` are headers not
    in the request whose values must still be scrubbed (a key the relay adds itself).
    """
    secrets = request_secrets(request.headers, request.subprotocols, request.query)
    secrets |= request_secrets(also_secret, [], "")
    return LiveSession(
        source=source,
        parent_id=parent_id,
        upstream=upstream,
        path=request.path,
        query=redact_query(request.query),
        model=model_from_query(request.query) or model,
        protocol=protocol,
        client_addr=client_addr,
        request_headers=redact_headers(request.headers),
        secrets=secrets,
        redact=redact,
    )


def answered(
    session: LiveSession, subprotocol: str | None, headers: Iterable[tuple[str, str]] | None
) -> None:
    """Record the upstream's answer to the handshake: its subprotocol and headers."""
    session.subprotocol = subprotocol
    if headers is not None:
        session.response_headers = redact_headers(headers)
