"""Keeping the projection tables current: incremental catch-up, and rebuilds from scratch.

A session's projection advances from its checkpoint (`projected_session.last_seq`):
new events are read in pages (short read transactions, memory flat), folded by the
projector, and what they changed is written with the new checkpoint in one
transaction.  Only changed rows are written, so a long session costs the same per
catch-up as a short one.

Several processes may catch up at once (the recorder's follower, `rtrec show`, an
import).  Each write checks that the stored checkpoint is still the one its state was
built on; if another process got there first, it reloads the state from the tables
and carries on from there.  The result is the same however the work was split.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from rtrec.projector import EventRow, Projector, SessionState
from rtrec.store.db import transaction
from rtrec.store.metadata import session_protocol
from rtrec.store.paging import FOLD_PAGE_ROWS
from rtrec.store.projection_rows import (
    ERRORS,
    ITEMS,
    PER_SESSION_TABLES,
    PROJECTOR_VERSION,
    RESPONSES,
    SESSION,
    TURNS,
    UPDATES,
    R,
    Table,
)

FLUSH_EVERY = 20_000  # events folded between writes while catching up a long way
# How far back an error's client event is looked for (it is nearly always recent).
CLIENT_EVENT_LOOKBACK = 100_000

SELECT_EVENTS = (
    "SELECT seq, t_ns, direction, type, event_id, item_id, response_id, length(audio), "
    "CASE WHEN audio IS NULL THEN frame END "
    "FROM event WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?"
)
# For protocols whose media fold reads the text around compacted audio (Gemini's
# chunks name their own format).
SELECT_EVENTS_WITH_AUDIO_FRAMES = (
    "SELECT seq, t_ns, direction, type, event_id, item_id, response_id, length(audio), frame "
    "FROM event WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?"
)
SELECT_CLIENT_EVENT = (
    "SELECT seq, type FROM event WHERE session_id = ? AND seq < ? AND seq >= ? "
    "AND direction = 'client' AND event_id = ? ORDER BY seq DESC LIMIT 1"
)


# A row tuple as an EventRow, without NamedTuple's Python-level constructor (hot path).
_as_event_row = functools.partial(tuple.__new__, EventRow)


@dataclass
class Tracked:
    """A session's projector, and the checkpoint of its rows in the database.

    `stored_seq` is the checkpoint the rows had when this state was loaded or last
    written (None: no rows).  `replace` clears the session's rows on the next write.
    """

    projector: Projector
    stored_seq: int | None
    replace: bool = False

    @property
    def session_id(self) -> int:
        return self.projector.session.session_id


class _Stale(Exception):
    """Another process wrote this session's projection since this state was loaded."""


def fresh(conn: sqlite3.Connection, session_id: int, *, replace: bool = False) -> Tracked:
    protocol = session_protocol(conn, session_id)
    return Tracked(Projector(SessionState(session_id=session_id, protocol=protocol)), None, replace)


def load(conn: sqlite3.Connection, session_id: int) -> Tracked:
    """The session's projector as its rows left it (fresh if it has none, or old ones)."""
    conn.execute("BEGIN")  # one snapshot: the rows must all belong to the same checkpoint
    try:
        row = conn.execute(
            f"SELECT version, {', '.join(SESSION.fields)} FROM projected_session "
            "WHERE session_id = ?",
            (session_id,),
        ).fetchone()
        if row is None or row[0] != PROJECTOR_VERSION:
            return fresh(conn, session_id, replace=row is not None)
        session = SESSION.load(row[1:], session_id=session_id)
        items = {i.item_id: i for i in _load_all(conn, ITEMS, session_id)}
        responses = {r.response_id: r for r in _load_all(conn, RESPONSES, session_id)}
        turns = {t.item_id: t for t in _load_all(conn, TURNS, session_id)}
    finally:
        conn.execute("COMMIT")
    return Tracked(Projector(session, items, responses, turns), session.last_seq)


def _load_all(conn: sqlite3.Connection, table: Table[R], session_id: int) -> list[R]:
    return [table.load(values) for values in conn.execute(table.select, (session_id,))]


def fold_new(conn: sqlite3.Connection, tracked: Tracked, limit: int = FLUSH_EVERY) -> int:
    """Fold up to about `limit` events after the state's last one (not written yet)."""
    projector = tracked.projector
    sql = SELECT_EVENTS_WITH_AUDIO_FRAMES if projector.adapter.audio_frames else SELECT_EVENTS
    folded = 0
    while folded < limit:
        rows = conn.execute(
            sql, (tracked.session_id, projector.session.last_seq, FOLD_PAGE_ROWS)
        ).fetchall()
        projector.apply_all(map(_as_event_row, rows))
        folded += len(rows)
        if len(rows) < FOLD_PAGE_ROWS:
            break
    return folded


def advance(
    conn: sqlite3.Connection, tracked: Tracked, *, immediate: bool = True
) -> tuple[Tracked, int]:
    """Fold and write the session's events after its checkpoint; (state now, events folded).

    `immediate=False` writes in deferred transactions: for projection tables in memory
    (rtrec/store/reading.py), where taking the database's write lock would be wrong.
    """
    total = 0
    while True:
        folded = fold_new(conn, tracked)
        if folded or tracked.replace:
            try:
                write(conn, tracked, immediate=immediate)
            except _Stale:
                tracked = load(conn, tracked.session_id)
                continue
        total += folded
        if folded < FLUSH_EVERY:
            return tracked, total


def write(conn: sqlite3.Connection, tracked: Tracked, *, immediate: bool = True) -> None:
    """Write what changed and the checkpoint, in one transaction; _Stale if overtaken."""
    if write_together(conn, [tracked], immediate=immediate):
        raise _Stale


def write_together(
    conn: sqlite3.Connection, sessions: list[Tracked], *, immediate: bool = True
) -> list[Tracked]:
    """Write several sessions' changes in one transaction; returns those overtaken.

    One commit per pass rather than one per session: the recorder's follower writes
    every live session this way.  An overtaken session's changes are dropped; its
    state must be reloaded from the tables.
    """
    stale = []
    with transaction(conn, immediate=immediate):
        for tracked in sessions:
            session_id = tracked.session_id
            row = conn.execute(
                "SELECT last_seq FROM projected_session WHERE session_id = ?", (session_id,)
            ).fetchone()
            stored = row[0] if row is not None else None
            if tracked.replace:
                for table in PER_SESSION_TABLES:
                    conn.execute(f"DELETE FROM {table} WHERE session_id = ?", (session_id,))
            elif stored != tracked.stored_seq:
                stale.append(tracked)
                continue
            _write_changes(conn, tracked)
    for tracked in sessions:
        if tracked not in stale:
            tracked.stored_seq = tracked.projector.session.last_seq
            tracked.replace = False
    return stale


def write_rows(conn: sqlite3.Connection, tracked: Tracked) -> None:
    """Write what changed in the caller's transaction, with no checkpoint check.

    For a private copy of the tables that no other process writes (an exporter's
    in-memory fold of a session whose stored projection is behind).
    """
    _write_changes(conn, tracked)


def _write_changes(conn: sqlite3.Connection, tracked: Tracked) -> None:
    projector = tracked.projector
    session_id = tracked.session_id
    changes = projector.take_changes()
    conn.executemany(ITEMS.insert, [ITEMS.row(session_id, i) for i in changes.items])
    conn.executemany(RESPONSES.insert, [RESPONSES.row(session_id, r) for r in changes.responses])
    conn.executemany(TURNS.insert, [TURNS.row(session_id, t) for t in changes.turns])
    conn.executemany(UPDATES.insert, [UPDATES.row(session_id, u) for u in changes.updates])
    conn.executemany(
        ERRORS.insert,
        [
            ERRORS.row(session_id, e)[:-2]
            + _client_event(conn, session_id, e.seq, e.client_event_id)
            for e in changes.errors
        ],
    )
    conn.execute(SESSION.insert, SESSION.row(session_id, projector.session))


def _client_event(
    conn: sqlite3.Connection, session_id: int, seq: int, event_id: str | None
) -> tuple[int | None, str | None]:
    """(seq, type) of the latest client event before `seq` with this event_id."""
    if event_id is None:
        return None, None
    row = conn.execute(
        SELECT_CLIENT_EVENT, (session_id, seq, seq - CLIENT_EVENT_LOOKBACK, event_id)
    ).fetchone()
    return (row[0], row[1]) if row is not None else (None, None)


def sessions_behind(conn: sqlite3.Connection, *, skip_live: bool = False) -> list[int]:
    """Sessions whose projection is missing, behind their events, or from an older rtrec.

    With `skip_live`, sessions a running recorder is still writing are left to that
    recorder's follower (see rtrec/store/follower.py).  Reading commands do not skip
    them: they show everything written so far, and the follower, finding its
    checkpoint moved, reloads the session's state and carries on.
    """
    live = " AND NOT (s.ended_at IS NULL AND s.recorder IS NOT NULL)" if skip_live else ""
    rows = conn.execute(
        "SELECT s.id FROM session s LEFT JOIN projected_session p ON p.session_id = s.id "
        "WHERE (SELECT max(e.seq) FROM event e WHERE e.session_id = s.id) "
        "  > coalesce(CASE WHEN p.version = ? THEN p.last_seq END, -1)"
        f"{live} ORDER BY s.id",
        (PROJECTOR_VERSION,),
    ).fetchall()
    return [session_id for (session_id,) in rows]


def catch_up(
    conn: sqlite3.Connection,
    session_ids: Iterable[int] | None = None,
    *,
    skip_live: bool = False,
    immediate: bool = True,
) -> int:
    """Bring projections up to date (all sessions behind, or these); returns events folded."""
    ids = sessions_behind(conn, skip_live=skip_live) if session_ids is None else session_ids
    total = 0
    for session_id in ids:
        _, folded = advance(conn, load(conn, session_id), immediate=immediate)
        total += folded
    return total


def invalidate(conn: sqlite3.Connection, session_ids: Iterable[int]) -> None:
    """Have these sessions' projections rebuilt from scratch by the next catch-up.

    For events added behind a checkpoint (a spill file restored into its sessions).
    """
    conn.executemany(
        "UPDATE projected_session SET version = 0 WHERE session_id = ?",
        [(session_id,) for session_id in session_ids],
    )


def reproject(conn: sqlite3.Connection, session_ids: Iterable[int] | None = None) -> int:
    """Rebuild projections from the event log alone; returns events folded."""
    if session_ids is None:
        session_ids = [sid for (sid,) in conn.execute("SELECT id FROM session ORDER BY id")]
    total = 0
    for session_id in session_ids:
        _, folded = advance(conn, fresh(conn, session_id, replace=True))
        total += folded
    return total
