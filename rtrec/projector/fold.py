"""The projector: a fold over one session's events that rebuilds what they describe.

`Projector.apply(row)` takes the event row's columns (`EventRow`) and updates the
session's items, responses, turns and configuration.  Only events whose payload
matters are decoded (with `rtrec.events.decode_event`); audio is counted from the
row's byte length.  Whatever changed is remembered (`dirty_*`, `new_*`) so that the
store can write just that.  Events of unknown types, events of known types with
unexpected shapes and frames that are not JSON are counted, never fatal.  Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import msgspec

from rtrec.events import EVENT_CLASSES, EVENT_TYPES, UNPARSABLE, UnknownEvent, decode_event
from rtrec.projector.config import format_from_text
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

Handler = Callable[["Projector", EventRow, Any], None]


class Spec(NamedTuple):
    handler: Handler
    decode: bool  # needs the decoded frame
    direction: str  # the side that sends this type


_CLASS_BY_TYPE: dict[str, type] = {
    cls.__struct_config__.tag: cls  # type: ignore[misc]
    for cls in EVENT_CLASSES
}


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
        self.session = session
        self.items = items if items is not None else {}
        self.responses = responses if responses is not None else {}
        self.turns = turns if turns is not None else {}
        self.dirty_items: set[str] = set()
        self.dirty_responses: set[str] = set()
        self.dirty_turns: set[str] = set()
        self.new_updates: list[SessionUpdateRow] = []
        self.new_errors: list[ErrorRow] = []
        self.conversation = Conversation(self.items, self.dirty_items)
        self.in_bytes_per_s = self.out_bytes_per_s = 1
        self.formats_changed()

    # -- folding ----------------------------------------------------------------------

    def apply(self, row: EventRow) -> None:
        session = self.session
        session.last_seq = row.seq
        session.events += 1
        spec = HANDLERS.get(row.type)  # type: ignore[arg-type]
        if spec is None:
            self._unhandled(row)
            return
        handler, decode, direction = spec
        if row.direction != direction:
            self.count_unknown(f"{row.direction}:{row.type}")
            return
        event = None
        if decode:
            event = self._decode(row)
            if event is None:
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
        elif row.type not in EVENT_TYPES:
            self.count_unknown(row.type)
        # Known types without a handler change nothing the projection shows.

    def _decode(self, row: EventRow) -> Any:
        frame = row.frame
        event = decode_event(frame) if frame is not None else None
        if isinstance(event, UnknownEvent):
            event = self._salvage(event)
        if event is None:
            self.session.malformed_events += 1
        return event

    @staticmethod
    def _salvage(event: UnknownEvent) -> Any:
        """A known type with an unexpected shape: accept what lax conversion can read."""
        cls = _CLASS_BY_TYPE.get(event.type or "")
        if cls is None or not isinstance(event.data, dict):
            return None
        try:
            return msgspec.convert(event.data, cls, strict=False)
        except (msgspec.ValidationError, RecursionError):
            return None

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

    def formats_changed(self) -> None:
        session = self.session
        session.input_format = format_from_text(session.config.get("input_format"))
        session.output_format = format_from_text(session.config.get("output_format"))
        # Audio events are the bulk of a session: keep their arithmetic to one division.
        self.in_bytes_per_s = session.input_format.bytes_per_second
        self.out_bytes_per_s = session.output_format.bytes_per_second

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


def _handlers() -> dict[str, Spec]:
    from rtrec.projector import items, responses, session, turns

    table: dict[str, Spec] = {}
    for module in (session, items, responses, turns):
        for name, (handler, decode, direction) in module.HANDLERS.items():
            if name in table:
                raise RuntimeError(f"two projector handlers for {name}")
            table[name] = Spec(handler, decode, direction)
    return table


# The handler modules reach the Projector only through its methods (no import back).
HANDLERS: dict[str, Spec] = _handlers()
