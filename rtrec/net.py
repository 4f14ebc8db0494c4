"""Network addresses and connections: which hosts are this machine, why one was unreachable."""

from __future__ import annotations

import ipaddress
import ssl

from websockets.exceptions import InvalidHandshake, InvalidURI

# What opening a WebSocket connection raises when the peer cannot be reached at all
# (a refusal with an HTTP status is InvalidStatus, handled on its own).
UNREACHABLE = (OSError, TimeoutError, InvalidHandshake, InvalidURI, ssl.SSLError)


def is_loopback_host(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: nothing leaves this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def unreachable_reason(exc: BaseException) -> str:
    """`ConnectionRefusedError: [Errno 111] …`, or just the name for a silent error."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
