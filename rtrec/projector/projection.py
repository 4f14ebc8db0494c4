"""What a session's events have built so far, and what changed since it was last taken.

The state the protocol handlers change: the session, its items, responses and turns,
the conversation's order, and the media facts of the row being applied.  Handlers take
a `Projection` (not the `Projector` that drives them), so the adapters' handler modules
and the projector import nothing of each other.  Pure: no I/O.
"""

from __future__ import annotations

from typing import Any, TypeVar

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
from rtrec.protocols.media import AudioChunk, MediaFact

W = TypeVar("W")


class Projection:
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
        # The media facts of the row being applied (audio chunks, their formats).
        self.facts: list[MediaFact] = []

    def work_of(self, kind: type[W]) -> W:
        """The session's protocol bookkeeping, as that protocol's handlers know it."""
        work = self.session.work
        assert isinstance(work, kind), f"{type(work).__name__} is not {kind.__name__}"
        return work

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

    def record_config(
        self,
        row: EventRow,
        config: dict[str, Any],
        provider_session: object = None,
        event_type: str | None = None,
    ) -> None:
        """The session's configuration is now `config`, a row of `session_updates`.

        `config` must be a new dict, never mutated afterwards: the update row shares it.
        `provider_session`, the provider's own session object, names the provider's
        session id when none is known yet.
        """
        session = self.session
        session.config = config
        provider_id = provider_session.get("id") if isinstance(provider_session, dict) else None
        if session.provider_session_id is None and isinstance(provider_id, str):
            session.provider_session_id = provider_id
        kind = event_type if event_type is not None else row.type or ""
        self.new_updates.append(
            SessionUpdateRow(seq=row.seq, t_ns=row.t_ns, event_type=kind, config=config)
        )

    def record_error(
        self,
        row: EventRow,
        *,
        type: str | None,
        code: str | None,
        message: str | None,
        param: str | None = None,
        client_event_id: str | None = None,
        counted: bool = True,
    ) -> None:
        """A row of the `errors` view; `counted` ones count in the session's errors."""
        if counted:
            self.session.errors += 1
        self.new_errors.append(
            ErrorRow(
                seq=row.seq,
                t_ns=row.t_ns,
                type=type,
                code=code,
                message=message,
                param=param,
                client_event_id=client_event_id,
            )
        )
