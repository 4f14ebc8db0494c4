"""Helpers for projector tests: event rows built the way the writer builds them."""

from __future__ import annotations

import base64
import json
import sqlite3
from typing import Any

from rtrec.projector import EventRow, Projector, SessionState
from rtrec.protocols.realtime.events import direction_of
from rtrec.store.frames import encode_frame
from rtrec.store.projection_rows import PER_SESSION_TABLES


def row(
    seq: int, t_ms: float, event: dict[str, Any] | str, direction: str | None = None
) -> EventRow:
    """The columns the event table would hold for this frame (via the real encoder)."""
    frame = event if isinstance(event, str) else json.dumps(event)
    if direction is None:
        direction = direction_of(event.get("type") if isinstance(event, dict) else None)
    enc = encode_frame(frame)
    compacted = enc.audio is not None
    return EventRow(
        seq,
        int(t_ms * 1_000_000),
        direction,
        enc.type,
        enc.event_id,
        enc.item_id,
        enc.response_id,
        len(enc.audio) if compacted else None,
        None if compacted else enc.frame,
    )


def fold(*events: dict[str, Any] | str | tuple[float, dict[str, Any]]) -> Projector:
    """Fold events (optionally `(t_ms, event)`) into a new projector; 10 ms apart by default."""
    projector = Projector(SessionState(session_id=1))
    for seq, event in enumerate(events):
        if isinstance(event, tuple):
            t_ms, body = event
        else:
            t_ms, body = seq * 10.0, event
        projector.apply(row(seq, t_ms, body))
    return projector


def conversation(projector: Projector) -> list[tuple[str, str | None, str | None]]:
    """(item_id, role or type, text) of live items in order."""
    live = [i for i in projector.items.values() if i.in_conversation and not i.deleted]
    live.sort(key=lambda i: i.position if i.position is not None else -1)
    assert [i.position for i in live] == list(range(len(live)))
    return [(i.item_id, i.role or i.type, i.text()) for i in live]


def pcm(ms: int, rate: int = 24000) -> str:
    """Base64 of `ms` of silent pcm16."""
    return base64.b64encode(b"\0\0" * (rate * ms // 1000)).decode()


def dump_projection(conn: sqlite3.Connection, session_id: int | None = None) -> dict[str, list]:
    where = "" if session_id is None else f" WHERE session_id = {int(session_id)}"
    return {
        table: conn.execute(f"SELECT * FROM {table}{where} ORDER BY 1, 2").fetchall()
        for table in PER_SESSION_TABLES
    }
