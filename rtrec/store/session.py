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

import dataclasses
import json
import re
import time
import uuid as uuid_module
from dataclasses import dataclass, field
from typing import Any

import msgspec

from rtrec.protocols import adapter_named, protocol_of_object
from rtrec.protocols.base import Adapter, AudioChunk, MediaFold, MediaRow, parse_object
from rtrec.store.frames import NOT_JSON, encode_frame
from rtrec.timefmt import iso_from_ns

# (protocol, adapter, audio_in_ms, audio_out_ms, (media fold type, its msgpack) or None)
CountedState = tuple[
    str | None, "Adapter | None", float, float, "tuple[type[MediaFold], bytes] | None"
]

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
    # The protocol family (rtrec/protocols), from the request path; None until the
    # first JSON frame decides it (imports, unknown paths).
    protocol: str | None = None
    secrets: frozenset[str] = frozenset()
    redact: tuple[re.Pattern[str], ...] = ()
    # Set by the writer once the row exists (and reported back to the relay).
    db_id: int | None = None
    next_seq: int = 0
    # Live counters for the status line, kept by the writer through the protocol's
    # media fold (the same answer the projector and export-wav give).
    audio_in_ms: float = 0.0
    audio_out_ms: float = 0.0
    _adapter: Adapter | None = field(default=None, repr=False)
    _media: MediaFold | None = field(default=None, repr=False)

    def adopt(self, newer: LiveSession) -> None:
        """Take the relay's newer metadata, keeping what the writer tracks itself."""
        for name in _RELAY_FIELDS:
            setattr(self, name, getattr(newer, name))

    def live_counters(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in LIVE_COUNTERS}

    def counted_state(self) -> CountedState:
        """What counting a batch changes: a batch that fails to commit is counted again."""
        # The media fold is a msgspec Struct (the projector keeps its state that way
        # too): its bytes are a copy that later frames cannot change.
        media = self._media
        saved = None if media is None else (type(media), msgspec.msgpack.encode(media))
        return (self.protocol, self._adapter, self.audio_in_ms, self.audio_out_ms, saved)

    def restore_counted_state(self, state: CountedState) -> None:
        self.protocol, self._adapter, self.audio_in_ms, self.audio_out_ms, saved = state
        self._media = None if saved is None else msgspec.msgpack.decode(saved[1], type=saved[0])

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


# The writer derives these from the frames it encodes; the relay's copy never changes
# them.  `protocol` comes from the request path with the session's first record, and
# the writer may decide it from the first frame when the path said nothing.
WRITER_FIELDS = frozenset(
    {"db_id", "protocol", "audio_in_ms", "audio_out_ms", "_adapter", "_media"}
)
LIVE_COUNTERS = ("audio_in_ms", "audio_out_ms")
_RELAY_FIELDS = tuple(
    f.name for f in dataclasses.fields(LiveSession) if f.name not in WRITER_FIELDS
)
