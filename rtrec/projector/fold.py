"""The projector: a fold over one session's events that rebuilds what they describe.

`Projector.apply(row)` takes the event row's columns (`EventRow`) and updates the
session's items, responses, turns and configuration.  What each event means is the
protocol adapter's business (rtrec/protocols): its handler table names, per event
type, the function that applies it, how to decode its payload (only events whose
payload matters are decoded), and the side that sends it.  The adapter's media fold
sees every audio and control row first, so audio seconds come from the same answer
export-wav and the terminal replay get.  Whatever changed is remembered (`dirty_*`,
`new_*`) so that the store can write just that.  Events of unknown types, events of
known types with unexpected shapes and frames that are not JSON are counted, never
fatal.  Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec

from rtrec.projector.conversation import Conversation
from rtrec.projector.event_row import EventRow
from rtrec.projector.state import (
    ErrorRow,
    ItemState,
    ResponseState,
    SessionState,
    SessionUpdateRow,
    TurnState,
)
from rtrec.protocols.base import UNPARSABLE, AudioChunk, MediaFact, MediaRow

if TYPE_CHECKING:
    from rtrec.protocols.base import Adapter


class Spec(NamedTuple):
    """How one event type is applied."""

    handler: Callable[[Projector, EventRow, Any], None]
    # Decodes the row's payload; None when the handler needs the row's columns only.
    # A decoder returning None marks the event malformed.
    decode: Callable[[EventRow], Any] | None
    direction: str  # the side that sends this type: "client", "server" or "both"


Handlers = Mapping[str, Spec]


@dataclass
class Changes:
    """What the events applied since the last `take_changes()` touched."""

    items: list[ItemState] = field(default_factory=list)
    responses: list[ResponseState] = field(default_factory=list)
    turns: list[TurnState] = field(default_factory=list)
    updates: list[SessionUpdateRow] = field(default_factory=list)
    errors: list[ErrorRow] = field(default_factory=list)


class Projector:
    def __init__(
        self,
        session: SessionState,
        items: dict[str, ItemState] | None = None,
        responses: dict[str, ResponseState] | None = None,
        turns: dict[str, TurnState] | None = None,
    ) -> None:
        from rtrec.protocols import adapter_named

        self.session = session
        self.adapter: Adapter = adapter_named(session.protocol)
        if session.work.__struct_config__.tag != self.adapter.name:
            # A new session's state starts as Realtime's: give it its own protocol's.
            session.work = self.adapter.work()
        self.items = items if items is not None else {}
        self.responses = responses if responses is not None else {}
        self.turns = turns if turns is not None else {}
        self.dirty_items: set[str] = set()
        self.dirty_responses: set[str] = set()
        self.dirty_turns: set[str] = set()
        self.new_updates: list[SessionUpdateRow] = []
        self.new_errors: list[ErrorRow] = []
        self.conversation = Conversation(self.items, self.dirty_items)
        self._handlers = self.adapter.handlers
        self._media_types = self.adapter.media_types
        self._known_types = self.adapter.known_types
        self._untyped = self.adapter.types_untyped
        # The media facts of the row being applied (audio chunks, their formats).
        self.facts: list[MediaFact] = []

    # -- folding ----------------------------------------------------------------------

    def apply(self, row: EventRow) -> None:
        if row.type is None and self._untyped is not None and row.frame is not None:
            row = row._replace(type=self._untyped(row.frame))
        session = self.session
        session.last_seq = row.seq
        session.events += 1
        if row.type in self._media_types:
            self.facts = session.work.media.feed(
                MediaRow(
                    row.seq,
                    row.t_ns,
                    row.direction,
                    row.type,
                    row.item_id,
                    row.response_id,
                    audio_len=row.audio_len,
                    frame=row.frame,
                ),
                decode=False,
            )
        else:
            self.facts = []
        spec = self._handlers.get(row.type)  # type: ignore[arg-type]
        if spec is None:
            self._unhandled(row)
            return
        handler, decode, direction = spec
        if row.direction != direction and direction != "both":
            self.count_unknown(f"{row.direction}:{row.type}")
            return
        event = None
        if decode is not None:
            event = decode(row)
            if event is None:
                self.session.malformed_events += 1
                return
        try:
            handler(self, row, event)
        except Exception as exc:  # a server quirk the fold did not foresee: never fatal
            self.session.malformed_events += 1
            self.count_unknown(f"(not applied: {row.type}: {type(exc).__name__})", event=False)

    def apply_all(self, rows: Iterable[EventRow]) -> None:
        apply = self.apply
        for row in rows:
            apply(row)

    def _unhandled(self, row: EventRow) -> None:
        if row.type is None:
            self.count_unknown(_untyped(row.frame))
        elif row.type not in self._known_types:
            self.count_unknown(row.type)
        # Known types without a handler change nothing the projection shows.

    # -- state access for the handlers --------------------------------------------

    def item(self, item_id: str, t_ns: int) -> ItemState:
        """The item with this id, created on first mention; marked as changed."""
        item = self.items.get(item_id)
        if item is None:
            item = self.items[item_id] = ItemState(item_id=item_id, first_ns=t_ns)
        self.dirty_items.add(item_id)
        return item

    def response(self, response_id: str, t_ns: int) -> ResponseState:
        response = self.responses.get(response_id)
        if response is None:
            response = self.responses[response_id] = ResponseState(response_id=response_id)
        self.dirty_responses.add(response_id)
        return response

    def count_unknown(self, key: str, *, event: bool = True) -> None:
        """Count an unknown event type (or, with event=False, an unknown item/content type)."""
        session = self.session
        if event:
            session.unknown_events += 1
        session.unknown_types[key] = session.unknown_types.get(key, 0) + 1

    def count_audio(self) -> float:
        """Add the row's audio chunks to the session's totals; their duration in ms."""
        session = self.session
        total_ms = 0.0
        for fact in self.facts:
            if not isinstance(fact, AudioChunk):
                continue
            ms = fact.duration_ms
            if fact.track == "user":
                session.audio_in_bytes += fact.nbytes
                session.audio_in_ms += ms
            else:
                session.audio_out_bytes += fact.nbytes
                session.audio_out_ms += ms
            total_ms += ms
        return total_ms

    # -- handing changes to the store -------------------------------------------------

    def take_changes(self) -> Changes:
        changes = Changes(
            items=[self.items[i] for i in sorted(self.dirty_items)],
            responses=[self.responses[r] for r in sorted(self.dirty_responses)],
            turns=[self.turns[t] for t in sorted(self.dirty_turns)],
            updates=self.new_updates,
            errors=self.new_errors,
        )
        self.dirty_items.clear()
        self.dirty_responses.clear()
        self.dirty_turns.clear()
        self.new_updates = []
        self.new_errors = []
        return changes


def _untyped(frame: str | bytes | None) -> str:
    if isinstance(frame, bytes):
        return "(binary frame)"
    try:
        msgspec.json.decode(frame or "")
    except UNPARSABLE:
        return "(not JSON)"
    return "(no type)"
