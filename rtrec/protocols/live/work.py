"""The GPT-Live fold's bookkeeping between events, bounded whatever the session's length.

Kept in the projection (`projected_session.work`) so a projector reloaded from the
tables folds on exactly as one that never stopped.  Pure.
"""

from __future__ import annotations

import msgspec

from rtrec.protocols.live.media import LiveMedia

MAX_RECENT_STARTS = 32  # assistant deltas remembered for turns still being measured
MAX_OPEN_TURNS = 8  # user turns whose first answer may still change
MAX_CALLS = 64  # function calls and delegations an answer may still name


class Run(msgspec.Struct, array_like=True):
    """One speaker's current message: a run of transcript deltas (session clock, ms)."""

    item_id: str
    start_ms: int
    last_end_ms: int  # the end of the run's latest delta (the next one continues from it)
    end_ms: int  # the latest end of any of its deltas


class Start(msgspec.Struct, array_like=True):
    """Where an assistant delta started, and the message it belongs to."""

    start_ms: int
    item_id: str


class LiveWork(msgspec.Struct, kw_only=True, tag="live"):
    messages: int = 0  # messages so far: the N of live-msg-N
    turns: int = 0
    user: Run | None = None
    assistant: Run | None = None
    recent_starts: list[Start] = msgspec.field(default_factory=list)
    open_turns: list[str] = msgspec.field(default_factory=list)
    calls: dict[str, str] = msgspec.field(default_factory=dict)  # call_id → item_id
    delegations: dict[str, str] = msgspec.field(default_factory=dict)  # id → item_id
    media: LiveMedia = msgspec.field(default_factory=LiveMedia)


def remember(mapping: dict[str, str], key: str, value: str) -> None:
    mapping[key] = value
    while len(mapping) > MAX_CALLS:
        del mapping[next(iter(mapping))]
