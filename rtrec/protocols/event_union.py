"""A family's event model as one tagged union of msgspec Structs: decoding, salvage, tags.

OpenAI's two families (Realtime, GPT-Live) type every event by a `type` field; each
defines its events as Structs tagged with it, under one base class, the client's under
a `ClientEvent` base.  `EventUnion` derives the rest from those Structs: the classes,
the types (all, and the client's), the decoder, and the projector's row decoder, which
salvages a known type with an unexpected shape by lax conversion.  Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, Union

import msgspec

from rtrec.projector.event_row import EventRow
from rtrec.protocols.parsing import UNPARSABLE

E = TypeVar("E", bound=msgspec.Struct)
T = TypeVar("T")


class UnknownEvent(msgspec.Struct):
    """A frame the union does not interpret: an unknown type, or an unexpected shape."""

    type: str | None
    data: Any
    reason: str


def tag_of(cls: type[msgspec.Struct]) -> str | None:
    """The tag a Struct class is decoded by; None for a base that has none of its own
    (one without `tag=`, which msgspec tags by its class name, or one with tag=False)."""
    tag = cls.__struct_config__.tag
    return tag if isinstance(tag, str) and tag != cls.__name__ else None


def _tagged(base: type[E]) -> list[type[E]]:
    found: list[type[E]] = []
    pending = [base]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            pending.append(sub)
            if tag_of(sub) is not None:
                found.append(sub)
    return found


class EventUnion(Generic[E]):
    """Every tagged subclass of `base`, decoded as one union."""

    def __init__(self, base: type[E], client_base: type[E]) -> None:
        self.classes: tuple[type[E], ...] = tuple(_tagged(base))
        self.by_type: dict[str, type[E]] = {}
        for cls in self.classes:
            tag = tag_of(cls)
            assert tag is not None
            self.by_type[tag] = cls
        self.types: frozenset[str] = frozenset(self.by_type)
        self.client_types: frozenset[str] = frozenset(
            tag for tag, cls in self.by_type.items() if issubclass(cls, client_base)
        )
        self._decoder = msgspec.json.Decoder(Union[self.classes])  # noqa: UP007

    def decode(self, frame: str | bytes) -> E | UnknownEvent | None:
        """The interpreted event of a text frame; None if the frame is not JSON."""
        try:
            event: E = self._decoder.decode(frame)
            return event
        except msgspec.ValidationError as exc:
            failure = str(exc)
        except UNPARSABLE:
            return None
        try:
            data = msgspec.json.decode(frame)
        except UNPARSABLE:
            return None
        kind = data.get("type") if isinstance(data, dict) else None
        if not isinstance(kind, str):
            return UnknownEvent(None, data, "no type")
        if kind in self.types:
            return UnknownEvent(kind, data, f"unexpected shape: {failure}")
        return UnknownEvent(kind, data, "unknown type")

    def decode_row(self, row: EventRow) -> E | None:
        """The row's event; None if it cannot be read (the projector counts it malformed)."""
        frame = row.frame
        event = self.decode(frame) if frame is not None else None
        if isinstance(event, UnknownEvent):
            return self._salvage(event)
        return event

    def _salvage(self, event: UnknownEvent) -> E | None:
        """A known type with an unexpected shape: accept what lax conversion can read."""
        cls = self.by_type.get(event.type or "")
        if cls is None or not isinstance(event.data, dict):
            return None
        try:
            return msgspec.convert(event.data, cls, strict=False)
        except (msgspec.ValidationError, RecursionError):
            return None

    def row_decoder(self, cls: type[T]) -> Callable[[EventRow], T | None]:
        """`decode_row` for the handler of `cls`'s type, typed as what that handler takes."""
        return decoding_as(self.decode_row, cls)


def decoding_as(
    decode: Callable[[EventRow], object], cls: type[T]
) -> Callable[[EventRow], T | None]:
    """A row decoder that answers only with a `cls` (None, malformed, for anything else)."""

    def decode_as(row: EventRow) -> T | None:
        event = decode(row)
        return event if isinstance(event, cls) else None

    return decode_as
