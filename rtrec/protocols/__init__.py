"""The protocol layer: one adapter per family of realtime voice protocols.

    realtime  OpenAI Realtime API, GA and beta (Azure OpenAI, xAI and compatibles)
    live      OpenAI GPT-Live (/v1/live/sessions)
    gemini    Google Gemini Live (BidiGenerateContent)

Every reader (the projector, show, sessions, the terminal replay, export-wav, the
live status line) asks the session's adapter; none tests event names itself.  The
adapters are pure (no asyncio, aiosqlite or websockets) and are imported on first
use, so that importing one reader does not load every protocol.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rtrec.protocols.base import Adapter
    from rtrec.protocols.parsing import Json

DEFAULT_PROTOCOL = "realtime"
# Name → the module that defines its ADAPTER; the order is the order of recognition.
_MODULES = {
    "live": "rtrec.protocols.live.adapter",
    "gemini": "rtrec.protocols.gemini.adapter",
    "realtime": "rtrec.protocols.realtime.adapter",
}
_loaded: dict[str, Adapter] = {}


def protocol_names() -> list[str]:
    return [name for name in _MODULES if _available(name)]


def _available(name: str) -> bool:
    try:
        adapter_named(name)
    except ImportError:
        return False
    return True


def adapter_named(name: str | None) -> Adapter:
    """The adapter of a protocol name (the default, Realtime, for None or unknown names)."""
    key = name if name in _MODULES else DEFAULT_PROTOCOL
    adapter = _loaded.get(key)
    if adapter is None:
        adapter = _loaded[key] = importlib.import_module(_MODULES[key]).ADAPTER
    return adapter


def protocol_of_path(path: str | None) -> str | None:
    """The protocol whose endpoint a request path is, or None if no adapter claims it."""
    if not path:
        return None
    for name in protocol_names():
        if adapter_named(name).claims_path(path):
            return name
    return None


def protocol_of_frames(frames: Iterable[tuple[str, str | bytes]]) -> str:
    """The protocol of a session from its first (direction, frame)s: the first JSON object.

    A first object no adapter claims is Realtime's (its events are the default).  A
    binary frame counts when it holds a JSON object (Gemini's server sends them so).
    """
    from rtrec.protocols.parsing import parse_object

    for direction, frame in frames:
        obj = parse_object(frame)
        if obj is None:
            continue
        return protocol_of_object(direction, obj)
    return DEFAULT_PROTOCOL


def protocol_of_object(direction: str, obj: Json) -> str:
    for name in protocol_names():
        if adapter_named(name).claims_frame(direction, obj):
            return name
    return DEFAULT_PROTOCOL


def direction_of_object(obj: Json) -> str | None:
    """The side that sends an event object, by any family's names; None if none knows it.

    For imports of bare events, whose session's protocol is not known yet.
    """
    for name in protocol_names():
        direction = adapter_named(name).direction_of_object(obj)
        if direction is not None:
            return direction
    return None
