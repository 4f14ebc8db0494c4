"""Projector state ⇄ projection table rows, both ways.

A record's fields are the table's columns, in order (lists, dicts and nested records
as JSON text), followed by derived columns that are written for readers and ignored
when the state is read back.  Reading back gives the same state that was written, so
a projector loaded from the tables folds on exactly as one that never stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import msgspec

from rtrec.projector.state import (
    ErrorRow,
    ItemState,
    ResponseState,
    SessionState,
    SessionUpdateRow,
    TurnState,
)

R = TypeVar("R", bound=msgspec.Struct)


class Table(Generic[R]):
    """How one record type is stored: its table, columns, JSON columns and derived ones."""

    def __init__(
        self,
        name: str,
        record: type[R],
        *,
        json: frozenset[str] = frozenset(),
        skip: frozenset[str] = frozenset(),
        derived: Sequence[tuple[str, Callable[[R], Any]]] = (),
    ) -> None:
        self.name = name
        self.record = record
        self.fields = [f for f in record.__struct_fields__ if f not in skip]
        self.json = json
        types = {f.name: f.type for f in msgspec.structs.fields(record)}
        # Typed decoders build nested records directly; SQLite gives 0/1 for booleans.
        self._decoders = {name: msgspec.json.Decoder(types[name]) for name in json}
        self._booleans = {name for name in self.fields if types[name] in (bool, bool | None)}
        self.derived = list(derived)
        self.columns = ["session_id", *self.fields, *(column for column, _ in self.derived)]
        self.insert = (
            f"INSERT OR REPLACE INTO {name} ({', '.join(self.columns)}) "
            f"VALUES ({', '.join('?' for _ in self.columns)})"
        )
        self.select = f"SELECT {', '.join(self.fields)} FROM {name} WHERE session_id = ?"

    def row(self, session_id: int, record: R) -> tuple[Any, ...]:
        values: list[Any] = [session_id]
        for name in self.fields:
            value = getattr(record, name)
            if name in self.json:
                value = msgspec.json.encode(value).decode()
            values.append(value)
        values.extend(compute(record) for _, compute in self.derived)
        return tuple(values)

    def load(self, values: Sequence[Any], **extra: Any) -> R:
        data = dict(extra)
        decoders, booleans = self._decoders, self._booleans
        for name, value in zip(self.fields, values, strict=True):
            if value is not None:
                if name in decoders:
                    value = decoders[name].decode(value)
                elif name in booleans:
                    value = bool(value)
            data[name] = value
        return self.record(**data)


def _ended_by(turn: TurnState) -> str | None:
    if turn.end_kind is not None:
        return turn.end_kind
    if turn.speech_stopped_ns is not None:
        return "speech_stopped"
    if turn.client_commit_ns is not None:
        return "commit"
    if turn.client_ns is not None:
        return "message"
    return "commit" if turn.committed_ns is not None else None


PROJECTOR_VERSION = 2  # bump when the fold changes what it writes: old rows get rebuilt

SESSION = Table(
    "projected_session",
    SessionState,
    json=frozenset({"config", "unknown_types", "work"}),
    # session_id is the first column already.
    skip=frozenset({"session_id"}),
    derived=[("version", lambda _: PROJECTOR_VERSION)],
)
ITEMS = Table(
    "projected_item",
    ItemState,
    json=frozenset({"parts", "segments"}),
    derived=[("text", ItemState.text)],
)
RESPONSES = Table("projected_response", ResponseState, json=frozenset({"output_item_ids"}))
TURNS = Table(
    "projected_turn",
    TurnState,
    derived=[("end_ns", TurnState.end_ns), ("ended_by", _ended_by)],
)
UPDATES = Table("projected_session_update", SessionUpdateRow, json=frozenset({"config"}))
ERRORS = Table(
    "projected_error",
    ErrorRow,
    derived=[("client_seq", lambda _: None), ("client_event_type", lambda _: None)],
)

# Tables holding one session's rows, cleared when it is projected again from scratch.
PER_SESSION_TABLES = (
    "projected_item",
    "projected_response",
    "projected_turn",
    "projected_session_update",
    "projected_error",
    "projected_session",
)
