"""A session being written: its metadata row and its live counters."""

from __future__ import annotations

import json
import re
import time
import uuid as uuid_module
from dataclasses import dataclass, field

from rtrec.audio_format import DEFAULT_FORMAT, AudioFormat
from rtrec.timefmt import iso_from_ns

END_REASONS = frozenset(
    {
        "client_closed",
        "upstream_closed",
        "upstream_refused",
        "relay_stopped",
        "interrupted",
        "imported",
    }
)

SESSION_COLUMNS = (
    "uuid",
    "source",
    "started_at",
    "started_ns",
    "ended_at",
    "ended_ns",
    "end_reason",
    "upstream",
    "path",
    "query",
    "model",
    "client_addr",
    "request_headers",
    "subprotocol",
    "response_headers",
    "refused_status",
    "refused_body",
    "client_close_code",
    "client_close_reason",
    "upstream_close_code",
    "upstream_close_reason",
    "error",
    "recorder",
    "parent_id",
)
INSERT_SESSION = (
    f"INSERT INTO session ({', '.join(SESSION_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in SESSION_COLUMNS)})"
)
UPDATE_SESSION = (
    "UPDATE session SET "
    + ", ".join(f"{name} = ?" for name in SESSION_COLUMNS if name != "uuid")
    + " WHERE id = ?"
)


@dataclass(eq=False, slots=True)
class LiveSession:
    """Metadata (already free of secrets) plus what the relay and status line track.

    `secrets` holds the credential values the client presented (and the relay's own
    upstream key), so the writer can scrub them from frames; it is never written
    anywhere.  `redact` holds the user's --redact patterns.
    """

    source: str
    uuid: str = field(default_factory=lambda: str(uuid_module.uuid4()))
    started_ns: int = field(default_factory=time.time_ns)
    t0_ns: int = field(default_factory=time.monotonic_ns)
    upstream: str | None = None
    path: str | None = None
    query: str | None = None
    model: str | None = None
    client_addr: str | None = None
    request_headers: dict[str, str] | None = None
    subprotocol: str | None = None
    response_headers: dict[str, str] | None = None
    refused_status: int | None = None
    refused_body: str | None = None
    ended_ns: int | None = None
    end_reason: str | None = None
    client_close_code: int | None = None
    client_close_reason: str | None = None
    upstream_close_code: int | None = None
    upstream_close_reason: str | None = None
    error: str | None = None
    recorder: str | None = None
    parent_id: int | None = None
    secrets: frozenset[str] = frozenset()
    redact: tuple[re.Pattern[str], ...] = ()
    # Set by the writer once the row exists.
    db_id: int | None = None
    next_seq: int = 0
    # Live counters for the status line, kept by the writer.
    input_format: AudioFormat = DEFAULT_FORMAT
    output_format: AudioFormat = DEFAULT_FORMAT
    audio_in_ms: float = 0.0
    audio_out_ms: float = 0.0

    def end(self, reason: str, wall_ns: int | None = None) -> None:
        if reason not in END_REASONS:
            raise ValueError(f"unknown end reason {reason!r}")
        if self.end_reason is None:
            self.end_reason = reason
            self.ended_ns = wall_ns if wall_ns is not None else time.time_ns()

    @property
    def ended(self) -> bool:
        return self.end_reason is not None

    def _values(self) -> tuple[object, ...]:
        def as_json(value: dict[str, str] | None) -> str | None:
            return None if value is None else json.dumps(value, ensure_ascii=False)

        return (
            self.uuid,
            self.source,
            iso_from_ns(self.started_ns),
            self.started_ns,
            iso_from_ns(self.ended_ns) if self.ended_ns is not None else None,
            self.ended_ns,
            self.end_reason,
            self.upstream,
            self.path,
            self.query,
            self.model,
            self.client_addr,
            as_json(self.request_headers),
            self.subprotocol,
            as_json(self.response_headers),
            self.refused_status,
            self.refused_body,
            self.client_close_code,
            self.client_close_reason,
            self.upstream_close_code,
            self.upstream_close_reason,
            self.error,
            None if self.ended else self.recorder,
            self.parent_id,
        )

    def insert_values(self) -> tuple[object, ...]:
        return self._values()

    def update_values(self) -> tuple[object, ...]:
        assert self.db_id is not None
        return (*self._values()[1:], self.db_id)
