"""Which part of a session a replay plays: --from/--until, --only, --type.  Pure: no I/O.

Bounds are times or sequence numbers, both inclusive:

    12.5  12.5s  1:02.5  1:02:03.5   seconds since the session started
    #120                             the event with sequence number 120

`--from T` starts at the first event recorded at or after T; `--until T` ends with the
last event before the first one recorded after T.  Type patterns are globs (`*`, `?`,
`[...]`) matched against the event type; a pattern without a wildcard also matches
every type it is a dotted prefix of (`response` matches `response.done`).  A pattern
starting with `!` excludes.  Frames without a type (binary, not JSON) match only `*`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from rtrec.replay.timeline import NS_PER_S
from rtrec.store.paging import NO_END

DIRECTIONS = ("client", "server")
_WILDCARDS = frozenset("*?[")


class SelectionError(ValueError):
    """A bound or pattern that cannot be parsed; the message says what is expected."""


@dataclass(frozen=True)
class Bound:
    """A point in a session: a recorded time (ns) or a sequence number."""

    t_ns: int | None = None
    seq: int | None = None

    @classmethod
    def parse(cls, text: str) -> Bound:
        value = text.strip()
        if value.startswith("#"):
            digits = value[1:].strip()
            if not digits.isdigit():
                raise SelectionError(f"{text!r}: expected #SEQ with a whole number, e.g. #120")
            return cls(seq=min(int(digits), NO_END))  # further out: after everything
        return cls(t_ns=_parse_seconds(text))

    def __str__(self) -> str:
        if self.seq is not None:
            return f"#{self.seq}"
        assert self.t_ns is not None
        return f"{self.t_ns / NS_PER_S:g}s"


def _parse_seconds(text: str) -> int:
    value = text.strip().removesuffix("s")
    parts = value.split(":")
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise SelectionError(_bound_help(text))
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise SelectionError(_bound_help(text)) from None
    seconds = 0.0
    for number in numbers:
        seconds = seconds * 60 + number
    if not math.isfinite(seconds) or seconds < 0 or any(n < 0 for n in numbers):
        raise SelectionError(_bound_help(text))
    if len(numbers) > 1 and numbers[-1] >= 60:
        raise SelectionError(_bound_help(text))
    return min(round(seconds * NS_PER_S), NO_END) if seconds < NO_END / NS_PER_S else NO_END


def _bound_help(text: str) -> str:
    return f"{text!r}: expected seconds (12.5, 12.5s, 1:02.5) or a sequence number (#120)"


@dataclass(frozen=True)
class TypeFilter:
    """Event type patterns: included if any include matches (or none given) and no exclude."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def parse(cls, patterns: Iterable[str]) -> TypeFilter:
        include: list[str] = []
        exclude: list[str] = []
        for given in patterns:
            for piece in given.split(","):
                pattern = piece.strip()
                negated = pattern.startswith("!")
                pattern = pattern.removeprefix("!").strip()
                if not pattern:
                    raise SelectionError(f"empty event type pattern in {given!r}")
                (exclude if negated else include).append(pattern)
        return cls(tuple(include), tuple(exclude))

    @property
    def everything(self) -> bool:
        return not self.include and not self.exclude

    def accepts(self, event_type: str | None) -> bool:
        if self.everything:
            return True
        name = event_type or ""
        if self.include and not any(_matches(name, p) for p in self.include):
            return False
        return not any(_matches(name, p) for p in self.exclude)


def _matches(name: str, pattern: str) -> bool:
    if _WILDCARDS.isdisjoint(pattern):
        return bool(name) and (name == pattern or name.startswith(pattern + "."))
    return fnmatchcase(name, pattern)


@dataclass(frozen=True)
class Selection:
    """The part of a session to replay."""

    start: Bound | None = None
    end: Bound | None = None
    only: str | None = None  # a direction, or None for both
    types: TypeFilter = field(default_factory=TypeFilter)

    def __post_init__(self) -> None:
        if self.only is not None and self.only not in DIRECTIONS:
            raise SelectionError(f"{self.only!r}: expected client or server")

    def accepts(self, direction: str, event_type: str | None) -> bool:
        if self.only is not None and direction != self.only:
            return False
        return self.types.accepts(event_type)
