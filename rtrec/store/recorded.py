"""What the log says about how a session was recorded, besides its frames.

A replay needs it to dial and answer like the original: the path, query and headers
the client sent, the model, how each side closed, how many events there are, and the
session's protocol (see rtrec/store/metadata.py).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from rtrec.protocols import adapter_named
from rtrec.protocols.base import Adapter
from rtrec.store.metadata import session_protocol
from rtrec.store.reader import SessionRef


@dataclass(frozen=True)
class RecordedSession:
    """A recorded session's own row: how it was opened and how it ended."""

    ref: SessionRef
    path: str | None = None
    query: str | None = None
    model: str | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    end_reason: str | None = None
    client_close_code: int | None = None
    client_close_reason: str | None = None
    upstream_close_code: int | None = None
    upstream_close_reason: str | None = None
    event_count: int = 0
    protocol: str = "realtime"

    @property
    def label(self) -> str:
        return f"session {self.ref.id} ({self.ref.uuid[:8]})"

    @property
    def adapter(self) -> Adapter:
        return adapter_named(self.protocol)


def recorded_session(conn: sqlite3.Connection, ref: SessionRef) -> RecordedSession:
    """The session's row, its headers parsed (none if they are not a JSON object)."""
    row = conn.execute(
        "SELECT path, query, model, request_headers, end_reason, client_close_code, "
        "client_close_reason, upstream_close_code, upstream_close_reason, "
        "(SELECT count(*) FROM event WHERE session_id = session.id) "
        "FROM session WHERE id = ?",
        (ref.id,),
    ).fetchone()
    path, query, model, headers, end_reason, client_code, client_reason = row[:7]
    upstream_code, upstream_reason, event_count = row[7:]
    return RecordedSession(
        ref,
        path,
        query,
        model,
        _headers(headers),
        end_reason,
        client_code,
        client_reason,
        upstream_code,
        upstream_reason,
        event_count,
        session_protocol(conn, ref.id),
    )


def _headers(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    try:
        loaded = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {str(k): str(v) for k, v in loaded.items()}
