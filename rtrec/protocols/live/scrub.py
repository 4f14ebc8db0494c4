"""Credentials GPT-Live carries in known places: MCP tools' `authorization` and `headers`.

A session that delegates to Responses configures its tools in `session.start` (and
changes them in `session.update`) under `session.delegation.responses.tools`; an MCP
tool there may hold a bearer token (`authorization`) and HTTP `headers` for its
server.  Their values become "[redacted]"; the key names (and header names) stay, so
the log still shows that the tool was authenticated, and how.  The server's own
session snapshots omit them, but a compatible server might echo them: those are
scrubbed the same way.

The rest of the frame stays as sent where possible: each secret's JSON text is
replaced where it stands, and the result is checked against the structural answer;
if the two disagree (an unusual escape, a secret that is also a key name), the frame
is written anew from the scrubbed object.  Pure.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from rtrec.protocols.parsing import UNPARSABLE
from rtrec.secrets import REDACTED

SCRUB_TYPES = frozenset(
    {"session.start", "session.update", "session.started", "session.updated", "session.closed"}
)
_SECRET_FIELDS = ("authorization", "headers")


def scrub_session_frame(frame: str) -> str | None:
    """The frame with MCP tool credentials redacted; None if it holds none."""
    if '"authorization"' not in frame and '"headers"' not in frame:
        return None
    try:
        event = msgspec.json.decode(frame)
    except UNPARSABLE:
        return None
    secrets: list[Any] = []
    scrubbed = _scrub_event(event, secrets)
    if scrubbed is None:
        return None
    in_place = _replace_in_text(frame, secrets)
    if in_place is not None:
        try:
            if msgspec.json.decode(in_place) == scrubbed:
                return in_place
        except UNPARSABLE:
            pass
    return _encode_like(frame, scrubbed)


def _scrub_event(event: Any, secrets: list[Any]) -> Any | None:
    """A copy of the event with the secrets redacted (collected into `secrets`); None if none."""
    session = event.get("session") if isinstance(event, dict) else None
    delegation = session.get("delegation") if isinstance(session, dict) else None
    responses = delegation.get("responses") if isinstance(delegation, dict) else None
    tools = responses.get("tools") if isinstance(responses, dict) else None
    if not isinstance(tools, list):
        return None
    assert isinstance(session, dict) and isinstance(delegation, dict)
    assert isinstance(responses, dict)
    new_tools = [_scrub_tool(tool, secrets) for tool in tools]
    if not secrets:
        return None
    return {
        **event,
        "session": {
            **session,
            "delegation": {**delegation, "responses": {**responses, "tools": new_tools}},
        },
    }


def _scrub_tool(tool: Any, secrets: list[Any]) -> Any:
    if not isinstance(tool, dict) or tool.get("type") != "mcp":
        return tool
    out = dict(tool)
    for field in _SECRET_FIELDS:
        value = tool.get(field)
        if value is None or value == REDACTED:
            continue
        if field == "headers" and isinstance(value, dict):
            headers = {}
            for name, header in value.items():
                if header is not None and header != REDACTED:
                    secrets.append(header)
                    header = REDACTED
                headers[name] = header
            out[field] = headers
        else:
            secrets.append(value)
            out[field] = REDACTED
    return out


def _replace_in_text(frame: str, secrets: list[Any]) -> str | None:
    """Each secret's JSON text replaced by "[redacted]"; None if one cannot be found."""
    redacted = f'"{REDACTED}"'
    for secret in secrets:
        spellings = {msgspec.json.encode(secret).decode(), json.dumps(secret)}
        found = [s for s in spellings if s in frame]
        if not found:
            return None
        for spelling in found:
            frame = frame.replace(spelling, redacted)
    return frame


def _encode_like(frame: str, value: Any) -> str:
    """The value as JSON in the frame's own spacing (the openai SDK's, or compact)."""
    if '": ' in frame or '", "' in frame:
        return json.dumps(value)
    return msgspec.json.encode(value).decode()
