"""The simulated GPT-Live server's ids and JSON, as the real server writes them.  Pure."""

from __future__ import annotations

import base64
import json
import secrets
import string
from typing import Any

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 21) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encode_event(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)
