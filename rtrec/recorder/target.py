"""The client's request target: only an origin-form path and query may pass upstream.

A client chooses the path and query of its upstream request, nothing else: the
scheme, host and port come from `--upstream` or the routing table.  A target that is
not origin-form (a single leading `/`) could otherwise steer the relay elsewhere:
`@evil:80/v1/realtime` turns the configured origin into userinfo when strings are
joined, `//evil/…` is a network-path reference, `http://evil/…` is absolute-form.
Refused too, because servers and proxies disagree about what they mean: a
backslash, `#`, control characters (CR, LF, NUL, TAB), raw spaces, anything outside
printable ASCII, malformed `%` escapes, and in the path `.`/`..` segments (also
percent-encoded) and encoded `/`, `\\` or NUL, which path normalisation upstream
could turn into another endpoint of the same host.  Pure: no I/O.
"""

from __future__ import annotations

import re

# Printable ASCII, less what has no business in a request target.
_ALLOWED = frozenset(chr(c) for c in range(0x21, 0x7F)) - set('\\#"<>')
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ENCODED_IN_PATH = re.compile(r"%(2[fF]|5[cC]|00)")
_DOT_SEGMENT = re.compile(r"^(\.|%2[eE]){1,2}$")


class BadTarget(ValueError):
    """Why a request target is refused (the message is shown to the client)."""


def split_origin_form(target: str) -> tuple[str, str]:
    """(path, query) of an origin-form request target; BadTarget saying why it is not."""
    if not target.startswith("/"):
        raise BadTarget(f"the request target must be a path starting with '/', not {_kind(target)}")
    if target.startswith("//"):
        raise BadTarget("the request target must not start with '//'")
    bad = next((c for c in target if c not in _ALLOWED), None)
    if bad is not None:
        raise BadTarget(f"the request target contains {_describe(bad)}")
    if _BAD_ESCAPE.search(target):
        raise BadTarget("the request target has a '%' that is not followed by two hex digits")
    path, _, query = target.partition("?")
    if _ENCODED_IN_PATH.search(path):
        raise BadTarget("the request path contains an encoded '/', '\\' or NUL")
    if any(_DOT_SEGMENT.match(segment) for segment in path.split("/")):
        raise BadTarget("the request path contains a '.' or '..' segment")
    return path, query


def _kind(target: str) -> str:
    if not target:
        return "nothing"
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", target):
        return "an absolute URL"
    if target == "*":
        return "'*'"
    return f"{target[:40]!r}"


def _describe(char: str) -> str:
    names = {" ": "a space", "\r": "a CR", "\n": "an LF", "\0": "a NUL", "\t": "a tab"}
    if char in names:
        return names[char]
    if char in '\\#"<>':
        return f"{char!r}"
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # how the HTTP parser keeps a non-ASCII byte
        return f"the byte 0x{code - 0xDC00:02x}"
    return f"the character U+{code:04X}"
