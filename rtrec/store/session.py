"""A session being written: its metadata row and its live counters.

A live session exists twice while it is recorded: in the relay, which fills in its
metadata (handshake, close codes, end), and in the writer process, which turns its
frames into rows.  The relay sends the whole object to the writer whenever its
metadata changes; the writer takes every field from it except `WRITER_FIELDS`, the
ones it keeps itself from the frames it encodes.  Of those, `LIVE_COUNTERS` go back to
the relay from time to time, for the status line.  A field added to `LiveSession`
travels to the writer with no other change; one the writer derives from frames
belongs in `WRITER_FIELDS` (and in `LIVE_COUNTERS` if the status line shows it).
"""

from __future__ import annotations

import copy
import dataclasses
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
# A writer started in place of one that died may find the row already there.
UPSERT_SESSION = (
    INSERT_SESSION
    + " ON CONFLICT (uuid) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in SESSION_COLUMNS if name != "uuid")
    + " RETURNING id"
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
    # Set by the writer once the row exists (and reported back to the relay).
    db_id: int | None = None
    next_seq: int = 0
    # Live counters for the status line, kept by the writer (see WRITER_FIELDS).
    input_format: AudioFormat = DEFAULT_FORMAT
    output_format: AudioFormat = DEFAULT_FORMAT
    audio_in_ms: float = 0.0
    audio_out_ms: float = 0.0

    def adopt(self, newer: LiveSession) -> None:
        """Take the relay's newer metadata, keeping what the writer tracks itself."""
        for name in _RELAY_FIELDS:
            setattr(self, name, getattr(newer, name))

    def live_counters(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in LIVE_COUNTERS}

    def counted_state(self) -> tuple[object, ...]:
        """What counting a batch changes: a batch that fails to commit is counted again."""
        return tuple(copy.copy(getattr(self, name)) for name in _COUNTED_FIELDS)

    def restore_counted_state(self, state: tuple[object, ...]) -> None:
        for name, value in zip(_COUNTED_FIELDS, state, strict=True):
            setattr(self, name, value)

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


WRITER_FIELDS = frozenset({"db_id", "input_format", "output_format", "audio_in_ms", "audio_out_ms"})
LIVE_COUNTERS = ("audio_in_ms", "audio_out_ms")
_COUNTED_FIELDS = tuple(sorted(WRITER_FIELDS - {"db_id"}))
_RELAY_FIELDS = tuple(
    f.name for f in dataclasses.fields(LiveSession) if f.name not in WRITER_FIELDS
)
