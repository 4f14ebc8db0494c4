"""What the mock server learns from the connected client.  Pure: no I/O.

`ClientCues` serves `--pace client`: the recorded client event that is the k-th of
its type is matched by the live client's k-th event of that type, and the server
events that followed it are held until that counterpart has arrived.

`strict_mismatch` serves `--strict`: the live client's events must have the
recorded client events' types, in the recorded order.
"""

from __future__ import annotations

from collections import deque

# Close codes of --strict (4000-4999 is the range RFC 6455 leaves to applications).
STRICT_MISMATCH = 4001  # the client sent a different event than the recording has next
STRICT_EXTRA = 4002  # the client sent an event after the recording's last client event
MAX_REASON_BYTES = 123  # a close frame's reason must fit in 123 bytes of UTF-8

NOT_JSON = "(not JSON)"
BINARY = "(binary frame)"


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


def describe_type(event_type: str | None, binary: bool = False) -> str:
    if binary:
        return BINARY
    return event_type if event_type is not None else NOT_JSON


def strict_mismatch(
    expected: str | None, received: str | None, index: int, *, exhausted: bool = False
) -> tuple[int, str] | None:
    """(close code, reason) when the client's `index`-th event (0-based) breaks the recording.

    `received` is the type as `describe_type` gives it; `exhausted` means the
    recording has no client event left to match.
    """
    if exhausted:
        reason = f"rtrec strict: expected no more client events, received {received}"
        return STRICT_EXTRA, close_reason(reason)
    if describe_type(expected) == received:
        return None
    reason = (
        f"rtrec strict: client event #{index + 1}: expected {describe_type(expected)}, "
        f"received {received}"
    )
    return STRICT_MISMATCH, close_reason(reason)


def close_reason(text: str) -> str:
    """`text` cut to what a close frame can carry, on a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= MAX_REASON_BYTES:
        return text
    return data[: MAX_REASON_BYTES - 3].decode("utf-8", "ignore") + "..."
