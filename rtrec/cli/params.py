"""Click parameter types for rtrec's flags, which refuse a bad value as rtrec words it.

Every refusal reads `bad --FLAG 'VALUE': what was expected`, one line (see
rtrec/cli/main.py), whichever command and type it comes from.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

T = TypeVar("T")
DEFAULT_HOST = "127.0.0.1"


def flag_name(param: click.Parameter | None) -> str:
    """The parameter as the user spells it: its long flag, else its name."""
    if param is None:
        return "value"
    long = [opt for opt in param.opts if opt.startswith("--")]
    return long[0] if long else (param.opts[0] if param.opts else param.human_readable_name)


class FlagError(click.BadParameter):
    """A flag's value refused: `bad --FLAG 'VALUE': reason`, or `bad --FLAG: reason`
    when the reason quotes the value itself."""

    def __init__(
        self,
        reason: str,
        value: object = None,
        ctx: click.Context | None = None,
        param: click.Parameter | None = None,
    ) -> None:
        super().__init__(reason, ctx=ctx, param=param)
        self.reason = reason
        self.value = value

    def format_message(self) -> str:
        shown = f" {self.value!r}" if self.value is not None else ""
        return f"bad {flag_name(self.param)}{shown}: {self.reason}"


def parse_host_port(text: str) -> tuple[str, int]:
    """HOST:PORT, [IPv6]:PORT, :PORT or PORT (host 127.0.0.1); ValueError says what is wrong."""
    text = text.strip()
    host, port_text = DEFAULT_HOST, text
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or text[end + 1 : end + 2] != ":":
            raise ValueError("expected [IPV6]:PORT")
        host, port_text = text[1:end], text[end + 2 :]
    elif ":" in text:
        host, _, port_text = text.rpartition(":")
        host = host or DEFAULT_HOST
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError("expected HOST:PORT with a port 0-65535")
    return host, int(port_text)


class HostPort(click.ParamType):
    """An address to listen on: HOST:PORT, [IPv6]:PORT, :PORT or PORT (host 127.0.0.1)."""

    name = "HOST:PORT"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, int]:
        if isinstance(value, tuple):
            return value  # already converted (a default given as a pair)
        try:
            return parse_host_port(str(value))
        except ValueError as exc:
            raise FlagError(str(exc), value, ctx, param) from None


class Number(click.FloatRange):
    """A finite number in a range; its refusal says the range.

    `low=0` means "more than 0" (open), any other low bound is inclusive.
    """

    name = "number"

    def __init__(self, high: float, low: float = 0.0) -> None:
        super().__init__(min=low, max=high, min_open=low == 0)
        self.high = high
        self.low = low

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        expected = (
            f"from {self.low:g} to {self.high:g}" if self.low else f"> 0, at most {self.high:g}"
        )
        try:
            number = super().convert(value, param, ctx)
        except click.BadParameter:
            number = math.nan
        if not math.isfinite(number):
            raise FlagError(f"expected a number {expected}", value, ctx, param)
        return number


class OneOf(click.Choice):
    """One of a few words, in any case; refused as `expected A or B`."""

    def __init__(self, choices: Sequence[str]) -> None:
        super().__init__(choices, case_sensitive=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(str(value).strip(), param, ctx)
        except click.BadParameter:
            words = [str(c) for c in self.choices]
            expected = ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]
            raise FlagError(f"expected {expected}", value, ctx, param) from None


def parsed_by(
    parse: Callable[[str], T], errors: type[Exception] | tuple[type[Exception], ...]
) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A click callback that parses a flag's value (each value, for a repeatable flag) with
    `parse`, refusing it with the message of `errors`, which quotes the value itself."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is None:
            return None
        try:
            return parse(value)
        except errors as exc:
            raise FlagError(str(exc), None, ctx, param) from exc

    return callback
