"""What never reaches the log: credentials in headers, subprotocols, query strings and frames.

Removed before anything is written:
- header values of Authorization, Proxy-Authorization, api-key, x-api-key,
  x-goog-api-key (Gemini), Cookie, Set-Cookie and the relay's own auth header (the
  name stays, the value becomes `[redacted]`);
- the key in `openai-insecure-api-key.<key>` subprotocols (any `openai-insecure-*`);
- query parameters that carry credentials (`api-key`, `api_key`, `key` and
  `access_token` (Gemini's key and ephemeral token), `token`, `client_secret`, `auth`,
  `rtrec_token`);
- in frames: the values the client authenticated with, wherever they appear; strings
  shaped like OpenAI keys (`sk-…`) and ephemeral client secrets (`ek_…`);
  `client_secret` values; `authorization`, `api_key`, `password` values and MCP
  tool `headers` values.  Such a frame is stored with the secret replaced and is
  flagged `redacted`, since it no longer matches the wire.
Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_plus

import msgspec

REDACTED = "[redacted]"

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
        "x-goog-api-key",
        "cookie",
        "set-cookie",
        "x-rtrec-auth",
    }
)
SECRET_QUERY_PARAMS = frozenset(
    {"api-key", "api_key", "key", "token", "access_token", "client_secret", "auth", "rtrec_token"}
)
INSECURE_SUBPROTOCOL_PREFIX = "openai-insecure-"

# Shapes of OpenAI API keys and ephemeral client secrets.
_KEY_SHAPES = re.compile(r"(?<![A-Za-z0-9_-])(?:sk-|ek_)[A-Za-z0-9_\-]{16,}")


def _may_hold_secret(frame: str) -> bool:
    """Cheap first look: a frame containing none of these needs no further work.

    Plain substring tests in one expression: a case-insensitive regex costs a
    hundred times more on audio frames, a generator over a tuple five times more.
    """
    return (
        "sk-" in frame
        or "ek_" in frame
        or '"client_secret"' in frame
        or '"authorization"' in frame
        or '"Authorization"' in frame
        or '"headers"' in frame
        or '"api_key"' in frame
        or '"api-key"' in frame
        or '"password"' in frame
    )


_SECRET_KEYS = frozenset({"authorization", "api_key", "api-key", "password"})


def redact_subprotocol(name: str) -> str:
    if name.startswith(INSECURE_SUBPROTOCOL_PREFIX) and "." in name:
        return name.split(".", 1)[0] + "." + REDACTED
    return name


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as a dict (repeated names joined by ', '), secrets removed."""
    out: dict[str, str] = {}
    for name, value in headers:
        lower = name.lower()
        if lower in SECRET_HEADERS:
            value = REDACTED
        elif lower == "sec-websocket-protocol":
            value = ", ".join(redact_subprotocol(p.strip()) for p in value.split(","))
        out[lower] = f"{out[lower]}, {value}" if lower in out else value
    return out


def _is_secret_param(piece: str) -> bool:
    """Whether one `name=value` piece of a query carries a credential."""
    return unquote_plus(piece.partition("=")[0]).lower() in SECRET_QUERY_PARAMS


def redact_query(query: str) -> str:
    """The query string with credential parameters' values replaced, the rest as sent."""
    if not query:
        return query
    parts = []
    for piece in query.split("&"):
        if _is_secret_param(piece):
            parts.append(f"{piece.partition('=')[0]}={quote(REDACTED)}")
        else:
            parts.append(piece)
    return "&".join(parts)


def query_without_secrets(query: str) -> str:
    """The query string without its credential parameters (and empty pieces) at all.

    For sending a recorded query again: its credentials were redacted when it was
    recorded, and `[redacted]` is no credential to send.
    """
    return "&".join(piece for piece in query.split("&") if piece and not _is_secret_param(piece))


def request_secrets(
    headers: Iterable[tuple[str, str]], subprotocols: Iterable[str], query: str
) -> frozenset[str]:
    """The credential values a client presented, to be scrubbed wherever they reappear."""
    found: set[str] = set()
    for name, value in headers:
        lower = name.lower()
        if lower in SECRET_HEADERS and lower not in ("cookie", "set-cookie"):
            token = (
                value.split(None, 1)[1]
                if lower.endswith("authorization") and " " in value
                else value
            )
            found.add(token.strip())
    for proto in subprotocols:
        if proto.startswith(INSECURE_SUBPROTOCOL_PREFIX) and "." in proto:
            found.add(proto.split(".", 1)[1])
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key.lower() in SECRET_QUERY_PARAMS:
            found.add(value)
    # Very short values would match innocent text; real credentials are long.
    return frozenset(s for s in found if len(s) >= 8)


def scrub_frame(
    frame: str, known: Collection[str] = (), patterns: Collection[re.Pattern[str]] = ()
) -> str | None:
    """The frame with secrets (and matches of the user's --redact patterns) replaced.

    None when there was nothing to replace.
    """
    scrubbed = frame
    for pattern in patterns:
        scrubbed = pattern.sub(REDACTED, scrubbed)
    hits = [s for s in known if s in scrubbed]
    if not hits and not _may_hold_secret(scrubbed):
        return None if scrubbed == frame else scrubbed
    for secret in hits:
        scrubbed = scrubbed.replace(secret, REDACTED)
    scrubbed = _KEY_SHAPES.sub(REDACTED, scrubbed)
    for secret in _structured_secrets(scrubbed):
        # Replace the value where it stands, so the rest of the frame stays as sent.
        escaped = msgspec.json.encode(secret).decode()[1:-1]
        if escaped:
            scrubbed = scrubbed.replace(escaped, REDACTED)
    return None if scrubbed == frame else scrubbed


def _structured_secrets(frame: str) -> list[str]:
    try:
        data = msgspec.json.decode(frame)
    except (msgspec.DecodeError, RecursionError):
        return []
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                lower = key.lower() if isinstance(key, str) else key
                if lower == "client_secret":
                    if isinstance(value, str):
                        found.append(value)
                    elif isinstance(value, dict) and isinstance(value.get("value"), str):
                        found.append(value["value"])
                elif lower in _SECRET_KEYS and isinstance(value, str):
                    found.append(value)
                elif lower == "headers" and isinstance(value, dict):
                    found.extend(v for v in value.values() if isinstance(v, str))
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    return [s for s in found if s and s != REDACTED]
