"""The adapters' dispatch tables: per event type, how the projector applies it.  Pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from rtrec.projector.event_row import EventRow
from rtrec.projector.projection import Projection

E = TypeVar("E")
Direction = Literal["client", "server", "both"]


@dataclass(frozen=True, slots=True)
class Spec(Generic[E]):
    """How one event type is applied: `handler(projection, row, decode(row))`."""

    handler: Callable[[Projection, EventRow, E], None]
    # Decodes the row's payload into what the handler takes; None when the handler needs
    # the row's columns only (it is then given None).  A decoder returning None marks
    # the event malformed.
    decode: Callable[[EventRow], E | None] | None
    direction: Direction  # the side that sends this type


Handlers = Mapping[str, Spec[Any]]


def spec(
    handler: Callable[[Projection, EventRow, E], None],
    decode: Callable[[EventRow], E | None] | None,
    direction: Direction,
) -> Spec[Any]:
    """A table entry whose decoder is checked to give what its handler takes.

    (A `Spec(...)` written straight into a `Handlers` table would take its type from the
    table, `Spec[Any]`, and so check nothing.)
    """
    return Spec(handler, decode, direction)


def merge_handlers(*tables: Mapping[str, Spec[Any]]) -> dict[str, Spec[Any]]:
    """One table from the handler modules' tables; no type may be handled twice."""
    merged: dict[str, Spec[Any]] = {}
    for table in tables:
        for name, spec in table.items():
            if name in merged:
                raise RuntimeError(f"two projector handlers for {name}")
            merged[name] = spec
    return merged
