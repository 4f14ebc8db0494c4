"""How far the log reaches, and how much of it one read takes.

Long things (a session's frames, its media rows, a view's rows) are read in pages,
each its own short read: a replay at real-time speed can run for hours, and a read
transaction held that long would stop a concurrent recorder's WAL from being
checkpointed, while a page bounds the memory a read needs.  Pure: no I/O.
"""

from __future__ import annotations

# Beyond every recorded time (ns) and sequence number, which the log keeps in signed
# 64 bits: a bound this far out means "no end", and stays an SQLite integer on its way
# to SQL.
NO_END = 2**62

# Rows of whole frames (audio included) per read: replay, the media fold, --strict.
PAGE_ROWS = 512
# A media page also stops at this many bytes of audio and frame text.
PAGE_BYTES = 16 << 20
# Rows of the `events` view (audio elided) per read: the event log of view and ui.
EVENTS_PAGE_ROWS = 2000
# Event rows the projector folds per read (catch-up and rebuilds).
FOLD_PAGE_ROWS = 2000
# Rows of a view per page of a Parquet export.
VIEW_PAGE_ROWS = 4096
