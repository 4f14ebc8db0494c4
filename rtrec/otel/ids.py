"""Trace and span ids derived from the session, so a re-export sends the same ids.

Backends deduplicate or overwrite spans by (trace id, span id): exporting a session
twice must not show two calls.  The trace id is the session's uuid itself (search a
backend for the uuid without dashes to find the call); a span id is a hash of the
uuid and what the span stands for (a turn's item id, a response id, a call id).
"""

from __future__ import annotations

import hashlib
import uuid


def trace_id(session_uuid: str) -> int:
    try:
        value = uuid.UUID(session_uuid).int
    except ValueError:  # not a uuid (a foreign import): hash it instead
        value = int.from_bytes(hashlib.sha256(session_uuid.encode()).digest()[:16], "big")
    return value or 1  # an all-zero id is invalid in OpenTelemetry


def span_id(session_uuid: str, *key: str) -> int:
    digest = hashlib.sha256("\x1f".join((session_uuid, *key)).encode()).digest()
    return int.from_bytes(digest[:8], "big") or 1
