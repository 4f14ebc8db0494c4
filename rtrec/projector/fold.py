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

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec

from rtrec.projector.event_row import EventRow
from rtrec.projector.projection import Projection
from rtrec.projector.state import (
    ErrorRow,
    ItemState,
    ResponseState,
    SessionState,
    SessionUpdateRow,
    TurnState,
)
from rtrec.protocols.media import MediaRow
from rtrec.protocols.parsing import UNPARSABLE

if TYPE_CHECKING:
    from rtrec.protocols.base import Adapter


@dataclass
class Changes:
    """What the events applied since the last `take_changes()` touched."""

    items: list[ItemState] = field(default_factory=list)
    responses: list[ResponseState] = field(default_factory=list)
    turns: list[TurnState] = field(default_factory=list)
    updates: list[SessionUpdateRow] = field(default_factory=list)
    errors: list[ErrorRow] = field(default_factory=list)


class Projector(Projection):
    """Drives the fold: each row goes to its adapter's media fold, then to the handler the
    adapter names for its type, which changes this projection."""

    def __init__(
        self,
        session: SessionState,
        items: dict[str, ItemState] | None = None,
        responses: dict[str, ResponseState] | None = None,
        turns: dict[str, TurnState] | None = None,
    ) -> None:
        from rtrec.protocols import adapter_named

        super().__init__(session, items, responses, turns)
        self.adapter: Adapter = adapter_named(session.protocol)
        if session.work.__struct_config__.tag != self.adapter.name:
            # A new session's state starts as Realtime's: give it its own protocol's.
            session.work = self.adapter.work()
        self._handlers = self.adapter.handlers
        self._media_types = self.adapter.media_types
        self._known_types = self.adapter.known_types
        self._untyped = self.adapter.types_untyped

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
        spec = self._handlers.get(row.type) if row.type is not None else None
        if spec is None:
            self._unhandled(row)
            return
        if row.direction != spec.direction and spec.direction != "both":
            self.count_unknown(f"{row.direction}:{row.type}")
            return
        event = None
        if spec.decode is not None:
            event = spec.decode(row)
            if event is None:
                self.session.malformed_events += 1
                return
        try:
            spec.handler(self, row, event)
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
