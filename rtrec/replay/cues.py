"""What the mock server learns from the connected client.  Pure: no I/O.

`ClientCues` serves `--pace client`: the recorded client event that is the k-th of
its type is matched by the live client's k-th event of that type, and the server
events that followed it are held until that counterpart has arrived.

`--strict` is rtrec/replay/strict.py.
"""

from __future__ import annotations

from collections import deque

from rtrec.replay.strict import BINARY, MAX_REASON_BYTES, NOT_JSON, STRICT_EXTRA, STRICT_MISMATCH

__all__ = ["BINARY", "NOT_JSON", "STRICT_EXTRA", "STRICT_MISMATCH", "ClientCues", "close_reason"]


class ClientCues:
    """Arrival times of the live client's events, per type, until the replay uses them."""

    def __init__(self) -> None:
        self._unused: dict[str | None, deque[int]] = {}

    def arrived(self, event_type: str | None, at_ns: int) -> None:
        self._unused.setdefault(event_type, deque()).append(at_ns)

    def take(self, event_type: str | None) -> int | None:
        """When the counterpart of the next recorded event of this type arrived, if it has."""
        waiting = self._unused.get(event_type)
        if not waiting:
            return None
        return waiting.popleft()


def close_reason(text: str) -> str:
    """`text` cut to what a close frame can carry, on a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= MAX_REASON_BYTES:
        return text
    return data[: MAX_REASON_BYTES - 3].decode("utf-8", "ignore") + "..."
