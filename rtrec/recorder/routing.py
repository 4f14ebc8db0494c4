"""Which upstream a client's path goes to, and which key (if any) the relay adds for it.

With `--upstream URL`, every path goes to that one upstream, and `--api-key-env` is
its key.  Without it, the path decides, from a fixed table:

- `/v1/realtime…` and `/v1/live/sessions…` (with `/{id}/attach` and `/{id}/fork`) go to
  `wss://api.openai.com`, with `--api-key-env` as `Authorization: Bearer`;
- `/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent`
  (also v1alpha, and `…BidiGenerateContentConstrained`) go to
  `wss://generativelanguage.googleapis.com`, with `--gemini-key-env` as `x-goog-api-key`;
- anything else is refused with 404, and nothing is dialled.

Each upstream gets only its own key: the OpenAI key never goes to the Gemini host,
and neither goes anywhere else.  When the relay adds a key, the credentials the client
sent in headers are dropped, so the upstream sees exactly one.

The table's origins can be replaced only by the process that starts the relay (a
constructor argument; `rtrec record` reads `RTREC_TEST_OPENAI_UPSTREAM` and
`RTREC_TEST_GEMINI_UPSTREAM` at start-up), so tests can stand in for the real hosts;
nothing a client sends can change them.  Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rtrec.errors import KeyWithoutRoute
from rtrec.recorder.upstream import UpstreamTarget

OPENAI = "openai"
GEMINI = "gemini"
KNOWN_UPSTREAMS = {
    OPENAI: "wss://api.openai.com",
    GEMINI: "wss://generativelanguage.googleapis.com",
}
TEST_OVERRIDE_ENV = {
    OPENAI: "RTREC_TEST_OPENAI_UPSTREAM",
    GEMINI: "RTREC_TEST_GEMINI_UPSTREAM",
}

_OPENAI_PATHS = ("/v1/realtime", "/v1/live/sessions")
_GEMINI_PATH = re.compile(
    r"^/ws/google\.ai\.generativelanguage\.v1[a-z0-9]*"
    r"\.GenerativeService\.BidiGenerateContent(Constrained)?$"
)
# Credentials a client may send in headers, dropped when the relay adds its own key.
CLIENT_KEY_HEADERS = frozenset({"authorization", "api-key", "x-goog-api-key"})


def family_of_path(path: str) -> str | None:
    """openai, gemini, or None for a path the routing table does not know."""
    if any(path == p or path.startswith(p + "/") for p in _OPENAI_PATHS):
        return OPENAI
    if _GEMINI_PATH.match(path):
        return GEMINI
    return None


def is_gemini_path(path: str) -> bool:
    return "BidiGenerateContent" in path


def key_header(upstream: UpstreamTarget, path: str, key: str) -> tuple[str, str]:
    """How a key travels: Gemini in x-goog-api-key, Azure in api-key, OpenAI as a bearer."""
    host = upstream.host
    if is_gemini_path(path) or host.endswith(".googleapis.com"):
        return ("x-goog-api-key", key)
    if host.endswith(".azure.com") or host.endswith(".azure-api.net"):
        return ("api-key", key)
    return ("Authorization", f"Bearer {key}")


@dataclass(frozen=True)
class Route:
    """One session's upstream, and the key header the relay adds to its handshake."""

    upstream: UpstreamTarget
    key: tuple[str, str] | None = field(default=None, repr=False)

    def headers(self, client_headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """The headers that go upstream: the client's, or its key replaced by the relay's."""
        if self.key is None:
            return list(client_headers)
        kept = [(n, v) for n, v in client_headers if n.lower() not in CLIENT_KEY_HEADERS]
        return [*kept, self.key]


@dataclass(frozen=True)
class NoRoute:
    reason: str


@dataclass(frozen=True)
class Routes:
    """`--upstream` (every path) or the fixed table (by path), with the keys for each."""

    explicit: UpstreamTarget | None = None
    table: Mapping[str, UpstreamTarget] = field(default_factory=dict)
    keys: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def configure(
        cls,
        upstream: str | None,
        openai_key: str | None = None,
        gemini_key: str | None = None,
        origins: Mapping[str, str] | None = None,
    ) -> Routes:
        """From `--upstream`, `--api-key-env` and `--gemini-key-env` (the keys' values).

        KeyWithoutRoute for a Gemini key with an upstream: that upstream has one key.
        """
        if upstream is None:
            return cls.by_path({OPENAI: openai_key, GEMINI: gemini_key}, origins)
        if gemini_key is not None:
            raise KeyWithoutRoute(GEMINI)
        return cls.to_upstream(upstream, openai_key)

    @classmethod
    def to_upstream(cls, upstream: str, key: str | None = None) -> Routes:
        return cls(explicit=UpstreamTarget.parse(upstream), keys={OPENAI: key} if key else {})

    @classmethod
    def by_path(
        cls,
        keys: Mapping[str, str | None] | None = None,
        origins: Mapping[str, str] | None = None,
    ) -> Routes:
        """The fixed table; `origins` replaces some of its upstreams (tests only)."""
        chosen = {**KNOWN_UPSTREAMS, **(origins or {})}
        table = {name: UpstreamTarget.parse(url, f"{name} route") for name, url in chosen.items()}
        given = {name: key for name, key in (keys or {}).items() if key}
        return cls(table=table, keys=given)

    @property
    def upstreams(self) -> list[UpstreamTarget]:
        return [self.explicit] if self.explicit is not None else list(self.table.values())

    def describe(self) -> str:
        """For the start-up line: where sessions go."""
        if self.explicit is not None:
            return self.explicit.origin + self.explicit.prefix
        shown = ", ".join(f"{name} {t.origin}{t.prefix}" for name, t in self.table.items())
        return f"by path ({shown})"

    def route(self, path: str) -> Route | NoRoute:
        if self.explicit is not None:
            key = self.keys.get(OPENAI)
            return Route(self.explicit, key_header(self.explicit, path, key) if key else None)
        family = family_of_path(path)
        if family is None:
            return NoRoute(
                f"no upstream for {path}: without --upstream, rtrec routes OpenAI paths "
                "(/v1/realtime, /v1/live/sessions) and Gemini Live paths "
                "(…BidiGenerateContent); Azure and other servers need --upstream"
            )
        upstream = self.table[family]
        key = self.keys.get(family)
        return Route(upstream, key_header(upstream, path, key) if key else None)
