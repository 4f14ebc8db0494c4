"""Each protocol's bookkeeping between events, kept in the projection between catch-ups.

The projector stores a session's work state as JSON in `projected_session.work`; its
`type` tag says which protocol's fold it belongs to.  Small and bounded whatever the
session's length.  Pure.
"""

from __future__ import annotations

from rtrec.protocols.gemini.work import GeminiWork
from rtrec.protocols.live.work import LiveWork
from rtrec.protocols.realtime.work import RealtimeWork

# One member per protocol: an adapter adds its own work state here, and makes a fresh
# one with its `work()`.
Work = RealtimeWork | LiveWork | GeminiWork

__all__ = ["GeminiWork", "LiveWork", "RealtimeWork", "Work"]
