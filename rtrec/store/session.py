"""A session being written: its metadata row and its live counters."""

from __future__ import annotations

import json
import re
import time
import uuid as uuid_module
from dataclasses import dataclass, field
from typing import Any

from rtrec.protocols import adapter_named, protocol_of_object
from rtrec.protocols.base import Adapter, AudioChunk, MediaFold, MediaRow, parse_object
from rtrec.store.frames import NOT_JSON, encode_frame
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
    "protocol",
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
    # The protocol family (rtrec/protocols), from the request path; None until the
    # first JSON frame decides it (imports, unknown paths).
    protocol: str | None = None
    secrets: frozenset[str] = frozenset()
    redact: tuple[re.Pattern[str], ...] = ()
    # Set by the writer once the row exists.
    db_id: int | None = None
    next_seq: int = 0
    # Live counters for the status line, kept by the writer through the protocol's
    # media fold (the same answer the projector and export-wav give).
    audio_in_ms: float = 0.0
    audio_out_ms: float = 0.0
    _adapter: Adapter | None = field(default=None, repr=False)
    _media: MediaFold | None = field(default=None, repr=False)

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
            self.protocol,
        )

    def insert_values(self) -> tuple[object, ...]:
        return self._values()

    def update_values(self) -> tuple[object, ...]:
        assert self.db_id is not None
        return (*self._values()[1:], self.db_id)

    # -- encoding frames (the writer's side; never on the relay's path) ---------------

    @property
    def adapter(self) -> Adapter:
        if self._adapter is None:
            self._adapter = adapter_named(self.protocol)
        return self._adapter

    def encode(self, seq: int, t_ns: int, direction: str, frame: str | bytes) -> Any:
        """The row columns of one of this session's frames; keeps the live counters."""
        if self.protocol is None:
            self._recognise(direction, frame)
        adapter = self.adapter
        enc = encode_frame(frame, self.secrets, self.redact, adapter)
        if enc.type in adapter.media_types and not enc.flags & NOT_JSON:
            if self._media is None:
                self._media = adapter.media()
            row = MediaRow(
                seq,
                t_ns,
                direction,
                enc.type,
                enc.item_id,
                enc.response_id,
                enc.audio,
                frame=enc.frame,
            )
            for fact in self._media.feed(row, decode=False):
                if isinstance(fact, AudioChunk):
                    if fact.track == "user":
                        self.audio_in_ms += fact.duration_ms
                    else:
                        self.audio_out_ms += fact.duration_ms
        return enc

    def _recognise(self, direction: str, frame: str | bytes) -> None:
        """The first JSON object of a session whose path said nothing decides its protocol."""
        obj = parse_object(frame)
        if obj is not None:
            self.protocol = protocol_of_object(direction, obj)
            self._adapter = None
