"""Each protocol's bookkeeping between events, kept in the projection between catch-ups.

The projector stores a session's work state as JSON in `projected_session.work`; its
`type` tag says which protocol's fold it belongs to.  Small and bounded whatever the
session's length.  Pure.
"""

from __future__ import annotations

from rtrec.protocols.gemini.work import GeminiWork
from rtrec.protocols.realtime.work import RealtimeWork

# One member per protocol: an adapter adds its own work state here.
Work = RealtimeWork | GeminiWork
WORK_TYPES: dict[str, type[Work]] = {
    "realtime": RealtimeWork,
    "gemini": GeminiWork,
}


def new_work(protocol: str) -> Work:
    """Fresh bookkeeping for a session of this protocol (Realtime's for unknown names)."""
    return WORK_TYPES.get(protocol, RealtimeWork)()


__all__ = ["WORK_TYPES", "GeminiWork", "RealtimeWork", "Work", "new_work"]
