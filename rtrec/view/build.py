"""Gathering one session's page: the views, the event log and the mix, read in one go."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rtrec.replay.wav.mix import as_heard_mix
from rtrec.store.connections import Connection
from rtrec.store.event_log import iter_logged_events
from rtrec.store.projected import read_projection
from rtrec.view.audio import EncodedMix, encode_mix
from rtrec.view.events import PackedEvents, pack_events
from rtrec.view.model import build_model


@dataclass
class PageParts:
    model: dict[str, Any]
    audio: EncodedMix | None
    events: PackedEvents

    def close(self) -> None:
        if self.audio is not None:
            self.audio.close()
        self.events.close()


def gather(conn: Connection, session_id: int) -> PageParts:
    """Everything the page of a session holds (close it when written)."""
    projection = read_projection(conn, session_id)
    events = pack_events(iter_logged_events(conn, session_id))
    try:
        mix = as_heard_mix(conn, session_id)
        audio = encode_mix(mix) if mix is not None else None
    except BaseException:
        events.close()
        raise
    model = build_model(
        projection,
        audio=audio.describe() if audio is not None else None,
        last_event_ms=events.last_t_ms,
    )
    model["events"] = events_summary(events)
    return PageParts(model, audio, events)


def events_summary(events: PackedEvents) -> dict[str, Any]:
    return {"count": events.count, "types": events.types, "last_seq": events.last_seq}
