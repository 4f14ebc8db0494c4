"""The projector: rebuilds a session's conversation, responses, turns and configuration
from its events.  A pure fold (no I/O); `rtrec.store.projection` runs it against the
database and keeps the projection tables current."""

from rtrec.projector.event_row import EventRow
from rtrec.projector.fold import Changes, Projector
from rtrec.projector.projection import Projection
from rtrec.projector.state import (
    ErrorRow,
    ItemState,
    ResponseState,
    SessionState,
    SessionUpdateRow,
    TurnState,
)

__all__ = [
    "Changes",
    "ErrorRow",
    "EventRow",
    "ItemState",
    "Projection",
    "Projector",
    "ResponseState",
    "SessionState",
    "SessionUpdateRow",
    "TurnState",
]
