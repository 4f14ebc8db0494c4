"""Opening the upstream connection on behalf of a client, with the client's own credentials."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from rtrec.dial import Endpoint, dial, url_from_parts
from rtrec.errors import BadURL
from rtrec.recorder.target import BadTarget, split_origin_form


@dataclass(frozen=True)
class UpstreamTarget:
    """Where sessions go: an endpoint (scheme, host, port) and an optional path prefix."""

    endpoint: Endpoint
    prefix: str = ""

    @classmethod
    def parse(cls, url: str, role: str = "upstream") -> UpstreamTarget:
        """BadURL (naming `role`, for messages) unless `url` is ws[s]://HOST[:PORT][/PREFIX]."""
        try:
            endpoint = Endpoint.from_url(url)
        except ValueError as exc:
            raise BadURL(url, str(exc), role) from exc
        parts = urlsplit(url)
        if parts.query or parts.fragment:
            raise BadURL(url, "no query or fragment, the client's is used", role)
        prefix = parts.path.rstrip("/")
        if prefix:
            try:
                split_origin_form(prefix)
            except BadTarget as exc:
                raise BadURL(url, str(exc), role) from exc
        return cls(endpoint, prefix)

    @property
    def origin(self) -> str:
        return self.endpoint.origin

    @property
    def host(self) -> str:
        return self.endpoint.host

    def url_for(self, path: str, query: str) -> str:
        """The upstream URL for a client's origin-form path and query, built from parts."""
        return url_from_parts(self.endpoint, self.prefix + path, query)

    @property
    def is_loopback(self) -> bool:
        return self.endpoint.is_loopback


async def open_upstream(
    target: UpstreamTarget,
    url: str,
    headers: list[tuple[str, str]],
    subprotocols: Sequence[str],
    *,
    compression: bool,
    max_size: int,
    open_timeout: float,
) -> ClientConnection:
    """Dial `url`, which `dial` checks is `target`'s endpoint; redirects are not followed."""
    return await dial(
        url,
        target.endpoint,
        additional_headers=headers,
        subprotocols=[Subprotocol(p) for p in subprotocols] or None,
        # Off unless the client asked for it: deflate costs CPU on every audio frame.
        compression="deflate" if compression else None,
        max_size=max_size,
        open_timeout=open_timeout,
        user_agent_header=None,  # the client's own User-Agent is forwarded
    )
